"""Golden: the response-time report counts an email, a completed call and a logged activity as the
lead's response, each at its own time (the email when it was sent, the call when the customer
picked up, the activity at the `at` it was logged for), and a call nobody answered as none — on both
report paths: the rollups the table stream feeds, and the recomputation from the report events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from chalicelib.clock import iso
from tests.integration.conversations_support import drain, lead, sent, store, twilio_post
from tests.integration.reports_support import reading
from tests.support import World

PERIOD = "from=2026-11-02&to=2026-11-02"


@pytest.fixture(params=["rollups", "events"])
def report_source(request: pytest.FixtureRequest, world: World) -> Iterator[str]:
    with reading(world, request.param):
        yield request.param


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _call_status(world: World, url: str, sid: str, status: str, **more: str) -> None:
    reply = twilio_post(world, _path(url), {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "CallStatus": status,
                                            **more})
    assert reply.status == 204, reply.json


def test_calls_emails_and_logged_activities_are_responses(world: World, report_source: str) -> None:
    s = store(world)
    start = world.clock.now()
    assert world.patch("/me", s.agent_token, {"phone": "+13125550111"}).status == 200
    by_email = lead(world, s, phone=None, first_name="Eve", email="eve@example.com")
    by_call = lead(world, s, phone="+13125550181", first_name="Cal")
    by_visit = lead(world, s, phone="+13125550182", first_name="Val")
    unanswered = lead(world, s, phone="+13125550183", first_name="Una")

    world.clock.set(iso(start + timedelta(seconds=120)))
    mailed = world.post(f"/leads/{by_email.lead_id}/messages", s.agent_token, {"body": "Hi Eve"})
    assert mailed.status == 202, mailed.json
    drain(world, "outbox")

    world.clock.set(iso(start + timedelta(seconds=300)))
    for lead_id in (by_call.lead_id, unanswered.lead_id):
        assert world.post(f"/leads/{lead_id}/call", s.agent_token).status == 202
    calls = {x["customer"]: x for x in sent(world, s) if x["channel"] == "voice"}
    answered, missed = calls["+13125550181"], calls["+13125550183"]
    voice = twilio_post(world, _path(answered["answer_url"]), {"CallSid": answered["provider_id"],
                                                              "CallStatus": "in-progress"})
    customer_url = voice.body.decode().split('statusCallback="')[1].split('"')[0].replace("&amp;", "&")
    _call_status(world, answered["status_url"], answered["provider_id"], "in-progress")
    _call_status(world, customer_url, "CA" + "2" * 32, "in-progress")
    world.clock.set(iso(start + timedelta(seconds=390)))
    _call_status(world, customer_url, "CA" + "2" * 32, "completed", CallDuration="90")
    _call_status(world, answered["status_url"], answered["provider_id"], "completed", CallDuration="95")
    # The agent's phone rang out: no conversation, no response.
    _call_status(world, missed["status_url"], missed["provider_id"], "no-answer")

    world.clock.set(iso(start + timedelta(seconds=1800)))
    logged = world.post(f"/leads/{by_visit.lead_id}/activities", s.agent_token,
                        {"kind": "visit", "note": "Came by the showroom", "at": iso(start + timedelta(seconds=600))})
    assert logged.status == 201, logged.json

    report = world.get(f"/reports/response-time?account_id={s.account_id}&{PERIOD}&group_by=agent",
                       world.token(s.tenant.admin_id))
    assert report.status == 200, report.json
    totals = report.json["totals"]
    # 120 s (email), 300 s (the call, from the customer's pick-up), 600 s (the visit); Una none
    assert (totals["leads"], totals["responded"]) == (4, 3)
    assert (totals["mean_s"], totals["median_s"]) == (340.0, 300.0)
