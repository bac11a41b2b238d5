"""Opening hours of a store: several intervals a day, overnight intervals, holidays,
in the store's IANA timezone (DST handled by zoneinfo). Pure: times in, times out.

An interval belongs to the day it starts on: `"fri": [["22:00", "02:00"]]` is open
from Friday 22:00 to Saturday 02:00, and a holiday closes the intervals that start
on it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

DEFAULT_BUSINESS_HOURS: dict[str, list[list[str]]] = {
    "mon": [["09:00", "18:00"]], "tue": [["09:00", "18:00"]], "wed": [["09:00", "18:00"]],
    "thu": [["09:00", "18:00"]], "fri": [["09:00", "18:00"]], "sat": [["09:00", "17:00"]], "sun": [],
}


def parse_hhmm(value: str) -> time:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        raise ValueError(f"{value!r} is not HH:MM")
    hours, minutes = value[:2], value[3:]
    if not (hours.isdigit() and minutes.isdigit()) or int(hours) > 23 or int(minutes) > 59:
        raise ValueError(f"{value!r} is not HH:MM")
    return time(int(hours), int(minutes))


def validate_business_hours(raw: Mapping[str, Sequence[Sequence[str]]]) -> list[tuple[str, str]]:
    """Every problem as (field path, message); an empty list means valid."""
    problems: list[tuple[str, str]] = []
    for day, intervals in raw.items():
        if day not in DAYS:
            problems.append((f"business_hours.{day}", f"is not one of {', '.join(DAYS)}"))
            continue
        if not isinstance(intervals, list | tuple):
            problems.append((f"business_hours.{day}", "must be a list of [open, close] pairs"))
            continue
        for i, interval in enumerate(intervals):
            path = f"business_hours.{day}[{i}]"
            if not isinstance(interval, list | tuple) or len(interval) != 2:
                problems.append((path, "must be [open, close]"))
                continue
            try:
                start, end = parse_hhmm(interval[0]), parse_hhmm(interval[1])
            except ValueError as exc:
                problems.append((path, str(exc)))
                continue
            if start == end:
                problems.append((path, "opens and closes at the same time"))
    return problems


def validate_holidays(raw: Sequence[str]) -> list[tuple[str, str]]:
    problems = []
    for i, value in enumerate(raw):
        try:
            date.fromisoformat(value)
        except (TypeError, ValueError):
            problems.append((f"holidays[{i}]", f"{value!r} is not a YYYY-MM-DD date"))
    return problems


@dataclass(frozen=True)
class BusinessHours:
    timezone: str
    weekly: Mapping[str, Sequence[Sequence[str]]] = field(default_factory=lambda: DEFAULT_BUSINESS_HOURS)
    holidays: frozenset[str] = frozenset()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _intervals_starting_on(self, day: date) -> list[tuple[datetime, datetime]]:
        if day.isoformat() in self.holidays:
            return []
        result = []
        for start_s, end_s in self.weekly.get(DAYS[day.weekday()], []):
            start_t, end_t = parse_hhmm(start_s), parse_hhmm(end_s)
            start = datetime.combine(day, start_t, self.zone)
            end_day = day if end_t > start_t else day + timedelta(days=1)
            end = datetime.combine(end_day, end_t, self.zone)
            result.append((start.astimezone(UTC), end.astimezone(UTC)))
        return result

    def is_open(self, at: datetime) -> bool:
        local_day = at.astimezone(self.zone).date()
        for day in (local_day - timedelta(days=1), local_day):
            for start, end in self._intervals_starting_on(day):
                if start <= at < end:
                    return True
        return False

    def next_opening(self, at: datetime, horizon_days: int = 21) -> datetime | None:
        """`at` itself when open, else the start of the next interval; None when closed for the horizon."""
        if self.is_open(at):
            return at
        local_day = at.astimezone(self.zone).date()
        for offset in range(horizon_days + 1):
            starts = sorted(s for s, _ in self._intervals_starting_on(local_day + timedelta(days=offset)) if s >= at)
            if starts:
                return starts[0]
        return None

    def next_closing(self, at: datetime) -> datetime | None:
        """When the interval that contains `at` ends (None when closed at `at`)."""
        local_day = at.astimezone(self.zone).date()
        ends = [end for day in (local_day - timedelta(days=1), local_day)
                for start, end in self._intervals_starting_on(day) if start <= at < end]
        return max(ends) if ends else None
