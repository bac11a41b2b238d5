"""What staff do to a lead's conversation besides writing: mark it answered elsewhere, opt the
customer out, stop and resume scheduled and automated messages (the cadence with them), skip to
follow-up."""

from __future__ import annotations

from chalicelib.deps import Deps
from chalicelib.domain import cadence_rules
from chalicelib.domain import conversations as rules
from chalicelib.domain.cadences import Cadence
from chalicelib.domain.changes import Change
from chalicelib.domain.leads import Lead, check_status_change, lock_kept
from chalicelib.domain.records import human_response
from chalicelib.domain.tenancy import Principal, Role
from chalicelib.services.access import visible_lead
from chalicelib.services.cadence_steps import set_step_timer
from chalicelib.services.lead_changes import change_lead, report_event, timeline_event


def mark_responded(deps: Deps, actor: Principal, lead_id: str) -> Lead:
    visible_lead(deps, actor, lead_id)

    def decide(lead: Lead) -> Change[None]:
        first, reports = human_response(lead, actor.user_id, "responded", deps.clock.now())
        return Change(updates={"awaiting_since": None, **first, **lock_kept(lead, actor.user_id, deps.clock.now())},
                      reports=reports, events=[timeline_event(deps, lead, "responded", actor.user_id)])

    return change_lead(deps, lead_id, decide, touch=True).lead


def agent_opt_out(deps: Deps, actor: Principal, lead_id: str) -> Lead:
    """An agent opts the customer out on their behalf: no more messages, the lead is dead."""
    visible_lead(deps, actor, lead_id)

    def decide(lead: Lead) -> Change[None] | None:
        return rules.opt_out_change(lead, actor.user_id, "agent", deps.clock.now())

    return change_lead(deps, lead_id, decide, touch=True).lead


def stop_messaging(deps: Deps, actor: Principal, lead_id: str) -> Lead:
    """No scheduled or automated message goes to this lead any more (due ones are dropped), and its
    cadence stops (`stopped_by_staff`, through the stop rules every lead change meets); an agent can
    still answer by hand. Managers and up."""
    visible_lead(deps, actor, lead_id)
    actor.require_role(Role.MANAGER)

    def decide(lead: Lead) -> Change[None] | None:
        if lead.stop_messaging:
            return None
        return Change(updates={"stop_messaging": True, **lock_kept(lead, actor.user_id, deps.clock.now())},
                      events=[timeline_event(deps, lead, "edit", actor.user_id, field="stop_messaging", value=True)])

    return change_lead(deps, lead_id, decide, touch=True).lead


def resume_messaging(deps: Deps, actor: Principal, lead_id: str) -> Lead:
    """Undo stop-messaging: scheduled and automated messages go again, and the cadence it stopped
    goes on from the step it was at (unless another stop rule holds by now). Managers and up."""
    visible_lead(deps, actor, lead_id)
    actor.require_role(Role.MANAGER)

    def decide(current: Lead) -> Change[None] | None:
        if not current.stop_messaging:
            return None
        cadence = _cadence_of(deps, current)
        change: Change[None] = Change(
            updates={"stop_messaging": False, **lock_kept(current, actor.user_id, deps.clock.now())},
            events=[timeline_event(deps, current, "edit", actor.user_id, field="stop_messaging", value=False)])
        resumed = cadence_rules.resume(current.model_copy(update={"stop_messaging": False}), cadence,
                                       actor.user_id, deps.clock.now())
        change.merge(resumed)
        return change

    saved = change_lead(deps, lead_id, decide, touch=True)
    set_step_timer(deps, saved.lead)
    return saved.lead


def skip_to_follow_up(deps: Deps, actor: Principal, lead_id: str) -> Lead:
    """The lead moves to follow_up; its active cadence moves to its first follow-up step not yet sent,
    due that step's `after_seconds` from now (409 `no_follow_up_step` when it has none)."""
    visible_lead(deps, actor, lead_id)

    def decide(current: Lead) -> Change[None] | None:
        change: Change[None] = Change(updates=lock_kept(current, actor.user_id, deps.clock.now()))
        cadence = _cadence_of(deps, current)
        change.merge(cadence_rules.skip_to_follow_up(current, cadence, actor.user_id, deps.clock.now()))
        if current.status != "follow_up":
            check_status_change(current.status, "follow_up")
            moved = {"from": current.status, "to": "follow_up"}
            change.updates.update({"status": "follow_up", "awaiting_since": None})
            change.events.append(timeline_event(deps, current, "status", actor.user_id, action="skip_to_follow_up",
                                                **moved))
            change.reports.append(report_event(deps, current, "status_changed", user_id=actor.user_id, **moved))
        return change if change.events else None

    saved = change_lead(deps, lead_id, decide, touch=True)
    set_step_timer(deps, saved.lead)
    return saved.lead


def _cadence_of(deps: Deps, lead: Lead) -> Cadence | None:
    """The cadence of the lead's latest enrolment (read in the decision: it may change on a retry)."""
    return deps.cadences.get(lead.cadence.cadence_id) if lead.cadence is not None else None
