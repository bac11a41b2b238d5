"""The clock a response target runs on: wall time, or only while the store is open. Pure.

`ResponseClock()` is wall time. With a store's `BusinessHours` the clock runs only inside its open
intervals — several a day, overnight intervals, holidays closed all day, DST by the store's IANA
zone — using the same `BusinessHours.next_opening` / `next_closing` the response-time report starts
its clock with, so a deadline and the report read one calendar.

A store closed for longer than `next_opening` looks ahead (21 days) has nothing to wait for: the
clock then runs on wall time from where it stands, as the report does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.business_hours import BusinessHours

# Open intervals one deadline may walk through: a 30-day target over two intervals a day is ~60.
MAX_INTERVALS = 2_000


@dataclass(frozen=True)
class ResponseClock:
    hours: BusinessHours | None = None

    def start(self, at: datetime) -> datetime:
        """When the clock starts for something that happened at `at`: `at` itself on wall time or
        while the store is open, else the store's next opening."""
        if self.hours is None:
            return at
        opening = self.hours.next_opening(at)
        return opening if opening is not None else at

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant at which `seconds` of clock time have run from `start`. On business hours a
        deadline that does not fit in today's opening carries over to the next one; landing exactly on
        a closing time is that closing time (the last open instant's end), not the next opening."""
        left = timedelta(seconds=seconds)
        if self.hours is None:
            return start + left
        at = start
        for _ in range(MAX_INTERVALS):
            opening = self.hours.next_opening(at)
            closing = self.hours.next_closing(opening) if opening is not None else None
            if opening is None or closing is None or closing <= opening:
                return at + left
            if left <= closing - opening:
                return opening + left
            left -= closing - opening
            at = closing
        return at + left

    def elapsed(self, start: datetime, end: datetime) -> float:
        """Seconds of clock time from `start` to `end` (0 when `end` is not after `start`)."""
        if end <= start:
            return 0.0
        if self.hours is None:
            return (end - start).total_seconds()
        total = timedelta()
        at = start
        for _ in range(MAX_INTERVALS):
            opening = self.hours.next_opening(at)
            closing = self.hours.next_closing(opening) if opening is not None else None
            if opening is None or closing is None or closing <= opening:
                return (total + (end - at)).total_seconds()
            if opening >= end:
                break
            total += min(closing, end) - opening
            if closing >= end:
                break
            at = closing
        return total.total_seconds()
