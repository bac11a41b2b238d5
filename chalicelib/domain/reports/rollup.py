"""A store's rollup: per UTC day, what each lead contributes to it — the lead itself on the day
it arrived, its repeat requests and score entries on the days they happened — each with the
version of the lead's ledger it came from.

The day is the UTC day, not the store's: a store's local period covers whole UTC days plus
parts of the two at its edges, and every entry carries its own time, so the fold keeps exactly
the window's entries whatever the store's timezone (or a timezone changed since)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from chalicelib.domain.errors import Conflict
from chalicelib.domain.reports.fold import StoreSlice
from chalicelib.domain.reports.ledger import Dated, DayShare, LeadLedger, LeadSummary


class LedgerChanged(Conflict):
    """A lead's report ledger was saved by someone else since it was read."""


class RollupDayChanged(Conflict):
    """A store's rollup day was saved by someone else since it was read."""


@dataclass
class DayRollup:
    """One store's day. `entries`: lead_id -> (ledger version, share); `version` counts writes of
    the item itself (conditional writes)."""

    account_id: str
    day: str
    entries: dict[str, tuple[int, DayShare]] = field(default_factory=dict)
    version: int = 0

    def take(self, lead_id: str, version: int, share: DayShare) -> bool:
        """The lead's share of this day as of ledger `version`; what an older version says changes nothing."""
        held = self.entries.get(lead_id)
        if held is not None and held[0] >= version:
            return False
        if held is None and _empty(share):
            return False
        self.entries[lead_id] = (version, share)
        return True

    def drop_unknown(self, known: set[str], keep_from: int) -> int:
        """Remove entries of leads outside `known` whose every time is before `keep_from` (a
        rebuild read those times and found no such lead); returns how many went."""
        gone = [lead_id for lead_id, (_v, share) in self.entries.items()
                if lead_id not in known and _latest(share) < keep_from]
        for lead_id in gone:
            del self.entries[lead_id]
        return len(gone)

    def summaries(self) -> Iterator[LeadSummary]:
        for _version, share in self.entries.values():
            if share.summary is not None:
                yield share.summary

    def requests(self) -> Iterator[Dated]:
        for _version, share in self.entries.values():
            yield from share.requests

    def scores(self) -> Iterator[Dated]:
        for _version, share in self.entries.values():
            yield from share.scores


def _latest(share: DayShare) -> int:
    times = [d.at for d in (*share.requests, *share.scores)]
    if share.summary is not None:
        times.append(share.summary.arrival)
    return max(times, default=0)


def _empty(share: DayShare) -> bool:
    return share.summary is None and not share.requests and not share.scores


def shares_to_write(before: Mapping[str, DayShare], ledger: LeadLedger) -> dict[str, DayShare]:
    """Day -> the lead's share to record there now: every day it contributes to, and an empty
    share on a day it no longer does (its arrival moved: a second, earlier `lead_received`)."""
    now = ledger.shares()
    for day in before:
        now.setdefault(day, DayShare())
    return now


def store_slice(account_id: str, days: Iterable[DayRollup],
                overrides: Mapping[str, Mapping[str, DayShare]] | None = None) -> StoreSlice:
    """What a report folds for a store: its days' entries, with `overrides` (lead_id -> day ->
    share, from events newer than the rollup) in place of what the days hold for those leads."""
    overrides = overrides or {}
    summaries: list[LeadSummary] = []
    requests: list[Dated] = []
    scores: list[Dated] = []
    read: set[str] = set()
    for rollup in days:
        read.add(rollup.day)
        for lead_id, (_version, share) in rollup.entries.items():
            if lead_id in overrides:
                continue
            if share.summary is not None:
                summaries.append(share.summary)
            requests.extend(share.requests)
            scores.extend(share.scores)
    for shares in overrides.values():
        for day, share in shares.items():
            if day not in read:
                continue
            if share.summary is not None:
                summaries.append(share.summary)
            requests.extend(share.requests)
            scores.extend(share.scores)
    return StoreSlice(account_id, summaries, requests, scores)


def utc_day_range(first: date, last: date) -> list[str]:
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
