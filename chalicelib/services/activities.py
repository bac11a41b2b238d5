"""Work done outside Leadline, logged on the lead: a call from a desk phone, an email from a
personal inbox, a showroom visit, a task. It is a timeline `activity` at the time it happened and
a human answer to the lead (domain/records.human_response at that time): the response-time
report counts it, and it clears `awaiting_since` when it came after the customer's last message."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.clock import iso, parse_time
from chalicelib.deps import Deps
from chalicelib.domain.changes import Change
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.leads import Lead, lock_kept
from chalicelib.domain.records import human_response
from chalicelib.domain.tenancy import Principal
from chalicelib.domain.timeline import TimelineEvent
from chalicelib.ids import new_id
from chalicelib.services.access import still_visible, visible_lead
from chalicelib.services.lead_changes import change_lead, timeline_event

KINDS = ("call", "email", "visit", "task")
# A phone's clock a little ahead of ours is not "the future".
CLOCK_SKEW = timedelta(minutes=2)


def log_activity(deps: Deps, actor: Principal, lead_id: str, kind: str, note: str,
                 at: str | None = None) -> TimelineEvent:
    lead = visible_lead(deps, actor, lead_id)
    now = deps.clock.now()
    when = parse_time(at) if at else now
    if when > now + CLOCK_SKEW:
        raise ValidationFailed.field("at", "is in the future")
    if when < parse_time(lead.received_at):
        raise ValidationFailed.field("at", f"is before the lead arrived ({lead.received_at})")
    when = min(when, now)
    activity_id = new_id("act", now)

    def decide(current: Lead) -> Change[TimelineEvent]:
        still_visible(actor, current)
        updates: dict[str, Any] = lock_kept(current, actor.user_id, deps.clock.now())
        first, reports = human_response(current, actor.user_id, "activity", when, activity_kind=kind)
        updates.update(first)
        if current.awaiting_since is not None and current.awaiting_since <= iso(when):
            updates["awaiting_since"] = None
        event = timeline_event(deps, current, "activity", actor.user_id, at=iso(when), event_id=activity_id,
                               activity_id=activity_id, kind=kind, note=note, logged_at=iso(now))
        return Change(updates=updates, events=[event], reports=reports, result=event)

    saved = change_lead(deps, lead.lead_id, decide, touch=True)
    assert saved.result is not None  # the decision always records the event
    return saved.result
