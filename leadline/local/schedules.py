"""EventBridge schedule expressions, evaluated locally: `rate(N unit)` and the six-field
AWS `cron(min hour day-of-month month day-of-week year)`, always in UTC as on AWS.

Supported cron syntax (AWS's): `*`, `?`, lists `a,b`, ranges `a-b`, steps `*/n` `a/n`
`a-b/n`, month and weekday names (JAN, MON), `L` (last day of month), `nL` in
day-of-week (last such weekday), `n#k` (k-th such weekday), `nW` (nearest weekday)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

MONTHS = {name: i for i, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}
# AWS numbers weekdays 1 (SUN) to 7 (SAT).
WEEKDAYS = {name: i for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)}
RATE_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
MAX_SEARCH_DAYS = 366 * 8


class Schedule(Protocol):
    expression: str

    def next_fire(self, after: datetime) -> datetime:
        """The first fire time strictly after `after` (UTC)."""
        ...


@dataclass
class RateSchedule:
    expression: str
    interval: timedelta
    anchor: datetime

    def next_fire(self, after: datetime) -> datetime:
        if after < self.anchor:
            return self.anchor + self.interval
        periods = int((after - self.anchor) / self.interval) + 1
        return self.anchor + periods * self.interval


def _weekday_aws(day: date) -> int:
    return (day.isoweekday() % 7) + 1  # Monday=1 in ISO -> 2 in AWS; Sunday=7 -> 1


def _number(token: str, names: dict[str, int], field: str) -> int:
    upper = token.upper()
    if upper in names:
        return names[upper]
    if not token.isdigit():
        raise ValueError(f"cron {field}: {token!r} is not a number")
    return int(token)


def _values(spec: str, low: int, high: int, field: str, names: dict[str, int] | None = None) -> frozenset[int]:
    names = names or {}
    found: set[int] = set()
    for part in spec.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"cron {field}: bad step in {spec!r}")
            step = int(step_text)
        if part in ("*", "?"):
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _number(a, names, field), _number(b, names, field)
        else:
            start = _number(part, names, field)
            end = high if step > 1 else start
        if not (low <= start <= high and low <= end <= high):
            raise ValueError(f"cron {field}: {spec!r} is outside {low}-{high}")
        if start <= end:
            found.update(range(start, end + 1, step))
        else:  # a wrapping range such as FRI-MON
            found.update(v for i, v in enumerate([*range(start, high + 1), *range(low, end + 1)]) if i % step == 0)
    return frozenset(found)


@dataclass
class CronSchedule:
    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int]
    day_of_month: str
    day_of_week: str

    def _day_matches(self, day: date) -> bool:
        if self.day_of_month != "?":
            return _day_of_month_matches(self.day_of_month, day)
        return _day_of_week_matches(self.day_of_week, day)

    def next_fire(self, after: datetime) -> datetime:
        after = after.astimezone(UTC)
        start = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.date()
        for _ in range(MAX_SEARCH_DAYS):
            if day.year in self.years and day.month in self.months and self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
                        if at >= start:
                            return at
            day += timedelta(days=1)
        raise ValueError(f"{self.expression} never fires in the next {MAX_SEARCH_DAYS} days")


def _day_of_month_matches(spec: str, day: date) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    if spec == "L":
        return day.day == last
    if spec.endswith("W"):
        target = min(int(spec[:-1]), last)
        nearest = date(day.year, day.month, target)
        if nearest.weekday() == 5:  # Saturday -> Friday, unless that leaves the month
            nearest = nearest - timedelta(days=1) if target > 1 else nearest + timedelta(days=2)
        elif nearest.weekday() == 6:  # Sunday -> Monday, unless that leaves the month
            nearest = nearest + timedelta(days=1) if target < last else nearest - timedelta(days=2)
        return day == nearest
    return day.day in _values(spec, 1, 31, "day-of-month")


def _day_of_week_matches(spec: str, day: date) -> bool:
    weekday = _weekday_aws(day)
    if "#" in spec:
        wanted, nth = spec.split("#", 1)
        return weekday == _number(wanted, WEEKDAYS, "day-of-week") and (day.day - 1) // 7 + 1 == int(nth)
    if spec.endswith("L") and spec != "L":
        last = calendar.monthrange(day.year, day.month)[1]
        return weekday == _number(spec[:-1], WEEKDAYS, "day-of-week") and day.day + 7 > last
    if spec == "L":
        return weekday == 7
    return weekday in _values(spec, 1, 7, "day-of-week", WEEKDAYS)


_RATE = re.compile(r"^rate\(\s*(\d+)\s+([a-z]+)\s*\)$", re.IGNORECASE)
_CRON = re.compile(r"^cron\((.*)\)$", re.IGNORECASE)


def parse_schedule(expression: str, anchor: datetime) -> Schedule:
    """A schedule from an expression; `anchor` is when a rate starts counting (the stack's start)."""
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2).lower()
        if unit not in RATE_UNITS or value < 1:
            raise ValueError(f"bad rate expression {expression!r}")
        return RateSchedule(text, timedelta(seconds=value * RATE_UNITS[unit]), anchor.astimezone(UTC))
    cron = _CRON.match(text)
    if not cron:
        raise ValueError(f"not a rate(...) or cron(...) expression: {expression!r}")
    fields = cron.group(1).split()
    if len(fields) != 6:
        raise ValueError(f"cron needs six fields (min hour day-of-month month day-of-week year): {expression!r}")
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ValueError(f"cron: exactly one of day-of-month and day-of-week must be '?': {expression!r}")
    schedule = CronSchedule(
        expression=text, minutes=_values(minute, 0, 59, "minutes"), hours=_values(hour, 0, 23, "hours"),
        months=_values(month, 1, 12, "month", MONTHS), years=_values(year, 1970, 2199, "year"),
        day_of_month=dom.upper(), day_of_week=dow.upper(),
    )
    # Validate the day fields now, not at the first evaluation in a background thread.
    schedule._day_matches(anchor.date())
    return schedule
