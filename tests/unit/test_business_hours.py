"""Opening hours: split days, overnight intervals, holidays, DST."""

from __future__ import annotations

from chalicelib.clock import parse_time
from chalicelib.domain.business_hours import BusinessHours, validate_business_hours

SPLIT = {"mon": [["09:00", "12:00"], ["13:00", "18:00"]], "fri": [["22:00", "02:00"]]}


def hours(weekly=SPLIT, holidays=()) -> BusinessHours:
    return BusinessHours("America/New_York", weekly, frozenset(holidays))


def test_split_day() -> None:
    h = hours()
    # Monday 2026-11-02, EST (UTC-5)
    assert h.is_open(parse_time("2026-11-02T14:30:00Z"))  # 09:30 local
    assert not h.is_open(parse_time("2026-11-02T17:30:00Z"))  # 12:30 local, lunch
    assert h.next_opening(parse_time("2026-11-02T17:30:00Z")) == parse_time("2026-11-02T18:00:00Z")


def test_overnight_interval_belongs_to_the_day_it_starts() -> None:
    h = hours()
    # Friday 2026-11-06 23:00 local and Saturday 01:00 local are open; Saturday 02:00 is not
    assert h.is_open(parse_time("2026-11-07T04:00:00Z"))
    assert h.is_open(parse_time("2026-11-07T06:00:00Z"))
    assert not h.is_open(parse_time("2026-11-07T07:00:00Z"))
    # next opening after Saturday 02:00 is Monday 09:00 local
    assert h.next_opening(parse_time("2026-11-07T07:00:00Z")) == parse_time("2026-11-09T14:00:00Z")


def test_holiday_closes_the_day() -> None:
    h = hours(holidays=["2026-11-09"])
    assert not h.is_open(parse_time("2026-11-09T15:00:00Z"))
    assert h.next_opening(parse_time("2026-11-09T15:00:00Z")) == parse_time("2026-11-14T03:00:00Z")  # Fri 22:00 EST


def test_dst_change_keeps_local_opening() -> None:
    weekly = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    h = hours(weekly)
    # DST ends Sunday 2026-11-01 in New York: 09:00 is 13:00Z on Saturday and 14:00Z on Sunday
    assert h.next_opening(parse_time("2026-10-31T22:00:00Z")) == parse_time("2026-11-01T14:00:00Z")
    assert h.next_opening(parse_time("2026-10-31T02:00:00Z")) == parse_time("2026-10-31T13:00:00Z")


def test_closed_all_week_has_no_opening() -> None:
    assert hours({}).next_opening(parse_time("2026-11-02T15:00:00Z")) is None


def test_validation_names_the_interval() -> None:
    problems = dict(validate_business_hours({"mon": [["09:00", "09:00"]], "xyz": [], "tue": [["25:00", "10:00"]]}))
    assert set(problems) == {"business_hours.mon[0]", "business_hours.xyz", "business_hours.tue[0]"}
