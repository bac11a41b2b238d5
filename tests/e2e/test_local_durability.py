"""A crash loses nothing that was acknowledged: leads are created at a steady pace, SMS arrive
(from known and from new contacts, the latter through the inbound queue), agents send replies
(through the outbox queue), and the stack is killed with SIGKILL in the middle of it. After a
restart every acknowledged lead and message is there, every offer timer that was pending
at the kill still fires, from its own queue message (not the every-minute sweep's stand-in),
and the report rollups equal the recomputation from the raw report events."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
import requests

from chalicelib.clock import parse_time
from chalicelib.domain.signatures import twilio_signature
from tests.e2e.conftest import Http, StackProcess, cli, routed_store, wait_for

pytestmark = pytest.mark.e2e

STORE_NUMBER = "+13125550100"
OFFER_TIMEOUT_SECONDS = 12
PACE_SECONDS = 0.1
TIMERS_SECONDS = 90  # generous: on a loaded 2-core machine the restart alone can take 20 s


@dataclass
class Acknowledged:
    leads: dict[str, str] = field(default_factory=dict)  # lead_id -> phone
    inbound: list[tuple[str, str]] = field(default_factory=list)  # (lead_id, body) from a known contact
    new_contacts: list[tuple[str, str]] = field(default_factory=list)  # (phone, body) queued as a new lead
    outbound: dict[str, tuple[str, str]] = field(default_factory=dict)  # message_id -> (lead_id, status)


def sms(stack: StackProcess, sender: str, body: str, sid: str) -> requests.Response:
    url = stack.url + "/webhooks/twilio/sms"
    params = {"MessageSid": sid, "From": sender, "To": STORE_NUMBER, "Body": body, "NumMedia": "0"}
    signature = twilio_signature("dev-twilio-token", url, {k: [v] for k, v in params.items()})
    return requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)


def stream(stack: StackProcess, http: Http, account_id: str, agent_token: str, acked: Acknowledged,
           stop: threading.Event) -> None:
    """One write at a time, every PACE_SECONDS, recording only what was answered with success."""
    step = 0
    while not stop.is_set():
        step += 1
        try:
            if step % 4 == 1:
                phone = f"+1312555{2000 + step:04d}"
                made = http("POST", f"/accounts/{account_id}/leads", {
                    "first_name": f"Buyer{step}", "phone": phone, "email": f"buyer{step}@mail-example.com",
                    "source": "Web", "channel": "web"})
                if made.status_code == 201:
                    acked.leads[made.json()["lead_id"]] = phone
            elif step % 4 == 2 and acked.leads:
                lead_id, phone = list(acked.leads.items())[-1]
                if sms(stack, phone, f"known contact says {step}", f"SM{step:032d}").status_code == 200:
                    acked.inbound.append((lead_id, f"known contact says {step}"))
            elif step % 4 == 3:
                phone, body = f"+1312556{3000 + step:04d}", f"new contact says {step}"
                if sms(stack, phone, body, f"SM{step:032d}").status_code == 200:
                    acked.new_contacts.append((phone, body))
            elif acked.leads:
                lead_id = list(acked.leads)[-1]
                sent = http("POST", f"/leads/{lead_id}/messages", {"body": f"reply {step}"}, token=agent_token)
                if sent.status_code == 202:
                    acked.outbound[sent.json()["message_id"]] = (lead_id, sent.json()["status"])
        except requests.RequestException:
            pass  # the stack is down: not acknowledged, nothing to find later
        stop.wait(PACE_SECONDS)


def test_kill_9_mid_stream_loses_no_acknowledged_lead_message_or_timer(stack_factory: Any) -> None:
    stack = stack_factory().start()
    store = routed_store(stack, "crash-motors.com", OFFER_TIMEOUT_SECONDS, sms_number=STORE_NUMBER)
    http, account_id, agents = store.http, store.account_id, store.agents

    def offers() -> dict[str, tuple[str, float]]:
        """lead_id -> (offer_id, when it expires)"""
        return {o["lead_id"]: (o["offer_id"], parse_time(o["expires_at"]).timestamp()) for token in agents.values()
                for o in http("GET", "/me/offers", token=token).json()["items"]}

    acked, stop = Acknowledged(), threading.Event()
    writer = threading.Thread(target=stream, args=(stack, http, account_id, next(iter(agents.values())), acked, stop))
    writer.start()
    try:
        wait_for(lambda: len(acked.leads) >= 5 and acked.inbound and acked.new_contacts and acked.outbound,
                 180, "five leads and every kind of message acknowledged")
        pending = offers()
        stack.kill()  # mid-stream: the writer is still sending
        killed_at = time.time()
    finally:
        stop.set()
        writer.join()
    pending = {lead: offer for lead, offer in pending.items() if offer[1] > killed_at}
    assert pending, "no offer timer was pending at the kill"

    stack.start()
    ready_at = time.time()
    for lead_id, phone in acked.leads.items():
        lead = http("GET", f"/leads/{lead_id}")
        assert lead.status_code == 200, f"acknowledged lead {lead_id} is lost"
        assert lead.json()["phone"] == phone

    def timeline(lead_id: str) -> list[dict[str, Any]]:
        return list(http("GET", f"/leads/{lead_id}/timeline").json()["items"])

    for lead_id, body in acked.inbound:
        assert any(e.get("body") == body and e.get("direction") == "inbound" for e in timeline(lead_id)), body
    for phone, body in acked.new_contacts:  # made and routed by the webhook before it answered
        found = wait_for(lambda p=phone: http("GET", f"/leads?account_id={account_id}&q={p}").json()["items"],
                         max(5.0, ready_at + 80 - time.time()), f"the lead for the SMS from new contact {phone}")
        assert any(e.get("body") == body for e in timeline(found[0]["lead_id"])), body
    for message_id, (lead_id, _) in acked.outbound.items():
        kept = [e for e in timeline(lead_id) if e.get("message_id") == message_id]
        assert kept and kept[0]["status"] in ("queued", "scheduled", "sent", "delivered"), message_id

    def fired_at(offer_id: str) -> float | None:
        """When the timers queue's consumer handled the offer's expiry (its log line says so; the
        every-minute due sweep, the product's backstop for lost timer messages, logs apart)."""
        for line in (stack.output() + stack.logs()).splitlines():
            if line.startswith("{") and '"timer handled"' in line:
                record = json.loads(line)
                if record.get("offer_id") == offer_id and record.get("outcome") == "timed_out":
                    return datetime.strptime(record["timestamp"], "%Y-%m-%d %H:%M:%S,%f%z").timestamp()
        return None

    for lead_id, (offer_id, expires) in pending.items():
        fired = wait_for(lambda o=offer_id: fired_at(o), max(5.0, ready_at + TIMERS_SECONDS - time.time()),
                         f"the timer of offer {offer_id} (lead {lead_id}), pending at the kill")
        assert fired >= expires - 0.5, f"the timer of lead {lead_id} fired {expires - fired:.1f} s early"
        # The lead moved on: offered to the other agent, or delinquent after the last one.
        assert all(o != offer_id for o, _ in offers().values())
        assert http("GET", f"/leads/{lead_id}").json()["routing_state"] in ("offered", "delinquent")

    # Report events whose stream records the kill caught before the consumer took them are in
    # the rollups too: the restarted stack makes those records again (leadline/local/streams.py).
    said: list[str] = []

    def rollups_agree() -> bool:
        done = cli(stack.home, "report", "verify", "--account", account_id)
        said[:] = [done.stdout + done.stderr[-2000:]]
        return done.returncode == 0

    try:
        wait_for(rollups_agree, max(10.0, ready_at + TIMERS_SECONDS + 30 - time.time()),
                 "the dashboard from the rollups equal to the recomputation (report_source=events)")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{said[0] if said else ''}") from None
