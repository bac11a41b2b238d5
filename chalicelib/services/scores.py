"""Feedback on a lead and the performance score: the ledger of explainable entries, summed over
any range of days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain.changes import Change
from chalicelib.domain.errors import Forbidden, NotFound, ValidationFailed
from chalicelib.domain.leads import Lead
from chalicelib.domain.scoring import BASE_SCORE, POINTS, ScoreEvent, feedback_reasons
from chalicelib.domain.tenancy import Principal, Role
from chalicelib.domain.users import User, can_view_user
from chalicelib.services.lead_changes import change_lead, report_event, score_event, timeline_event


def give_feedback(deps: Deps, actor: Principal, lead_id: str, contact_status: str | None,
                  comment: str | None) -> dict[str, Any]:
    """Record what came of a lead. The lead's owner earns each feedback part once per lead."""
    if contact_status is None and not (comment or "").strip():
        raise ValidationFailed.field("contact_status", "give a contact_status, a comment or both")
    lead = deps.leads.require(lead_id)
    if not actor.can_see_lead(lead.group_id, lead.account_id, lead.assigned_to):
        raise NotFound("lead not found")

    def decide(current: Lead) -> Change[list[str]]:
        now = iso(deps.clock.now())
        owner = current.assigned_to == actor.user_id
        already = deps.routing.feedback_earned(lead_id, actor.user_id) if owner else set()
        reasons = feedback_reasons(contact_status, comment, already) if owner else []
        comment_text = (comment or "").strip()
        data: dict[str, Any] = {"contact_status": contact_status, "comment": comment_text or None}
        change: Change[list[str]] = Change(
            events=[timeline_event(deps, current, "feedback", actor.user_id,
                                   **{k: v for k, v in data.items() if v is not None})],
            scores=[score_event(deps, current, actor.user_id, r) for r in reasons],
            reports=[report_event(deps, current, "feedback", actor.user_id, contact_status=contact_status,
                                  comment_chars=len(comment_text))],
            result=reasons,
        )
        if reasons:
            change.writes.append(deps.routing.record_feedback(lead_id, actor.user_id, already | set(reasons), now))
        return change

    earned_now = change_lead(deps, lead_id, decide, touch=True).result or []
    return {"lead_id": lead_id, "contact_status": contact_status, "comment_chars": len((comment or "").strip()),
            "earned": list(earned_now), "points": sum(POINTS[r] for r in earned_now)}


@dataclass(frozen=True)
class ScoreReport:
    user_id: str
    start: str
    end: str
    timezone: str
    score: int
    events: list[ScoreEvent]


def user_score(deps: Deps, actor: Principal, user_id: str, start: date | datetime | None,
               end: date | datetime | None, timezone: str | None = None) -> ScoreReport:
    """The score over [start, end] (default: the last 30 days) and every entry that makes it.

    Dates are whole days of `timezone`, by default the zone of the user's stores: the days the
    dashboard counts their score over, so the two agree."""
    user = deps.users.get(user_id)
    if user is None or not can_view_user(actor, user):
        raise NotFound("user not found")
    if user_id != actor.user_id and not actor.is_manager_or_above:
        raise Forbidden("agents see their own score only")
    zone_name = timezone or _home_zone(deps, user)
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a name too long for a file
        raise ValidationFailed.field("timezone", "is not an IANA timezone name") from exc

    def instant(bound: date | datetime | None, end_of_day: bool) -> datetime | None:
        if bound is None or isinstance(bound, datetime):
            return bound
        day = bound + timedelta(days=1) if end_of_day else bound
        midnight = datetime.combine(day, time(0), zone).astimezone(UTC)
        return midnight - timedelta(milliseconds=1) if end_of_day else midnight

    end_at = instant(end, True) or deps.clock.now()
    start_at = instant(start, False) or end_at - timedelta(days=30)
    if start_at > end_at:
        raise ValidationFailed.field("from", "must not be after to")
    events = deps.routing.score_events(user_id, iso(start_at), iso(end_at))
    return ScoreReport(user_id=user_id, start=iso(start_at), end=iso(end_at), timezone=zone_name,
                       score=BASE_SCORE + sum(e.points for e in events), events=events)


def _home_zone(deps: Deps, user: User) -> str:
    stores = [a for a in deps.accounts.list_for_group(user.group_id)
              if user.role is Role.GROUP_ADMIN or a.account_id in user.account_ids]
    zones = {a.timezone for a in stores}
    return zones.pop() if len(zones) == 1 else "UTC"

