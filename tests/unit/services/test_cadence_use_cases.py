"""Cadences on fakes, through the use cases: a new lead enrolled on arrival (never a coalesced
request), its steps through the outbox as automated messages that never answer the lead, each stop
rule recorded on the lead and its timeline, the staff actions, and the sweep behind lost timers."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import Conflict, Forbidden, NotFound
from chalicelib.domain.inbound import InboundMessage
from chalicelib.schemas.leads import UpdateLeadRequest
from chalicelib.services import (
    appointments,
    cadence_steps,
    cadences,
    due,
    inbound,
    lead_actions,
    lead_edits,
    messaging,
)
from tests.unit.services.cadence_support import deliver_all, make_cadence, run_timers, step_messages
from tests.unit.services.shop import STORE_NUMBER, Shop, shop

THREE_STEPS = ((0, "first_touch"), (60, "follow_up"), (3600, "follow_up"))
LATER_FIRST_TOUCH = ((30, "first_touch"), (60, "follow_up"), (3600, "follow_up"))


def sms(s: Shop, body: str, sid: str) -> InboundMessage:
    return InboundMessage(provider="twilio", provider_id=sid, channel="sms", sender="+13125550177",
                          recipient=STORE_NUMBER, body=body, received_at=s.clock.now().isoformat())


def cadence_events(s: Shop, lead_id: str) -> list[tuple[str, str | None]]:
    return [(e.data["action"], e.data.get("reason")) for e in s.deps.leads.timeline(lead_id) if e.type == "cadence"]


def enrolled_lead(s: Shop, steps: tuple[tuple[int, str], ...] = THREE_STEPS) -> str:
    make_cadence(s, *steps)
    return s.lead().lead_id


def test_a_new_lead_is_enrolled_on_arrival_and_its_first_touch_goes_through_the_outbox() -> None:
    s = shop()
    lead_id = enrolled_lead(s)
    # The first touch went in the change after the one that made the lead (no timer): step 1 waits.
    assert run_timers(s) == []
    assert cadence_events(s, lead_id) == [("enrolled", None)]
    assert deliver_all(s) == 1
    [handed] = s.deps.sender.sent  # type: ignore[attr-defined]
    assert handed.body == "Step 0: hi Maria, Ava here" and handed.to == "+13125550177"
    [message] = step_messages(s, lead_id)
    assert (message["automated"], message["step"], message["status"]) == (True, 0, "sent")
    lead = s.current(lead_id)
    # An automated step is never a response: the lead still waits for a person.
    assert lead.first_response_at is None and lead.awaiting_since is not None
    assert not [r for r in s.deps.state.reports if r.kind == "human_response"]
    assert lead.cadence is not None and (lead.cadence.next_step, lead.cadence.steps_sent) == (1, 1)


def test_a_first_touch_that_fails_in_the_request_is_left_to_its_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    s = shop()
    make_cadence(s, *THREE_STEPS)

    def busy(*_args: object) -> str:
        raise RuntimeError("the table is busy")

    monkeypatch.setattr(cadence_steps, "_run", busy)
    lead_id = s.lead().lead_id  # the lead is made all the same
    monkeypatch.undo()
    assert step_messages(s, lead_id) == []
    assert run_timers(s) == ["sent"]
    assert [m["step"] for m in step_messages(s, lead_id)] == [0]


def test_steps_follow_their_delays_and_the_last_one_finishes_the_enrolment() -> None:
    s = shop()
    lead_id = enrolled_lead(s)
    assert [m["step"] for m in step_messages(s, lead_id)] == [0]
    s.clock.advance(59)
    assert run_timers(s) == []  # not due yet: the timer stays on the queue
    s.clock.advance(1)
    assert run_timers(s) == ["sent"]
    s.clock.advance(3600)
    assert run_timers(s) == ["sent"]
    assert [m["step"] for m in step_messages(s, lead_id)] == [0, 1, 2]
    lead = s.current(lead_id)
    assert lead.cadence is not None and (lead.cadence.state, lead.cadence.stop_reason) == ("finished", "finished")
    assert cadence_events(s, lead_id)[-1] == ("finished", "finished")


def test_a_coalesced_request_never_enrols() -> None:
    s = shop()
    first = s.lead(message=None)
    make_cadence(s, *THREE_STEPS)
    again = s.lead(message=None)
    assert again.lead_id == first.lead_id and s.current(first.lead_id).cadence is None
    assert run_timers(s) == []


def test_a_customer_reply_stops_the_enrolment_and_the_lead_waits_for_a_person() -> None:
    s = shop()
    lead_id = enrolled_lead(s)
    run_timers(s)
    s.clock.advance(10)
    inbound.receive(s.deps, s.account.account_id, sms(s, "Yes, is it still there?", "SM" + "1" * 32))
    lead = s.current(lead_id)
    assert lead.cadence is not None and (lead.cadence.state, lead.cadence.stop_reason) == ("stopped", "replied")
    assert lead.awaiting_since is not None
    assert cadence_events(s, lead_id)[-1] == ("stopped", "replied")
    s.clock.advance(60)
    assert run_timers(s) == ["noop"]  # the step timer set before the reply finds it stopped
    assert len(step_messages(s, lead_id)) == 1


@pytest.mark.parametrize("how", ["stop_keyword", "agent_opt_out", "sold", "dead", "appointment"])
def test_each_stop_rule_stops_it_with_its_reason(how: str) -> None:
    s = shop()
    lead_id = enrolled_lead(s)
    run_timers(s)
    assert s.manager is not None
    manager = s.principal(s.manager)
    reason = {"stop_keyword": "opted_out", "agent_opt_out": "opted_out"}.get(how, how)
    if how == "stop_keyword":
        inbound.receive(s.deps, s.account.account_id, sms(s, "STOP", "SM" + "2" * 32))
    elif how == "agent_opt_out":
        lead_actions.agent_opt_out(s.deps, manager, lead_id)
    elif how in ("sold", "dead"):
        lead_edits.update_lead(s.deps, manager, lead_id, UpdateLeadRequest(status=how))
    else:
        appointments.create_appointment(s.deps, manager, lead_id, "2026-11-05T16:00:00Z", None)
    lead = s.current(lead_id)
    assert lead.cadence is not None and (lead.cadence.state, lead.cadence.stop_reason) == ("stopped", reason)
    s.clock.advance(3600)
    assert run_timers(s) == ["noop"]


def test_stop_messaging_is_for_managers_and_resume_goes_on_from_the_pending_step() -> None:
    s = shop()
    lead_id = enrolled_lead(s)
    run_timers(s)
    assert s.manager is not None
    with pytest.raises(Forbidden):
        lead_actions.stop_messaging(s.deps, s.principal(s.agents[0]), lead_id)
    lead_actions.stop_messaging(s.deps, s.principal(s.manager), lead_id)
    lead = s.current(lead_id)
    assert lead.cadence is not None and (lead.cadence.stop_reason, lead.cadence.next_step) == ("stopped_by_staff", 1)
    s.clock.advance(120)
    assert run_timers(s) == ["noop"]
    with pytest.raises(Forbidden):
        lead_actions.resume_messaging(s.deps, s.principal(s.agents[0]), lead_id)
    lead = lead_actions.resume_messaging(s.deps, s.principal(s.manager), lead_id)
    assert not lead.stop_messaging and lead.cadence is not None and lead.cadence.state == "active"
    s.clock.advance(60)
    assert run_timers(s) == ["sent"]
    assert [m["step"] for m in step_messages(s, lead_id)] == [0, 1]
    assert [a for a, _ in cadence_events(s, lead_id)] == ["enrolled", "stopped", "resumed"]


def test_skip_to_follow_up_moves_the_enrolment_and_409s_without_a_follow_up_step() -> None:
    s = shop()
    lead_id = enrolled_lead(s, LATER_FIRST_TOUCH)
    agent = s.principal(s.agents[0])
    lead = lead_actions.skip_to_follow_up(s.deps, agent, lead_id)
    assert lead.status == "follow_up" and lead.cadence is not None and lead.cadence.next_step == 1
    s.clock.advance(60)
    assert run_timers(s) == ["noop", "sent"]  # the first touch's timer is superseded
    assert [m["step"] for m in step_messages(s, lead_id)] == [1]
    only_first = make_cadence(s, (0, "first_touch"), name="First only", enroll="manual")
    cadences.enrol_lead(s.deps, agent, lead_id, only_first.cadence_id)
    with pytest.raises(Conflict) as caught:
        lead_actions.skip_to_follow_up(s.deps, agent, lead_id)
    assert caught.value.code == "no_follow_up_step"


def test_enrolling_by_hand_replaces_the_active_enrolment_and_delete_removes_it() -> None:
    s = shop()
    lead_id = enrolled_lead(s, LATER_FIRST_TOUCH)
    agent = s.principal(s.agents[0])
    other = make_cadence(s, (30, "first_touch"), name="Trade-in", enroll="manual")
    lead = cadences.enrol_lead(s.deps, agent, lead_id, other.cadence_id)
    assert lead.cadence is not None and lead.cadence.cadence_id == other.cadence_id
    s.clock.advance(30)
    assert run_timers(s) == ["noop", "sent"]  # the first cadence's first touch never goes
    lead = cadences.remove_lead(s.deps, agent, lead_id)
    assert lead.cadence is not None and lead.cadence.state == "finished"  # it had one step: done already
    cadences.enrol_lead(s.deps, agent, lead_id, other.cadence_id)
    lead = cadences.remove_lead(s.deps, agent, lead_id)
    assert lead.cadence is not None and (lead.cadence.state, lead.cadence.stop_reason) == ("stopped", "removed")
    with pytest.raises(NotFound):
        cadences.enrol_lead(s.deps, agent, lead_id, "cad_nope")


def test_a_deleted_cadence_stops_each_enrolment_at_its_next_step() -> None:
    s = shop()
    lead_id = enrolled_lead(s, LATER_FIRST_TOUCH)
    assert s.manager is not None
    [made] = s.deps.state.cadences.values()
    cadences.delete_cadence(s.deps, s.principal(s.manager), made.cadence_id)
    s.clock.advance(30)
    assert run_timers(s) == ["stopped"]
    lead = s.current(lead_id)
    assert lead.cadence is not None and lead.cadence.stop_reason == "cadence_deleted"
    assert step_messages(s, lead_id) == []


def test_the_sweep_runs_a_step_whose_timer_was_lost() -> None:
    s = shop()
    lead_id = enrolled_lead(s, LATER_FIRST_TOUCH)
    s.queued("timers")  # the timer is lost
    s.clock.advance(30)
    assert due.sweep_due(s.deps)["cadence_steps"] == 1
    assert [m["step"] for m in step_messages(s, lead_id)] == [0]
    assert due.sweep_due(s.deps)["cadence_steps"] == 0  # step 1 is not due yet
    s.clock.advance(61)
    s.queued("timers")
    assert due.sweep_due(s.deps)["cadence_steps"] == 1
    assert run_timers(s) == []


def test_a_reply_as_assistant_is_signed_with_the_assistant_and_counts_as_a_response() -> None:
    s = shop()
    agent = s.principal(s.agents[0])
    plain = s.lead(phone="+13125550199").lead_id
    with pytest.raises(Conflict) as caught:
        messaging.send_message(s.deps, agent, plain, body="Hi", as_assistant=True)
    assert caught.value.code == "no_cadence"
    lead_id = enrolled_lead(s)
    sent = messaging.send_message(s.deps, agent, lead_id, body="It's {{agent.name}} ({{assistant.name}})",
                                  as_assistant=True)
    event = s.deps.state.events[lead_id][sent["message_id"]].data
    assert (event["body"], event["as_assistant"], event["sent_as"], event["automated"]) == (
        "It's Ava (Ava)", True, "Ava", False)
    assert s.current(lead_id).first_response_at is not None


def test_appointment_reminders_are_scheduled_moved_and_withdrawn() -> None:
    s = shop(appointment_reminders_seconds=[86400, 7200])
    lead_id = s.lead().lead_id
    assert s.manager is not None
    manager = s.principal(s.manager)
    booked, _ = appointments.create_appointment(s.deps, manager, lead_id, "2026-11-05T18:00:00Z", None)
    assert len(booked.reminder_ids) == 2
    sends = sorted(s.deps.state.outbox[m].send_at or "" for m in booked.reminder_ids)
    assert sends == ["2026-11-04T18:00:00.000Z", "2026-11-05T16:00:00.000Z"]
    assert s.current(lead_id).scheduled_messages == 2
    moved = appointments.update_appointment(s.deps, manager, booked.appointment_id, "2026-11-06T18:00:00Z", None)
    assert {s.deps.state.outbox[m].status for m in booked.reminder_ids} == {"cancelled"}
    assert sorted(s.deps.state.outbox[m].send_at or "" for m in moved.reminder_ids) == [
        "2026-11-05T18:00:00.000Z", "2026-11-06T16:00:00.000Z"]
    assert s.current(lead_id).scheduled_messages == 2
    appointments.update_appointment(s.deps, manager, booked.appointment_id, None, "cancelled")
    assert {s.deps.state.outbox[m].status for m in moved.reminder_ids} == {"cancelled"}
    assert s.current(lead_id).scheduled_messages == 0
