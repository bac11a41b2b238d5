"""Handing a lead to people outside Leadline by email: escalation to the store's escalation
address (the note and the whole transcript), and the lead as ADF XML to the store's CRM."""

from __future__ import annotations

from typing import Any

from chalicelib.deps import Deps
from chalicelib.domain.changes import Change
from chalicelib.domain.errors import Conflict
from chalicelib.domain.leads import Lead, lock_kept
from chalicelib.domain.mail import Email
from chalicelib.domain.records import human_response
from chalicelib.domain.tenancy import Principal
from chalicelib.domain.timeline import TimelineEvent
from chalicelib.services.access import visible_lead
from chalicelib.services.lead_changes import change_lead, timeline_event


def _staff_names(deps: Deps, lead: Lead, events: list[TimelineEvent]) -> dict[str, str]:
    names: dict[str, str] = {}
    for user_id in {e.by for e in events if e.by}:
        user = deps.users.get(user_id)
        if user is not None and user.group_id == lead.group_id:
            names[user_id] = user.name
    return names


def escalate(deps: Deps, actor: Principal, lead_id: str, note: str) -> dict[str, Any]:
    from chalicelib.domain.adf_out import transcript

    lead = visible_lead(deps, actor, lead_id)
    lock_kept(lead, actor.user_id, deps.clock.now())
    account = deps.accounts.require(lead.account_id)
    if not account.escalation_email:
        raise Conflict("the store has no escalation_email", code="not_configured",
                       details=[{"field": "escalation_email", "message": "is not set for the store"}])
    events = deps.leads.timeline(lead_id)
    lines = transcript(events, lead, account.timezone, _staff_names(deps, lead, events)) or "(no messages yet)"
    contact = ", ".join(p for p in (lead.phone, lead.email) if p) or "no contact details"
    text = (f"{actor.name or 'An agent'} escalated a lead at {account.name}.\n\n"
            f"Note:\n{note}\n\nLead: {lead.name or 'unnamed'} ({contact})\nSource: {lead.source}\n"
            f"Status: {lead.status}\nLead id: {lead.lead_id}\n\nConversation:\n{lines}\n")
    email_id = deps.mailer.send(Email(to=[account.escalation_email],
                                      subject=f"Escalation: {lead.name or lead.lead_id} ({account.name})",
                                      text=text, reply_to=[actor.email] if actor.email else []))

    def decide(current: Lead) -> Change[None]:
        first, reports = human_response(current, actor.user_id, "email", deps.clock.now())
        return Change(updates=first, reports=reports, events=[timeline_event(
            deps, current, "escalation", actor.user_id, note=note, to=account.escalation_email, email_id=email_id)])

    change_lead(deps, lead_id, decide, touch=True)
    return {"lead_id": lead_id, "sent_to": account.escalation_email}


def send_to_crm(deps: Deps, actor: Principal, lead_id: str) -> dict[str, Any]:
    from chalicelib.domain.adf_out import lead_to_adf, transcript

    lead = visible_lead(deps, actor, lead_id)
    account = deps.accounts.require(lead.account_id)
    if not account.crm_email:
        raise Conflict("the store has no crm_email", code="not_configured",
                       details=[{"field": "crm_email", "message": "is not set for the store"}])
    events = deps.leads.timeline(lead_id)
    xml = lead_to_adf(lead, account, transcript(events, lead, account.timezone, _staff_names(deps, lead, events)))
    # Dealer CRMs read the ADF document from the mail body.
    email_id = deps.mailer.send(Email(to=[account.crm_email], subject=f"ADF lead {lead.lead_id}", text=xml))

    def decide(current: Lead) -> Change[None]:
        return Change(events=[timeline_event(deps, current, "crm", actor.user_id, to=account.crm_email,
                                             email_id=email_id)])

    change_lead(deps, lead_id, decide, touch=True)
    return {"lead_id": lead_id, "sent_to": account.crm_email}
