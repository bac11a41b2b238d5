"""Follow-through on fakes: an owner's response deadline warns them, then alerts the managers or takes
the lead to the next agent; an answer in time stops both; stale, repeated and lost timers change
nothing twice; a customer's message alerts the owner and starts a reply deadline; delinquent leads
are offered again when an agent turns available or the store opens."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from chalicelib.domain.inbound import InboundMessage
from chalicelib.domain.targets import ResponseTargets
from chalicelib.domain.users import NotifyPreferences
from chalicelib.schemas.queues import DeliverNotification, Timer
from chalicelib.schemas.tenancy import UpdateMeRequest
from chalicelib.services import due, inbound, messaging, routing, users
from chalicelib.services.notifications import deliver_notification
from tests.unit.services.shop import STORE_NUMBER, Shop, shop

TIMERS = TypeAdapter(Timer)


def _targets(**fields: Any) -> ResponseTargets:
    values: dict[str, Any] = {"first_response_seconds": 300, "reply_seconds": 120, "warn_before_seconds": 60,
                              "on_miss": "notify_managers", **fields}
    return ResponseTargets.model_validate(values)


def _owned(s: Shop, agent: int = 0, **fields: Any) -> str:
    """A new lead offered to the first agent and accepted by `agent` (declines in between)."""
    lead = s.lead(**fields)
    for declining in s.agents[:agent]:
        routing.decline_offer(s.deps, declining.caller(), _pending(s, lead.lead_id), "busy")
    routing.accept_offer(s.deps, s.agents[agent].caller(), _pending(s, lead.lead_id))
    return lead.lead_id


def _pending(s: Shop, lead_id: str) -> str:
    [offer] = [o for o in s.deps.state.offers.values() if o.lead_id == lead_id and o.state == "pending"]
    return offer.offer_id


def _deadline_timers(s: Shop) -> list[Any]:
    return [TIMERS.validate_python(t) for t in s.queued("timers") if t["kind"] == "response_deadline"]


def _kinds(s: Shop, user_id: str) -> list[str]:
    return sorted(n.kind for n in s.deps.state.notifications.get(user_id, {}).values())


def _timeline(s: Shop, lead_id: str, kind: str) -> list[dict[str, Any]]:
    return [e.data for e in s.deps.leads.timeline(lead_id) if e.type == kind]


def _reports(s: Shop, kind: str) -> list[Any]:
    return [e for e in s.deps.state.reports if e.kind == kind]


def test_the_owner_is_warned_then_the_managers_told_of_the_miss_once() -> None:
    s = shop(response_targets=_targets())
    lead_id = _owned(s)
    owner, manager = s.agents[0].user_id, s.manager.user_id if s.manager else ""
    lead = s.current(lead_id)
    assert lead.deadline is not None and lead.deadline.due_at == "2026-11-02T15:05:00.000Z"
    [warning] = _deadline_timers(s)
    assert (warning.step, warning.due_at, warning.response_version) == ("warning", lead.deadline.warn_at, 1)
    s.clock.advance(240)
    assert due.handle_timer(s.deps, warning) == "warned"
    assert due.handle_timer(s.deps, warning) == "noop"  # a duplicate
    assert _kinds(s, owner) == ["assigned", "offer", "target_warning"]
    [deadline] = _deadline_timers(s)  # the warning passed: the deadline's own timer follows
    assert (deadline.step, deadline.due_at) == ("deadline", "2026-11-02T15:05:00.000Z")
    s.clock.advance(60)
    assert due.handle_timer(s.deps, deadline) == "missed"
    assert due.handle_timer(s.deps, deadline) == "noop"
    assert due.handle_timer(s.deps, warning) == "noop"  # late and out of order
    assert _kinds(s, manager) == ["target_missed"]
    missed = s.current(lead_id)
    assert missed.assigned_to == owner and missed.deadline is not None and missed.deadline.missed
    assert [d["action"] for d in _timeline(s, lead_id, "target")] == ["warning", "missed"]
    assert [(e.user_id, e.data["on_miss"]) for e in _reports(s, "target_missed")] == [(owner, "notify_managers")]
    # The late answer clears the deadline and is not a second miss (nor a met target).
    messaging.send_message(s.deps, s.agents[0].principal(), lead_id, body="Sorry, yes it is!")
    assert s.current(lead_id).deadline is None
    assert len(_reports(s, "target_missed")) == 1 and _reports(s, "target_met") == []


def test_an_answer_one_second_before_the_deadline_meets_it_and_no_timer_fires() -> None:
    s = shop(response_targets=_targets())
    lead_id = _owned(s)
    timers = _deadline_timers(s)
    s.clock.advance(299)
    messaging.send_message(s.deps, s.agents[0].principal(), lead_id, body="Yes, come by at 4")
    assert [e.user_id for e in _reports(s, "target_met")] == [s.agents[0].user_id]
    s.clock.advance(600)
    assert [due.handle_timer(s.deps, t) for t in timers] == ["noop"]
    assert due.sweep_due(s.deps)["deadlines"] == 0
    assert _kinds(s, s.manager.user_id if s.manager else "") == []
    assert _reports(s, "target_missed") == [] and s.current(lead_id).assigned_to == s.agents[0].user_id


def test_reoffer_takes_the_lead_to_the_next_agent_and_tells_both_sides() -> None:
    s = shop(agents=3, response_targets=_targets(on_miss="reoffer", warn_before_seconds=0))
    lead_id = _owned(s, agent=1)
    [deadline] = _deadline_timers(s)
    s.clock.advance(300)
    assert due.handle_timer(s.deps, deadline) == "reoffered"
    assert due.handle_timer(s.deps, deadline) == "noop"
    assert due.sweep_due(s.deps)["deadlines"] == 0
    lead = s.current(lead_id)
    assert (lead.assigned_to, lead.routing_state, lead.deadline) == (None, "offered", None)
    offer = s.deps.state.offers[_pending(s, lead_id)]
    assert offer.agent_id == s.agents[2].user_id  # the rotation's next agent, never the owner who missed
    [moved] = _timeline(s, lead_id, "reassigned")
    assert (moved["reason"], moved["from"]) == ("target_missed", s.agents[1].user_id)
    assert "reoffered" in _kinds(s, s.agents[1].user_id)
    assert _kinds(s, s.manager.user_id if s.manager else "") == ["target_missed"]
    assert [e.data["on_miss"] for e in _reports(s, "target_missed")] == ["reoffer"]
    # The next owner gets a deadline of their own.
    routing.accept_offer(s.deps, s.agents[2].caller(), offer.offer_id)
    taken = s.current(lead_id)
    assert taken.deadline is not None and taken.deadline.owner == s.agents[2].user_id


def test_a_lost_timer_is_a_late_one_the_sweep_decides() -> None:
    s = shop(agents=2, response_targets=_targets(on_miss="reoffer"))
    lead_id = _owned(s)
    s.queued("timers")  # lost
    s.clock.advance(240)
    assert due.sweep_due(s.deps)["deadlines"] == 1
    assert _kinds(s, s.agents[0].user_id).count("target_warning") == 1
    s.clock.advance(60)
    assert due.sweep_due(s.deps)["deadlines"] == 1
    assert due.sweep_due(s.deps)["deadlines"] == 0
    assert s.deps.state.offers[_pending(s, lead_id)].agent_id == s.agents[1].user_id


def test_a_customer_message_alerts_the_owner_and_starts_a_reply_deadline() -> None:
    s = shop(response_targets=_targets())
    lead_id = _owned(s)
    messaging.send_message(s.deps, s.agents[0].principal(), lead_id, body="Hi Maria!")
    assert s.current(lead_id).deadline is None
    s.clock.advance(600)
    msg = InboundMessage(provider="twilio", provider_id="SM" + "7" * 32, channel="sms", sender="+13125550177",
                         recipient=STORE_NUMBER, body="Can I come at 5?", received_at=s.clock.now().isoformat())
    inbound.receive(s.deps, s.account.account_id, msg)
    inbound.receive(s.deps, s.account.account_id, msg)  # the provider's retry: told once
    lead = s.current(lead_id)
    assert lead.deadline is not None and (lead.deadline.kind, lead.deadline.due_at) == (
        "reply", "2026-11-02T15:12:00.000Z")
    replied = [n for n in s.deps.state.notifications[s.agents[0].user_id].values() if n.kind == "customer_replied"]
    assert len(replied) == 1 and "Can I come at 5?" in replied[0].body and "Time left: 2 min" in replied[0].body


def test_an_email_alert_is_a_phone_readable_multipart_with_the_lead_and_a_link() -> None:
    s = shop(response_targets=_targets())
    s.deps._settings = s.deps.settings.model_copy(update={"console_url": "https://console.example.com/"})
    agent = s.agents[0].model_copy(update={"notify": NotifyPreferences(in_app=False, email=True, sms=True,
                                                                         forward_email="me@home.example")},
                                   deep=True)
    s.deps.users.replace(s.agents[0], agent.model_copy(update={"phone": "+13125550199"}))
    lead = s.lead(vehicle={"year": 2024, "make": "Honda", "model": "Civic"}, first_name="Maria", last_name="Lopez")
    jobs = [DeliverNotification.model_validate(j) for j in s.queued("outbox") if j["kind"] == "notification"]
    assert sorted((j.channel, j.to) for j in jobs) == [
        ("email", "agent1@acme.com"), ("forward_email", "me@home.example"), ("sms", "+13125550199")]
    for job in jobs:
        deliver_notification(s.deps, job)
        deliver_notification(s.deps, job)  # redelivered by the queue: sent once
    mails = s.deps.mailer.sent  # type: ignore[attr-defined]
    assert len(mails) == 2
    link = f"https://console.example.com/#/leads/{lead.lead_id}"
    for mail in mails:
        assert mail.html is not None and mail.html.startswith("<!DOCTYPE html>") and 'name="viewport"' in mail.html
        for fact in ("Maria Lopez", "2024 Honda Civic", "Web", "Is the red one still there?", "Time left",
                     "1 min (due Mon 09:01)", link):
            assert fact in mail.text and fact.replace("&", "&amp;") in mail.html, fact
    [text] = s.deps.sender.sent  # type: ignore[attr-defined]
    assert "2024 Honda Civic" in text.body and link in text.body and "Time left" in text.body


def test_a_delinquent_lead_is_offered_again_when_an_agent_turns_available() -> None:
    s = shop(agents=1)
    agent = s.agents[0]
    s.deps.users.replace(agent, agent.model_copy(update={"available": False}))
    lead = s.lead()
    assert s.current(lead.lead_id).routing_state == "delinquent"
    s.queued("timers")
    users.update_me(s.deps, agent.principal(), UpdateMeRequest(available=True))
    [again] = [TIMERS.validate_python(t) for t in s.queued("timers")]
    assert (again.kind, again.reason) == ("offer_again", "agent_available")
    assert due.handle_timer(s.deps, again) == "offered"
    assert due.handle_timer(s.deps, again) == "noop"
    assert s.deps.state.offers[_pending(s, lead.lead_id)].agent_id == agent.user_id
    assert [d["action"] for d in _timeline(s, lead.lead_id, "routing") if "reason" in d] == ["offered_again"]


def test_a_delinquent_lead_is_offered_again_when_the_store_opens() -> None:
    hours = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    s = shop(agents=1, timeout_seconds=60, business_hours=hours)
    # Monday 16:59 CST: the offer times out after closing, the lead goes delinquent.
    s.clock.set("2026-11-02T22:59:00Z")
    lead = s.lead()
    s.clock.advance(61)
    assert due.sweep_due(s.deps)["offers"] == 1
    assert s.current(lead.lead_id).routing_state == "delinquent"
    [revival] = s.deps.state.revivals.values()
    assert revival.opens_at == "2026-11-03T15:00:00.000Z"
    assert due.sweep_due(s.deps)["revivals"] == 0  # not open yet
    s.clock.set("2026-11-03T15:00:30Z")
    assert due.sweep_due(s.deps)["revivals"] == 1
    assert s.deps.state.revivals == {}
    assert s.deps.state.offers[_pending(s, lead.lead_id)].agent_id == s.agents[0].user_id

