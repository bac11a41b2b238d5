"""Where a report's figures come from: the rollups (what the API serves) or the raw report
events (the recomputation: the oracle the tests and `leadline report verify` compare with,
and the fallback while an installation's rollups are first built; `Settings.report_source`).

Rollups: per store, one Query of its rollup days for the window (UTC days, one item each;
past 1 MB it pages), plus the live tail when the window's cutoff is recent — the store's
report events of the last `report_tail_seconds` (one Query) and, if any, the ledgers of their
leads and the score entries of the people in them, so what the stream has not applied yet
counts too. Stores are read side by side (fanout.py).

Events: per store, one Query per UTC day from the window's start to its cutoff; scores from
each person's ledger. Its cost grows with days; it is kept as the independent reading."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain.reports.figures import ScoreEntry
from chalicelib.domain.reports.fold import Fold, StoreSlice, fold, fold_events
from chalicelib.domain.reports.ledger import TAKES, DayShare, LeadLedger
from chalicelib.domain.reports.periods import Window, read_until
from chalicelib.domain.reports.rollup import store_slice
from chalicelib.fanout import fan_out
from chalicelib.services.rollups import REPORT_EVENT, group_by_lead

if TYPE_CHECKING:
    from chalicelib.services.reports import Scope

# Report events whose change also wrote score-ledger entries (for the tail's scores).
_SCORED_KINDS = frozenset({"offer_accepted", "offer_declined", "offer_timed_out", "lead_requeued", "lead_assigned",
                           "feedback", "lead_coalesced"})


class ReportSource(Protocol):
    def fold(self, deps: Deps, scope: Scope, scores: bool = True) -> Fold: ...

    def scores(self, deps: Deps, scope: Scope, fold: Fold, people: Iterable[str]) -> list[ScoreEntry]: ...


def source_for(deps: Deps) -> ReportSource:
    return EventSource() if deps.settings.report_source == "events" else RollupSource()


class RollupSource:
    def fold(self, deps: Deps, scope: Scope, scores: bool = True) -> Fold:
        now = deps.clock.now()

        def read(account_id: str) -> StoreSlice:
            return rollup_slice(deps, account_id, scope.windows[account_id], scope.as_of, now, scores)

        return fold(fan_out(read, scope.account_ids), scope.windows, iso(scope.as_of))

    def scores(self, deps: Deps, scope: Scope, fold: Fold, people: Iterable[str]) -> list[ScoreEntry]:
        wanted = set(people)
        return [ScoreEntry(user, account_id, at, points) for user, account_id, at, points in fold.scores
                if user in wanted]


class EventSource:
    def fold(self, deps: Deps, scope: Scope, scores: bool = True) -> Fold:  # its fold reads no score entries
        repo = deps.report_records
        events: list[dict[str, Any]] = []
        for account_id in scope.account_ids:
            win = scope.windows[account_id]
            events.extend(repo.events_between(account_id, win.start_at, read_until(win, scope.as_of)))
        return fold_events(events, scope.windows, iso(scope.as_of))

    def scores(self, deps: Deps, scope: Scope, fold: Fold, people: Iterable[str]) -> list[ScoreEntry]:
        wins = list(scope.windows.values())
        if not wins:
            return []
        repo = deps.report_records
        start, end = min(w.start for w in wins), max(w.end for w in wins)
        return [entry for user_id in sorted(set(people)) for entry in repo.score_entries(user_id, start, end)]


# -- one store from its rollup ------------------------------------------------------------------

def rollup_slice(deps: Deps, account_id: str, win: Window, as_of: datetime, now: datetime,
                 scores: bool = True) -> StoreSlice:
    """A store's leads, requests and scores for `win`: its rollup days and the live tail (without
    the tail's score entries when `scores` is false: see live_tail)."""
    first = win.start_at.astimezone(UTC).date()
    last = (win.end_at - timedelta(milliseconds=1)).astimezone(UTC).date()
    days = deps.rollups.read_days(account_id, first, last)
    cutoff = read_until(win, as_of)
    since = max(win.start_at, now - timedelta(seconds=deps.settings.report_tail_seconds))
    overrides = live_tail(deps, account_id, since, cutoff, scores) if cutoff >= since else {}
    return store_slice(account_id, days, overrides)


def live_tail(deps: Deps, account_id: str, since: datetime, until: datetime,
              scores: bool = True) -> dict[str, dict[str, DayShare]]:
    """lead_id -> its day shares with the store's report events (and their score entries) of
    [since, until] that its ledger does not hold yet; leads whose ledger holds them all are left out.
    `scores=False` leaves the score entries out (a Query per scored user): for a report that shows
    no scores, such as the group overview; its leads' figures are the same."""
    reports = deps.report_records
    events = reports.events_between(account_id, since, until)
    if not events:
        return {}
    for e in events:
        e["type"] = REPORT_EVENT
    users = {str(e["user_id"]) for e in events if e.get("user_id") and e["kind"] in _SCORED_KINDS}
    ledgers = deps.rollups.ledgers({str(e["lead_id"]) for e in events})
    for ledger in ledgers.values():
        owner = _owner(ledger)
        if owner and any(e["kind"] == "lead_coalesced" and e["lead_id"] == ledger.lead_id for e in events):
            users.add(owner)
    scored = sorted(users) if scores else []
    entries = [s for user_id in scored for s in reports.score_items(user_id, iso(since), iso(until))
               if s.get("account_id") == account_id]
    overrides: dict[str, dict[str, DayShare]] = {}
    for lead_id, given in group_by_lead([*events, *entries]).items():
        ledger = ledgers.get(lead_id) or LeadLedger(lead_id, account_id)
        if ledger.add_all(given.facts):
            overrides[lead_id] = ledger.shares()
    return overrides


def _owner(ledger: LeadLedger) -> str | None:
    """Whoever owns the lead by the ledger (the latest accept, claim or assignment)."""
    takes = [f for f in ledger.facts if f[2] in TAKES]
    return takes[-1][3] if takes else None
