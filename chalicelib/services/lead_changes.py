"""The one way a lead changes: read, decide, save in one conditional transaction, decide again
when something else changed the lead (or another record the decision read) meanwhile.

A decision is a function of the lead as it is now returning a `Change` (domain/changes.py), or
None to leave the lead as it is; it may raise a DomainError to refuse. What it wants its caller
to know travels back in `Change.result`: `change_lead` returns `Saved(lead, change)`.

Every change is also held against the cadences' stop rules (`cadence_rules.settle`): a change that opts
the customer out, records their message, sells the lead... stops its enrolment in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain import records
from chalicelib.domain.cadence_rules import settle
from chalicelib.domain.changes import Change, Saved
from chalicelib.domain.errors import Conflict, LeadChanged, LostRace
from chalicelib.domain.leads import Lead, next_version
from chalicelib.domain.report_events import ReportEvent
from chalicelib.domain.scoring import ScoreEvent
from chalicelib.domain.timeline import TimelineEvent
from chalicelib.services.timers import follow_deadline

T = TypeVar("T")
ATTEMPTS = 5
BUSY = "the lead is changing too fast; try again"


def change_lead(deps: Deps, lead_id: str, decide: Callable[[Lead], Change[T] | None], *, attempts: int = ATTEMPTS,
                touch: bool = False, known: Lead | None = None) -> Saved[T]:
    """Apply `decide` to the current lead and save it; decide again after the lead moved on.
    `touch` moves the lead's last activity to now; `known`: as in `decide_and_save`."""
    return decide_and_save(deps, lead_id, lambda lead, _attempt: decide(lead), attempts=attempts, touch=touch,
                           known=known)


def decide_and_save(deps: Deps, lead_id: str, decide: Callable[[Lead, int], Change[T] | None], *,
                    attempts: int = ATTEMPTS, touch: bool = False,
                    retry_on: tuple[type[LostRace], ...] = (LeadChanged,), busy: str = BUSY,
                    known: Lead | None = None) -> Saved[T]:
    """`change_lead` for decisions that read more than the lead: `decide(lead, attempt)` learns which
    attempt it is (0 first: what the caller read before is still fresh; later: read it again), and
    every conflict of `retry_on` (e.g. LostRace: an offer or rotation moved too) means deciding again.
    After `attempts` lost races, a 409 `busy`. `known`: the lead as the caller just wrote it, decided
    on without reading it first (the save is conditional on its version: if it moved on, the lead is
    read again and decided again)."""
    for attempt in range(attempts):
        before = known if attempt == 0 and known is not None else deps.leads.require(lead_id)
        change = decide(before, attempt)
        if change is None:
            return Saved(before)
        updates = dict(change.updates)
        if touch:
            updates.setdefault("last_activity_at", max(before.last_activity_at, iso(deps.clock.now())))
        after = next_version(before, **updates)
        # A change that meets a cadence's stop rule stops the lead's enrolment with it (domain/cadence_rules.py).
        stopped = settle(before, after, change.events, deps.clock.now())
        if stopped is not None:
            after = next_version(before, **{**updates, **stopped.updates})
        parts = [change, stopped] if stopped is not None else [change]
        writes = [*deps.leads.save(before, after), *(deps.leads.add_event(e) for c in parts for e in c.events),
                  *(deps.leads.add_score(s) for s in change.scores),
                  *(deps.leads.add_report(r) for c in parts for r in c.reports), *change.writes]
        try:
            deps.transactions.commit(writes)
        except retry_on:
            continue
        # Whatever use case set a response deadline (or passed its warning), its next timer follows.
        follow_deadline(deps, before, after)
        return Saved(after, change)
    raise Conflict(busy, code="busy")


# -- the records of a change, stamped with the clock as it reads now ----------------------------

def timeline_event(deps: Deps, lead: Lead, type_: str, by: str | None, at: str | None = None,
                   event_id: str | None = None, **data: Any) -> TimelineEvent:
    return records.timeline_event(lead, type_, by, deps.clock.now(), at=at, event_id=event_id, **data)


def score_event(deps: Deps, lead: Lead, user_id: str, reason: str, at: str | None = None) -> ScoreEvent:
    return records.score_event(lead, user_id, reason, deps.clock.now(), at=at)


def report_event(deps: Deps, lead: Lead, kind: str, user_id: str | None = None, at: str | None = None,
                 **data: Any) -> ReportEvent:
    return records.report_event(lead, kind, deps.clock.now(), user_id=user_id, at=at, **data)
