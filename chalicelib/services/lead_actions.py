"""What staff do to a lead's conversation besides writing: mark it answered elsewhere, opt the
customer out, stop scheduled and automated messages, skip to follow-up."""

from __future__ import annotations

from chalicelib.deps import Deps
from chalicelib.domain import conversations as rules
from chalicelib.domain.changes import Change
from chalicelib.domain.leads import Lead, check_status_change, lock_kept
from chalicelib.domain.records import human_response
from chalicelib.domain.tenancy import Principal
from chalicelib.services.access import visible_lead
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
    """No scheduled or automated message goes to this lead any more (due ones are dropped);
    an agent can still answer by hand."""
    visible_lead(deps, actor, lead_id)

    def decide(lead: Lead) -> Change[None] | None:
        if lead.stop_messaging:
            return None
        return Change(updates={"stop_messaging": True, **lock_kept(lead, actor.user_id, deps.clock.now())},
                      events=[timeline_event(deps, lead, "edit", actor.user_id, field="stop_messaging", value=True)])

    return change_lead(deps, lead_id, decide, touch=True).lead


def skip_to_follow_up(deps: Deps, actor: Principal, lead_id: str) -> Lead:
    visible_lead(deps, actor, lead_id)

    def decide(lead: Lead) -> Change[None] | None:
        if lead.status == "follow_up":
            return None
        check_status_change(lead.status, "follow_up")
        change = {"from": lead.status, "to": "follow_up"}
        return Change(updates={"status": "follow_up", "awaiting_since": None,
                               **lock_kept(lead, actor.user_id, deps.clock.now())},
                      events=[timeline_event(deps, lead, "status", actor.user_id, action="skip_to_follow_up",
                                             **change)],
                      reports=[report_event(deps, lead, "status_changed", user_id=actor.user_id, **change)])

    return change_lead(deps, lead_id, decide, touch=True).lead
