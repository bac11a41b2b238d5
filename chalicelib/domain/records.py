"""The records a lead change writes beside the lead: timeline events (what people read), score
ledger entries and report events (what reports count). Pure: each takes the moment it records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.clock import iso
from chalicelib.domain import targets
from chalicelib.domain.leads import Lead
from chalicelib.domain.report_events import ReportEvent
from chalicelib.domain.scoring import POINTS, ScoreEvent
from chalicelib.domain.timeline import TimelineEvent
from chalicelib.ids import new_id


def timeline_event(lead: Lead, type_: str, by: str | None, now: datetime, at: str | None = None,
                   event_id: str | None = None, **data: Any) -> TimelineEvent:
    return TimelineEvent(event_id=event_id or new_id("evt", now), lead_id=lead.lead_id, type=type_,  # type: ignore[arg-type]
                         at=at or iso(now), by=by, data=data)


def score_event(lead: Lead, user_id: str, reason: str, now: datetime, at: str | None = None) -> ScoreEvent:
    return ScoreEvent(event_id=new_id("scr", now), user_id=user_id, account_id=lead.account_id, lead_id=lead.lead_id,
                      at=at or iso(now), reason=reason, points=POINTS[reason])  # type: ignore[arg-type]


def report_event(lead: Lead, kind: str, now: datetime, user_id: str | None = None, at: str | None = None,
                 **data: Any) -> ReportEvent:
    return ReportEvent(event_id=new_id("rev", now), account_id=lead.account_id, group_id=lead.group_id,
                       kind=kind, at=at or iso(now), lead_id=lead.lead_id, user_id=user_id,  # type: ignore[arg-type]
                       data=data)


def human_response(lead: Lead, user_id: str | None, activity: str, now: datetime,
                   **data: Any) -> tuple[dict[str, Any], list[ReportEvent]]:
    """What a person's answer to the lead records, at `now` (when it happened): the report event the
    response clock reads, and the lead's first response time when this is the earliest. `activity`:
    message, email, call, activity (logged work: its kind in `activity_kind`), appointment, responded.
    Every kind of answer comes through here, so this is also where the owner's answer meets (or, late,
    misses) their response deadline and clears it (domain/targets.py): one `target_met` /
    `target_missed` per deadline."""
    at = iso(now)
    updates: dict[str, Any] = {} if lead.first_response_at and lead.first_response_at <= at \
        else {"first_response_at": at}
    reports = [report_event(lead, "human_response", now, user_id=user_id, activity=activity, automated=False,
                            **data)]
    answer = targets.answered(lead, user_id, now)
    if answer is not None:
        updates.update(targets.cleared(lead))
        if answer.counts:
            reports.append(report_event(lead, "target_met" if answer.met else "target_missed", now,
                                        user_id=answer.deadline.owner, answered=True,
                                        **targets.miss_data(answer.deadline)))
    return updates, reports
