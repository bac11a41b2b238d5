"""Response targets, pure: the deadline clock (wall time and business hours: several intervals, a
closed night, a holiday, a DST change) with the clock passed in, and what a deadline does — set on
ownership and on a customer's message, met or missed by the owner's answer to the second, warned and
missed as time passes, stale timers ignored."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from chalicelib.clock import iso, parse_time
from chalicelib.domain import targets
from chalicelib.domain.business_hours import BusinessHours
from chalicelib.domain.leads import Lead
from chalicelib.domain.response_clock import ResponseClock
from chalicelib.domain.targets import ResponsePolicy, ResponseTargets

WEEKDAYS = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
CHICAGO = BusinessHours("America/Chicago", {**WEEKDAYS, "sat": [["09:00", "17:00"]], "sun": []})


def t(value: str) -> datetime:
    return parse_time(value)


# -- the clock ----------------------------------------------------------------------------------

def test_wall_clock_is_plain_seconds() -> None:
    clock = ResponseClock()
    assert clock.start(t("2026-11-02T03:00:00Z")) == t("2026-11-02T03:00:00Z")
    assert clock.add(t("2026-11-02T03:00:00Z"), 900) == t("2026-11-02T03:15:00Z")
    assert clock.elapsed(t("2026-11-02T03:00:00Z"), t("2026-11-02T03:15:00Z")) == 900


def test_business_hours_deadline_spans_the_closed_night() -> None:
    clock = ResponseClock(CHICAGO)
    # Monday 2026-11-02 17:50 CST (UTC-6): 10 minutes left today, 20 more from Tuesday 09:00.
    start = t("2026-11-02T23:50:00Z")
    assert clock.add(start, 1800) == t("2026-11-03T15:20:00Z")
    assert clock.elapsed(start, t("2026-11-03T15:20:00Z")) == 1800
    # Landing exactly on the closing time is that closing time, not the next opening.
    assert clock.add(start, 600) == t("2026-11-03T00:00:00Z")


def test_owned_while_closed_starts_at_the_next_opening() -> None:
    clock = ResponseClock(CHICAGO)
    # Sunday: closed all day; the clock starts Monday 09:00 CST.
    start = clock.start(t("2026-11-08T18:00:00Z"))
    assert start == t("2026-11-09T15:00:00Z")
    assert clock.add(start, 600) == t("2026-11-09T15:10:00Z")


def test_a_holiday_is_closed_all_day() -> None:
    holiday = BusinessHours(CHICAGO.timezone, CHICAGO.weekly, frozenset({"2026-11-03"}))
    clock = ResponseClock(holiday)
    # Monday 17:50: 10 minutes Monday, Tuesday is a holiday, 20 minutes Wednesday.
    assert clock.add(t("2026-11-02T23:50:00Z"), 1800) == t("2026-11-04T15:20:00Z")


def test_a_dst_change_keeps_the_local_opening() -> None:
    clock = ResponseClock(CHICAGO)
    # Saturday 2026-10-31 16:50 CDT (UTC-5) is 21:50Z; DST ends Sunday; Monday 09:00 is CST (UTC-6).
    assert clock.add(t("2026-10-31T21:50:00Z"), 1800) == t("2026-11-02T15:20:00Z")
    # 20 wall hours for 30 clock minutes: the wall clock would be wrong by a whole weekend.
    assert clock.elapsed(t("2026-10-31T21:50:00Z"), t("2026-11-02T15:20:00Z")) == 1800


def test_several_intervals_and_an_overnight_one() -> None:
    split = BusinessHours("America/New_York", {"mon": [["09:00", "12:00"], ["13:00", "18:00"]],
                                               "fri": [["22:00", "02:00"]]})
    clock = ResponseClock(split)
    # Monday 11:50 EST: 10 minutes before lunch, 20 after it.
    assert clock.add(t("2026-11-02T16:50:00Z"), 1800) == t("2026-11-02T18:20:00Z")
    # Friday 23:30 EST: 2.5 h of the overnight interval (to Saturday 02:00), the last 30 min Monday from 09:00.
    assert clock.add(t("2026-11-07T04:30:00Z"), 3 * 3600) == t("2026-11-09T14:30:00Z")


def test_a_store_closed_for_weeks_runs_on_wall_time() -> None:
    clock = ResponseClock(BusinessHours("America/Chicago", {}))
    assert clock.add(t("2026-11-02T12:00:00Z"), 60) == t("2026-11-02T12:01:00Z")


# -- deadlines ----------------------------------------------------------------------------------

def _targets(**fields: object) -> ResponseTargets:
    values: dict[str, object] = {"first_response_seconds": 600, "reply_seconds": 300, "warn_before_seconds": 120,
                                 "on_miss": "reoffer", **fields}
    return ResponseTargets.model_validate(values)


def _lead(**fields: object) -> Lead:
    values: dict[str, object] = {"lead_id": "lead_1", "account_id": "acc_1", "group_id": "grp_1",
                                 "created_at": "2026-11-02T15:00:00.000Z", "received_at": "2026-11-02T15:00:00.000Z",
                                 "last_activity_at": "2026-11-02T15:00:00.000Z", **fields}
    return Lead.model_validate(values)


def _owned(now: datetime, policy: ResponsePolicy | None = None) -> Lead:
    policy = policy or targets.policy_for(_targets(), CHICAGO)
    lead = _lead()
    return lead.model_copy(update={"assigned_to": "usr_a", "routing_state": "accepted",
                                   **targets.owner_changed(lead, "usr_a", policy, now)})


def test_ownership_sets_a_first_response_deadline_with_a_warning() -> None:
    now = t("2026-11-02T15:00:00Z")
    lead = _owned(now)
    deadline = lead.deadline
    assert deadline is not None
    assert (deadline.kind, deadline.owner, deadline.version) == ("first_response", "usr_a", 1)
    assert (deadline.due_at, deadline.warn_at) == ("2026-11-02T15:10:00.000Z", "2026-11-02T15:08:00.000Z")
    assert lead.flags >= {"due"} and lead.flag_time("due") == deadline.due_at


def test_business_hours_policy_carries_the_hours_onto_the_lead() -> None:
    policy = targets.policy_for(_targets(business_hours_only=True), CHICAGO)
    assert policy is not None and policy.timezone == "America/Chicago"
    lead = _owned(t("2026-11-02T23:55:00Z"), policy)  # Monday 17:55 CST
    assert lead.deadline is not None
    # 5 minutes Monday, 5 more Tuesday from 09:00 (CST); the warning 2 clock minutes before.
    assert (lead.deadline.due_at, lead.deadline.warn_at) == ("2026-11-03T15:05:00.000Z", "2026-11-03T15:03:00.000Z")


@pytest.mark.parametrize(("offset", "met"), [(-1, True), (0, False), (1, False)])
def test_an_answer_one_second_before_the_deadline_meets_it_and_after_misses(offset: int, met: bool) -> None:
    lead = _owned(t("2026-11-02T15:00:00Z"))
    assert lead.deadline is not None
    at = parse_time(lead.deadline.due_at) + timedelta(seconds=offset)
    answer = targets.answered(lead, "usr_a", at)
    assert answer is not None and (answer.met, answer.counts) == (met, True)


def test_only_the_owner_answers_and_only_after_the_deadline_was_set() -> None:
    lead = _owned(t("2026-11-02T15:00:00Z"))
    assert targets.answered(lead, "usr_b", t("2026-11-02T15:01:00Z")) is None
    assert targets.answered(lead, None, t("2026-11-02T15:01:00Z")) is None
    assert targets.answered(lead, "usr_a", t("2026-11-02T14:59:59Z")) is None


def test_time_passing_warns_then_misses_and_stale_versions_do_nothing() -> None:
    lead = _owned(t("2026-11-02T15:00:00Z"))
    assert targets.time_passed(lead, t("2026-11-02T15:07:59Z")) is None
    assert targets.time_passed(lead, t("2026-11-02T15:08:00Z"), version=1) == "warn"
    assert targets.response_state(lead, t("2026-11-02T15:08:00Z")) == "due_soon"
    warned = lead.model_copy(update=targets.warned(lead))
    assert targets.time_passed(warned, t("2026-11-02T15:09:00Z"), version=1) is None  # a duplicate warning
    assert targets.time_passed(warned, t("2026-11-02T15:10:00Z"), version=1) == "miss"
    assert targets.time_passed(warned, t("2026-11-02T15:10:00Z"), version=0) is None  # superseded
    missed = warned.model_copy(update=targets.missed_kept(warned))
    assert targets.time_passed(missed, t("2026-11-02T16:00:00Z"), version=1) is None  # decided already
    assert targets.response_state(missed, t("2026-11-02T15:10:00Z")) == "missed"
    # A late warning timer after the deadline decides the miss (it is what is due), once.
    assert targets.time_passed(lead, t("2026-11-02T15:30:00Z"), version=1) == "miss"


def test_a_closed_lead_drops_its_deadline() -> None:
    lead = _owned(t("2026-11-02T15:00:00Z")).model_copy(update={"status": "sold"})
    assert targets.time_passed(lead, t("2026-11-02T15:10:00Z")) == "drop"
    assert targets.response_state(lead, t("2026-11-02T15:00:00Z")) is None and "due" not in lead.flags


def test_a_customer_message_starts_a_reply_deadline_only_when_none_runs() -> None:
    lead = _owned(t("2026-11-02T15:00:00Z"))
    assert targets.customer_wrote(lead, t("2026-11-02T15:01:00Z")) == {}  # the first one still runs
    answered = lead.model_copy(update=targets.cleared(lead))
    assert answered.deadline is None and answered.response_version == 2
    updates = targets.customer_wrote(answered, t("2026-11-02T16:00:00Z"))
    deadline = updates["deadline"]
    assert (deadline.kind, deadline.version, deadline.due_at) == ("reply", 3, iso(t("2026-11-02T16:05:00Z")))
    nobody = _lead(response_policy=lead.response_policy)
    assert targets.customer_wrote(nobody, t("2026-11-02T16:00:00Z")) == {}  # no owner, no deadline


def test_no_targets_means_no_deadline_and_losing_the_owner_clears_it() -> None:
    lead = _lead()
    assert targets.owner_changed(lead, "usr_a", None, t("2026-11-02T15:00:00Z")) == {}
    owned = _owned(t("2026-11-02T15:00:00Z"))
    released = targets.owner_changed(owned, None, owned.response_policy, t("2026-11-02T15:05:00Z"))
    assert released == {"response_policy": None, "deadline": None, "response_version": 2}


def test_warning_must_come_before_every_target() -> None:
    assert targets.target_problems(_targets(warn_before_seconds=300))[0]["field"] == "warn_before_seconds"
    assert targets.target_problems(_targets(warn_before_seconds=299)) == []
