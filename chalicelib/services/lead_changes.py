"""The one way a lead changes: read, decide, save in one conditional transaction, retry
when something else changed the lead meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.adapters.dynamodb.leads import LeadChanged, LeadRepository, next_version
from chalicelib.deps import Deps
from chalicelib.domain.errors import Conflict
from chalicelib.domain.leads import Lead
from chalicelib.domain.report_events import ReportEvent
from chalicelib.domain.scoring import POINTS, ScoreEvent
from chalicelib.domain.timeline import TimelineEvent
from chalicelib.ids import new_id

Op = dict[str, Any]


@dataclass
class Change:
    """What a decision returns: the lead's new fields and the records of the change."""

    updates: dict[str, Any] = field(default_factory=dict)
    events: list[TimelineEvent] = field(default_factory=list)
    scores: list[ScoreEvent] = field(default_factory=list)
    reports: list[ReportEvent] = field(default_factory=list)
    extra_ops: list[Op] = field(default_factory=list)
    result: Any = None


def change_lead(deps: Deps, lead_id: str, decide: Callable[[Lead], Change | None], attempts: int = 5,
                touch: bool = False) -> tuple[Lead, Change | None]:
    """Apply `decide` to the current lead and save it. `decide` may raise a DomainError to refuse,
    or return None to leave the lead as it is. `touch` moves the lead's last activity to now."""
    repo = LeadRepository(deps.table)
    for _ in range(attempts):
        before = repo.require(lead_id)
        change = decide(before)
        if change is None:
            return before, None
        updates = dict(change.updates)
        if touch:
            updates.setdefault("last_activity_at", max(before.last_activity_at, _now(deps)))
        after = next_version(before, **updates)
        ops = repo.save_ops(before, after)
        ops += [repo.event_op(e) for e in change.events]
        ops += [repo.score_op(s) for s in change.scores]
        ops += [repo.report_op(r) for r in change.reports]
        ops += change.extra_ops
        try:
            repo.commit(ops)
        except LeadChanged:
            continue
        return after, change
    raise Conflict("the lead is changing too fast; try again", code="busy")


def _now(deps: Deps) -> str:
    from chalicelib.clock import iso

    return iso(deps.clock.now())


def timeline_event(deps: Deps, lead: Lead, type_: str, by: str | None, at: str | None = None,
                   event_id: str | None = None, **data: Any) -> TimelineEvent:
    now = deps.clock.now()
    from chalicelib.clock import iso

    return TimelineEvent(event_id=event_id or new_id("evt", now), lead_id=lead.lead_id, type=type_,  # type: ignore[arg-type]
                         at=at or iso(now), by=by, data=data)


def score_event(deps: Deps, lead: Lead, user_id: str, reason: str, at: str | None = None) -> ScoreEvent:
    from chalicelib.clock import iso

    now = deps.clock.now()
    return ScoreEvent(event_id=new_id("scr", now), user_id=user_id, account_id=lead.account_id, lead_id=lead.lead_id,
                      at=at or iso(now), reason=reason, points=POINTS[reason])  # type: ignore[arg-type]


def report_event(deps: Deps, lead: Lead, kind: str, user_id: str | None = None, at: str | None = None,
                 **data: Any) -> ReportEvent:
    from chalicelib.clock import iso

    now = deps.clock.now()
    return ReportEvent(event_id=new_id("rev", now), account_id=lead.account_id, group_id=lead.group_id,
                       kind=kind, at=at or iso(now), lead_id=lead.lead_id, user_id=user_id,  # type: ignore[arg-type]
                       data=data)
