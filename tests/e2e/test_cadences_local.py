"""The assistant on the local stack, over real HTTP with the real clock and one stack for three
leads at once: a 3-step cadence with second-scale delays sends its first touch within 2 s of the
lead's arrival and its second step on time, and stops when the customer answers by SMS; a second
lead gets every step and finishes; a third is stopped by a manager and resumed, then finishes.

Quiet hours hold automated messages outside 08:00-21:00 in the customer's zone: the store's zone
is one where it is early afternoon now, and the customers have toll-free numbers (an area spanning
many zones says nothing, so the store's zone decides)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from chalicelib.clock import parse_time
from chalicelib.domain.signatures import twilio_signature
from tests.e2e.conftest import StackProcess, routed_store, wait_for

pytestmark = pytest.mark.e2e

STORE_NUMBER = "+13125550100"
DELAYS = (0, 3, 4)  # seconds: the first touch at once, then two follow-ups
FIRST_TOUCH_LIMIT = 2.0
LATE_LIMIT = 2.0  # a follow-up goes within this long after its due time (never before)


def afternoon_zone() -> str:
    """A fixed-offset IANA zone where it is 14:xx now (Etc/GMT-N is UTC+N)."""
    offset = (14 - datetime.now(UTC).hour + 12) % 24 - 12
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def sms(stack: StackProcess, sender: str, body: str, sid: str) -> requests.Response:
    url = stack.url + "/webhooks/twilio/sms"
    params = {"MessageSid": sid, "From": sender, "To": STORE_NUMBER, "Body": body, "NumMedia": "0"}
    signature = twilio_signature("dev-twilio-token", url, {k: [v] for k, v in params.items()})
    return requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)


def test_the_assistant_writes_on_time_stops_on_a_reply_finishes_and_resumes(stack_factory: Any) -> None:
    stack = stack_factory().start()
    store = routed_store(stack, "assistant-motors.com", 600, sms_number=STORE_NUMBER, timezone=afternoon_zone())
    http = store.http
    steps = [{"after_seconds": d, "phase": "first_touch" if i == 0 else "follow_up", "channel": "auto",
              "body": f"Step {i + 1} for {{{{lead.first_name}}}} from {{{{assistant.name}}}}"}
             for i, d in enumerate(DELAYS)]
    cadence = http("POST", f"/accounts/{store.account_id}/cadences", {
        "name": "Speed to lead", "enroll": "new_lead", "assistant_name": "Ava", "steps": steps})
    assert cadence.status_code == 201, cadence.text

    phones = {"replies": "+18005550101", "finishes": "+18005550102", "paused": "+18005550103"}
    leads: dict[str, dict[str, Any]] = {}
    for who, phone in phones.items():
        made = http("POST", f"/accounts/{store.account_id}/leads", {
            "first_name": who.title(), "phone": phone, "source": "Web", "channel": "web"})
        assert made.status_code == 201, made.text
        assert made.json()["cadence"]["state"] == "active"
        leads[who] = made.json()

    def steps_of(who: str) -> list[dict[str, Any]]:
        items = http("GET", f"/leads/{leads[who]['lead_id']}/timeline").json()["items"]
        return [e for e in items if e["type"] == "message" and e.get("cadence_id")]

    def handed_over(who: str, count: int) -> list[dict[str, Any]] | None:
        found = [m for m in steps_of(who) if m["status"] in ("sent", "delivered")]
        return found if len(found) >= count else None

    def enrolment(who: str) -> dict[str, Any]:
        return dict(http("GET", f"/leads/{leads[who]['lead_id']}").json()["cadence"])

    # The first touch of every lead within 2 s of its arrival.
    for who in phones:
        [first] = wait_for(lambda w=who: handed_over(w, 1), 10, f"{who}'s first touch")
        handed = first.get("delivered_at") or first.get("sent_at")
        late = (parse_time(handed) - parse_time(leads[who]["created_at"])).total_seconds()
        assert late <= FIRST_TOUCH_LIMIT, f"{who}'s first touch went {late:.2f} s after the lead arrived"
        assert first["body"] == f"Step 1 for {who.title()} from Ava" and first["automated"] is True

    # A manager stops the third lead's messaging before its second step is due.
    stopped = http("POST", f"/leads/{leads['paused']['lead_id']}/stop-messaging")
    assert stopped.status_code == 200 and stopped.json()["cadence"]["stop_reason"] == "stopped_by_staff"

    # The second step on time: never before its delay after the first, at most 2 s after.
    for who in ("replies", "finishes"):
        first, second = wait_for(lambda w=who: handed_over(w, 2), 15, f"{who}'s second step")[:2]
        gap = (parse_time(second["at"]) - parse_time(first["at"])).total_seconds()
        assert DELAYS[1] <= gap <= DELAYS[1] + LATE_LIMIT, f"{who}'s second step came {gap:.2f} s after the first"

    # The customer answers: the assistant stops and the lead waits for a person.
    assert sms(stack, phones["replies"], "Yes, can I come by at 5?", "SM" + "7" * 32).status_code == 200
    after_reply = enrolment("replies")
    assert (after_reply["state"], after_reply["stop_reason"]) == ("stopped", "replied")

    # The second lead gets every step and finishes.
    wait_for(lambda: handed_over("finishes", 3), 15, "the last step")
    assert (enrolment("finishes")["state"], enrolment("finishes")["stop_reason"]) == ("finished", "finished")

    # Past the third step's time, the lead that replied got nothing more and the paused one nothing at all.
    time.sleep(max(0.0, DELAYS[2] + LATE_LIMIT - 1))
    assert len(steps_of("replies")) == 2
    assert [m["step"] for m in steps_of("paused")] == [0]

    # Resumed, the paused lead goes on from its second step and finishes.
    resumed = http("POST", f"/leads/{leads['paused']['lead_id']}/resume-messaging")
    assert resumed.status_code == 200 and resumed.json()["cadence"]["state"] == "active"
    wait_for(lambda: handed_over("paused", 3), 20, "the resumed lead's last step")
    assert enrolment("paused")["state"] == "finished"
    assert [m["step"] for m in steps_of("paused")] == [0, 1, 2]
    assert "Traceback" not in stack.logs()
