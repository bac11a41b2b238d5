"""When the response clock starts: the store's next opening, looked up fast.

`BusinessHours.next_opening` is the one definition of "next opening" (several intervals
a day, overnight intervals, holidays, DST). Calling it once per lead costs a few zoneinfo
conversions each; a report over 100,000 leads would spend seconds there. So the
calendar walks `next_opening` / `next_closing` once over the period to list the store's
open intervals, then answers each lead with a binary search. Outside the listed span it
asks `BusinessHours` directly, so the answer is always the same as `next_opening`."""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime, timedelta

from chalicelib.domain.business_hours import BusinessHours

# next_opening looks 21 days ahead; listing that far past the period keeps every lookup inside the list.
_LOOKAHEAD = timedelta(days=22)


class OpeningCalendar:
    def __init__(self, hours: BusinessHours, start: datetime, end: datetime) -> None:
        self.hours = hours
        self.covered_from = start.timestamp()
        self._starts: list[float] = []
        self._ends: list[float] = []
        at, stop = start, end + _LOOKAHEAD
        while at < stop:
            opening = hours.next_opening(at)
            if opening is None:
                break
            closing = hours.next_closing(opening)
            if closing is None or closing <= opening:
                break
            self._starts.append(opening.timestamp())
            self._ends.append(closing.timestamp())
            at = closing
        # Lookups before this instant are answered from the list.
        self.covered_until = at.timestamp()

    def clock_start(self, arrival: float) -> float:
        """Epoch seconds at which the response clock starts for a lead that arrived at `arrival`:
        the arrival itself when open, else the next opening; the arrival when the store stays
        closed for the next 21 days (nothing to wait for)."""
        if self.covered_from <= arrival < self.covered_until:
            i = bisect_right(self._starts, arrival) - 1
            if i >= 0 and arrival < self._ends[i]:
                return arrival
            if i + 1 < len(self._starts):
                return self._starts[i + 1]
        found = self.hours.next_opening(datetime.fromtimestamp(arrival, UTC))
        return found.timestamp() if found is not None else arrival
