"""Appointments: booking one (with an automated confirmation to the customer on request),
rescheduling it, and recording how it went (showed, no_show, cancelled)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.clock import iso, parse_time
from chalicelib.deps import Deps
from chalicelib.domain import conversations as rules
from chalicelib.domain.appointments import Appointment, confirmation_text
from chalicelib.domain.changes import Change
from chalicelib.domain.errors import Conflict, LostRace, NotFound
from chalicelib.domain.leads import Lead, lock_kept
from chalicelib.domain.records import human_response
from chalicelib.domain.tenancy import Principal
from chalicelib.ids import new_id
from chalicelib.services.access import visible_lead
from chalicelib.services.lead_changes import change_lead, report_event, timeline_event
from chalicelib.services.messaging import Automated, automated_message
from chalicelib.services.outbox import enqueue_send


def create_appointment(deps: Deps, actor: Principal, lead_id: str, at: str, note: str | None,
                       confirm: bool = False) -> tuple[Appointment, str | None]:
    """Book it; with `confirm`, text the customer an automated confirmation. Returns the
    appointment and the confirmation's message id (None when none was sent)."""
    lead = visible_lead(deps, actor, lead_id)
    now = iso(deps.clock.now())
    appointment = Appointment(appointment_id=new_id("apt", deps.clock.now()), lead_id=lead.lead_id,
                              account_id=lead.account_id, group_id=lead.group_id, at=iso(parse_time(at)), note=note,
                              created_by=actor.user_id, created_at=now, updated_at=now)
    account = deps.accounts.require(lead.account_id) if confirm else None

    def decide(current: Lead) -> Change[Automated]:
        first, reports = human_response(current, actor.user_id, "appointment", deps.clock.now())
        reports.append(report_event(deps, current, "appointment_created", user_id=actor.user_id,
                                    appointment_id=appointment.appointment_id, appointment_at=appointment.at))
        events = [timeline_event(deps, current, "appointment", actor.user_id, appointment_id=appointment.appointment_id,
                                 action="created", appointment_at=appointment.at, note=note, status="scheduled")]
        updates: dict[str, Any] = {"open_appointments": current.open_appointments + 1, "awaiting_since": None,
                                   **first, **lock_kept(current, actor.user_id, deps.clock.now())}
        writes = [deps.appointments.save(appointment)]
        confirmation = automated_message(deps, current, account, confirmation_text(account, appointment.at)) \
            if account is not None else None
        if confirmation is not None:
            # The confirmation follows the booking in the timeline.
            later = iso(deps.clock.now() + timedelta(milliseconds=1))
            events.append(timeline_event(deps, current, "message", None, event_id=confirmation.data.message_id,
                                         at=later, **confirmation.data.model_dump(exclude_none=True)))
            writes.append(deps.outbox.add(confirmation.outbox, confirmation.due_at))
            if confirmation.scheduled:
                updates["scheduled_messages"] = current.scheduled_messages + 1
            else:
                updates.update(rules.outbound_last_message(rules.customer_last_message_at(current), later,
                                                           confirmation.data.body))
                reports.append(report_event(deps, current, "message_outbound", automated=True,
                                            channel=confirmation.data.channel))
        return Change(updates=updates, events=events, reports=reports, writes=writes, result=confirmation)

    sent = change_lead(deps, lead_id, decide, touch=True).result
    if sent is not None and not sent.scheduled:
        enqueue_send(deps, sent.data.message_id)
    return appointment, sent.data.message_id if sent is not None else None


def update_appointment(deps: Deps, actor: Principal, appointment_id: str, at: str | None,
                       status: str | None) -> Appointment:
    appointment = deps.appointments.get(appointment_id)
    if appointment is None:
        raise NotFound("appointment not found")
    visible_lead(deps, actor, appointment.lead_id)
    if appointment.status != "scheduled":
        raise Conflict(f"the appointment is already {appointment.status}", code="already_decided",
                       extra={"status": appointment.status})
    now = iso(deps.clock.now())
    after = appointment.model_copy(update={"updated_at": now, **({"at": iso(parse_time(at))} if at else {}),
                                           **({"status": status} if status else {})})

    def decide(lead: Lead) -> Change[None]:
        updates: dict[str, Any] = lock_kept(lead, actor.user_id, deps.clock.now())
        reports = []
        if status:
            updates["open_appointments"] = max(0, lead.open_appointments - 1)
            if status == "showed":
                updates["showed"] = True
            reports.append(report_event(deps, lead, f"appointment_{status}", user_id=actor.user_id,
                                        appointment_id=appointment_id))
        event = timeline_event(deps, lead, "appointment", actor.user_id, appointment_id=appointment_id,
                               action=status or "rescheduled", appointment_at=after.at, status=after.status)
        return Change(updates=updates, events=[event], reports=reports,
                      writes=[deps.appointments.save(after, expected_status="scheduled")])

    try:
        change_lead(deps, appointment.lead_id, decide, touch=True)
    except LostRace as exc:  # AlreadyDecided: someone recorded or moved it first
        raise Conflict("the appointment changed meanwhile", code="already_decided") from exc
    return after
