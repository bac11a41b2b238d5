"""Report periods: calendar dates in each store's timezone turned into UTC instants.

A period `from`..`to` covers `from` 00:00 up to (not including) the day after `to`
00:00, in the store's own timezone, so a DST day is 23 or 25 hours long as it should be.
Keys and events carry `clock.iso()` strings, which compare correctly as text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.clock import iso

DEFAULT_DAYS = 30
MAX_DAYS = 366
# Outcomes (accepts, replies, feedback...) of the period's leads are read until `as_of`,
# but never more than this many days after the period ends: an old period's report
# stops changing after that and costs a bounded number of day partitions to read.
OUTCOME_HORIZON_DAYS = 30


@dataclass(frozen=True)
class Window:
    """One store's period: leads whose arrival is in [start, end) belong to it."""

    account_id: str
    timezone: str
    first_day: date
    last_day: date
    start: str  # iso, included
    end: str    # iso, excluded

    @property
    def start_at(self) -> datetime:
        return _parse(self.start)

    @property
    def end_at(self) -> datetime:
        return _parse(self.end)


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def local_midnight(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(0, 0), ZoneInfo(timezone)).astimezone(UTC)


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def window(account_id: str, timezone: str, first_day: date, last_day: date) -> Window:
    return Window(account_id, timezone, first_day, last_day,
                  iso(local_midnight(first_day, timezone)), iso(local_midnight(last_day + timedelta(days=1), timezone)))


def default_days(now: datetime, timezone: str) -> tuple[date, date]:
    """The last 30 days, today included, in the store's timezone."""
    today = local_today(now, timezone)
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def instant_window(account_id: str, timezone: str, start: datetime, end: datetime) -> Window:
    """A window given by instants (the internet-response module's last 12 hours)."""
    zone = ZoneInfo(timezone)
    return Window(account_id, timezone, start.astimezone(zone).date(), end.astimezone(zone).date(),
                  iso(start), iso(end))


def read_until(win: Window, as_of: datetime) -> datetime:
    """The last instant whose events the report reads for this window."""
    return min(as_of, win.end_at + timedelta(days=OUTCOME_HORIZON_DAYS))


def outcome_cutoff(win: Window) -> str:
    """The outcome horizon of a window (iso): outcomes after it never count, whatever `as_of`."""
    return iso(win.end_at + timedelta(days=OUTCOME_HORIZON_DAYS))


def utc_days(start: datetime, end: datetime) -> list[str]:
    """Every UTC date from `start` to `end` (both included), as the report partitions name them."""
    first, last = start.astimezone(UTC).date(), end.astimezone(UTC).date()
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
