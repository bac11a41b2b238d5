"""The cadence state machine, pure (domain/cadence_rules.py): a clock reading passed in, leads and
cadences built in place. Enrolling, a due step sent / skipped / deferred / refused as stale, the
stop rules applied to a change, skipping to follow-up, resuming after stop-messaging."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib.clock import iso, parse_time
from chalicelib.domain import cadence_rules as rules
from chalicelib.domain.accounts import Account
from chalicelib.domain.cadences import Cadence, CadenceStep, cadence_for_new_lead, check_steps
from chalicelib.domain.errors import Conflict, ValidationFailed
from chalicelib.domain.leads import Lead
from chalicelib.domain.routing import RuleMatch

T0 = parse_time("2026-11-02T15:00:00Z")  # 09:00 in Chicago: messages may go
ACCOUNT = Account(account_id="acc_1", group_id="grp_1", name="Acme Honda", timezone="America/Chicago",
                  sms_number="+13125550100", created_at=iso(T0), updated_at=iso(T0))


def cadence(*steps: tuple[int, str], **fields: Any) -> Cadence:
    made = [CadenceStep(after_seconds=after, phase=phase, body=f"step {i} for {{{{lead.first_name}}}} "  # type: ignore[arg-type]
                        "from {{assistant.name}}") for i, (after, phase) in enumerate(steps)]
    return Cadence(cadence_id="cad_1", account_id="acc_1", group_id="grp_1", name="New leads",
                   assistant_name="Ava", steps=made, created_at=iso(T0), updated_at=iso(T0), **fields)


THREE = cadence((0, "first_touch"), (60, "follow_up"), (3600, "follow_up"))


def lead(**fields: Any) -> Lead:
    base = {"lead_id": "lead_1", "account_id": "acc_1", "group_id": "grp_1", "first_name": "Maria",
            "phone": "+13125550177", "created_at": iso(T0), "received_at": iso(T0), "last_activity_at": iso(T0),
            "last_message_at": iso(T0)}
    return Lead.model_validate({**base, **fields})


def enrolled(c: Cadence = THREE, at: datetime = T0, **fields: Any) -> Lead:
    return lead(cadence=rules.start(c, at, None, None), **fields)


def apply(before: Lead, change: Any) -> Lead:
    return before.model_copy(update=change.updates)


def step(current: Lead, c: Cadence | None = THREE, at: datetime = T0) -> rules.StepOutcome | None:
    e = current.cadence
    assert e is not None
    return rules.due_step(current, c, ACCOUNT, e.version, e.next_step or 0, at)


# -- enrolling ---------------------------------------------------------------------------------

def test_an_enrolment_starts_at_the_first_step_due_its_delay_after_enrolling() -> None:
    later = cadence((300, "first_touch"), (60, "follow_up"))
    e = rules.start(later, T0, "usr_1", None)
    assert (e.state, e.next_step, e.next_at, e.enrolled_by, e.version) == ("active", 0, iso(T0 + timedelta(
        seconds=300)), "usr_1", 1)
    again = rules.start(later, T0, None, e.model_copy(update={"version": 7}))
    assert again.version == 8  # a timer of the earlier enrolment can never match the new one


def test_enrolling_by_hand_replaces_an_active_enrolment_and_refuses_a_closed_lead() -> None:
    current = enrolled()
    other = THREE.model_copy(update={"cadence_id": "cad_2", "name": "Service"})
    change = rules.enrol(current, other, "usr_1", T0 + timedelta(seconds=5))
    after = apply(current, change)
    assert after.cadence is not None and after.cadence.cadence_id == "cad_2" and after.cadence.active
    actions = [(e.data["action"], e.data.get("reason")) for e in change.events]
    assert actions == [("stopped", "replaced"), ("enrolled", None)]
    assert [r.kind for r in change.reports] == ["cadence_stopped", "cadence_enrolled"]
    for refused, code in ((lead(opted_out=True), "opted_out"), (lead(status="sold"), "lead_closed"),
                          (lead(stop_messaging=True), "messaging_stopped")):
        with pytest.raises(Conflict) as caught:
            rules.enrol(refused, THREE, "usr_1", T0)
        assert caught.value.code == code


def test_the_most_specific_fitting_new_lead_cadence_wins_and_manual_ones_never_enrol() -> None:
    anyone = cadence((0, "first_touch"), enroll="new_lead")
    sms = cadence((0, "first_touch"), enroll="new_lead", match=RuleMatch(channel="sms")).model_copy(
        update={"cadence_id": "cad_sms"})
    manual = cadence((0, "first_touch"), match=RuleMatch(channel="sms")).model_copy(update={"cadence_id": "cad_m"})
    assert cadence_for_new_lead([anyone, sms, manual], lead(channel="sms")) is sms
    assert cadence_for_new_lead([anyone, sms, manual], lead(channel="web")) is anyone
    assert cadence_for_new_lead([manual], lead(channel="sms")) is None


def test_a_cadence_refuses_unknown_smart_fields_and_follow_ups_before_first_touches() -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_steps([CadenceStep(after_seconds=0, phase="follow_up", body="Hi"),
                     CadenceStep(after_seconds=0, phase="first_touch", body="Hi {{lead.nickname}}")], ACCOUNT)
    assert [d["field"] for d in caught.value.details] == ["steps.1.phase", "steps.1.body"]


# -- a due step ----------------------------------------------------------------------------------

def test_a_due_step_is_sent_and_the_next_one_is_due_its_delay_after_it() -> None:
    current = enrolled()
    outcome = step(current, at=T0 + timedelta(seconds=2))
    assert outcome is not None and outcome.action == "send"
    assert outcome.text == "step 0 for Maria from Ava"
    assert outcome.route == ("sms", "+13125550177", "+13125550100")
    e = outcome.enrolment
    assert (e.next_step, e.next_at, e.steps_sent, e.version) == (1, iso(T0 + timedelta(seconds=62)), 1, 2)
    assert [r.kind for r in outcome.change.reports] == ["cadence_step"]


def test_the_last_step_finishes_the_enrolment() -> None:
    current = enrolled(cadence((0, "first_touch")))
    outcome = step(current, cadence((0, "first_touch")))
    assert outcome is not None and outcome.action == "send"
    e = outcome.enrolment
    assert (e.state, e.stop_reason, e.next_step, e.next_at) == ("finished", "finished", None, None)
    assert [r.kind for r in outcome.change.reports] == ["cadence_step", "cadence_stopped"]


def test_stale_early_and_repeated_timers_do_nothing() -> None:
    current = enrolled()
    e = current.cadence
    assert e is not None
    assert rules.due_step(current, THREE, ACCOUNT, e.version + 1, 0, T0) is None  # another version
    assert rules.due_step(current, THREE, ACCOUNT, e.version, 1, T0) is None  # another step
    later = enrolled(cadence((60, "first_touch")))
    assert step(later, cadence((60, "first_touch")), at=T0 + timedelta(seconds=59)) is None  # early
    outcome = step(current)
    assert outcome is not None
    after = apply(current, outcome.change)
    assert rules.due_step(after, THREE, ACCOUNT, e.version, 0, T0) is None  # the same timer again


def test_quiet_hours_defer_a_step_to_eight_in_the_customers_zone() -> None:
    night = parse_time("2026-11-03T04:00:00Z")  # 22:00 in Chicago
    current = enrolled(at=night)
    outcome = step(current, at=night)
    assert outcome is not None and outcome.action == "defer"
    assert outcome.enrolment.next_at == "2026-11-03T14:00:00.000Z" and outcome.enrolment.next_step == 0
    assert outcome.change.events == []


def test_auto_writes_by_email_to_a_lead_with_only_an_email_address_with_the_steps_subject() -> None:
    by_mail = cadence((0, "first_touch")).model_copy(update={"steps": [CadenceStep(
        after_seconds=0, phase="first_touch", body="Hi {{lead.first_name}}", subject="{{lead.first_name}}, your car")]})
    outcome = step(enrolled(by_mail, phone=None, email="maria@example.com"), by_mail)
    assert outcome is not None and outcome.action == "send"
    assert outcome.route == ("email", "maria@example.com", None)
    assert (outcome.text, outcome.subject) == ("Hi Maria", "Maria, your car")
    sms_first = step(enrolled(by_mail, email="maria@example.com"), by_mail)
    assert sms_first is not None and sms_first.route is not None and sms_first.route[0] == "sms"
    assert sms_first.subject is None


def test_a_step_the_lead_cannot_receive_is_skipped_and_the_enrolment_goes_on() -> None:
    no_phone = enrolled(phone=None, email="maria@example.com", email_opted_out=True)
    outcome = step(no_phone)
    assert outcome is not None and outcome.action == "skip"
    assert outcome.change.events[0].data["reason"] == "unreachable"
    assert outcome.enrolment.next_step == 1 and outcome.enrolment.steps_sent == 0
    messenger_only = cadence((0, "first_touch")).model_copy(
        update={"steps": [CadenceStep(after_seconds=0, phase="first_touch", channel="messenger", body="Hi")]})
    outcome = step(enrolled(messenger_only), messenger_only)
    assert outcome is not None and outcome.action == "skip"


def test_a_deleted_cadence_or_a_stop_rule_stops_the_enrolment_instead_of_a_step() -> None:
    outcome = step(enrolled(), None)
    assert outcome is not None and outcome.action == "stop" and outcome.enrolment.stop_reason == "cadence_deleted"
    replied = enrolled(last_message_at=iso(T0 + timedelta(seconds=1)))
    outcome = step(replied, at=T0 + timedelta(seconds=2))
    assert outcome is not None and outcome.action == "stop" and outcome.enrolment.stop_reason == "replied"


# -- the stop rules -------------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "reason"), [
    ({"opted_out": True, "status": "dead"}, "opted_out"),
    ({"status": "sold"}, "sold"),
    ({"status": "dead"}, "dead"),
    ({"stop_messaging": True}, "stopped_by_staff"),
    ({"open_appointments": 1}, "appointment"),
    ({"last_message_at": iso(T0 + timedelta(minutes=1)), "last_inbound_at": iso(T0 + timedelta(minutes=1))},
     "replied"),
])
def test_a_change_that_meets_a_stop_rule_stops_the_enrolment(changes: dict[str, Any], reason: str) -> None:
    before = enrolled()
    after = before.model_copy(update=changes)
    stopped = rules.settle(before, after, [], T0 + timedelta(minutes=1))
    assert stopped is not None
    e = apply(after, stopped).cadence
    assert e is not None and (e.state, e.stop_reason, e.next_at, e.next_step) == ("stopped", reason, None, 0)
    assert [(x.type, x.data["action"], x.data["reason"]) for x in stopped.events] == [("cadence", "stopped", reason)]


def test_a_customer_message_recorded_by_the_change_stops_it_even_in_the_enrolments_millisecond() -> None:
    from chalicelib.domain.records import timeline_event

    before = enrolled()
    after = before.model_copy(update={"last_inbound_at": iso(T0), "last_message_at": iso(T0)})
    reply = timeline_event(before, "message", None, T0, direction="inbound", body="yes", status="received")
    stopped = rules.settle(before, after, [reply], T0)
    assert stopped is not None and apply(after, stopped).cadence.stop_reason == "replied"  # type: ignore[union-attr]
    repeat = timeline_event(before, "coalesced", None, T0, source="Web")
    assert rules.settle(before, before, [repeat], T0) is None  # a repeat request that says nothing


def test_changes_that_meet_no_rule_leave_the_enrolment_alone() -> None:
    before = enrolled()
    # The assistant's own message moves last_message_at but not the customer's: no reply.
    sent = iso(T0 + timedelta(seconds=1))
    for changes in ({"status": "hot"}, {"labels": ["vip"]},
                    {"last_message_at": sent, "last_outbound_at": sent, "last_inbound_at": iso(T0)}):
        assert rules.settle(before, before.model_copy(update=changes), [], T0) is None
    assert rules.settle(lead(opted_out=True), lead(opted_out=True), [], T0) is None  # nothing enrolled


# -- staff actions ------------------------------------------------------------------------------------

def test_skip_to_follow_up_moves_to_the_first_follow_up_not_yet_sent() -> None:
    current = enrolled()
    change = rules.skip_to_follow_up(current, THREE, "usr_1", T0)
    assert change is not None
    e = apply(current, change).cadence
    assert e is not None and (e.next_step, e.next_at) == (1, iso(T0 + timedelta(seconds=60)))
    at_last = enrolled().model_copy(update={"cadence": e.model_copy(update={"next_step": 2})})
    change = rules.skip_to_follow_up(at_last, THREE, "usr_1", T0)
    assert change is not None and apply(at_last, change).cadence.next_step == 2  # type: ignore[union-attr]
    only_first = cadence((0, "first_touch"), (10, "first_touch"))
    with pytest.raises(Conflict) as caught:
        rules.skip_to_follow_up(enrolled(only_first), only_first, "usr_1", T0)
    assert caught.value.code == "no_follow_up_step"
    assert rules.skip_to_follow_up(lead(), THREE, "usr_1", T0) is None  # nothing enrolled: nothing to move


def test_resume_goes_on_from_the_pending_step_unless_another_rule_holds_by_now() -> None:
    before = enrolled()
    paused = apply(before.model_copy(update={"stop_messaging": True}),
                   rules.settle(before, before.model_copy(update={"stop_messaging": True}), [], T0))
    back = paused.model_copy(update={"stop_messaging": False})
    change = rules.resume(back, THREE, "usr_mgr", T0 + timedelta(minutes=5))
    assert change is not None
    e = apply(back, change).cadence
    assert e is not None and (e.state, e.next_step, e.next_at) == ("active", 0, iso(T0 + timedelta(minutes=5)))
    wrote = back.model_copy(update={"last_message_at": iso(T0 + timedelta(minutes=1))})
    change = rules.resume(wrote, THREE, "usr_mgr", T0 + timedelta(minutes=5))
    assert change is not None and apply(wrote, change).cadence.stop_reason == "replied"  # type: ignore[union-attr]
    assert rules.resume(enrolled(), THREE, "usr_mgr", T0) is None  # nothing stopped by staff
