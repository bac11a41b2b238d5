"""Appointments: booking one (with an automated confirmation to the customer on request),
rescheduling it, and recording how it went (showed, no_show, cancelled). A store's
`appointment_reminders_seconds` schedule automated reminders before each open appointment: they
are scheduled messages of the outbox (quiet hours, opt-out and stop-messaging hold for them), moved
with the appointment and withdrawn when it is cancelled or recorded."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.clock import iso, parse_time
from chalicelib.deps import Deps
from chalicelib.domain.accounts import Account
from chalicelib.domain.appointments import Appointment, confirmation_text, reminder_text, reminder_times
from chalicelib.domain.changes import Change
from chalicelib.domain.errors import AlreadyDecided, Conflict, LeadChanged, LostRace, NotFound
from chalicelib.domain.leads import Lead, lock_kept
from chalicelib.domain.records import human_response
from chalicelib.domain.tenancy import Principal
from chalicelib.ids import new_id
from chalicelib.services.access import visible_lead
from chalicelib.services.lead_changes import change_lead, decide_and_save, report_event, timeline_event
from chalicelib.services.messaging import Automated, add_automated, automated_message
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
    account = deps.accounts.require(lead.account_id)

    def decide(current: Lead) -> Change[tuple[Appointment, Automated | None]]:
        first, reports = human_response(current, actor.user_id, "appointment", deps.clock.now())
        reports.append(report_event(deps, current, "appointment_created", user_id=actor.user_id,
                                    appointment_id=appointment.appointment_id, appointment_at=appointment.at))
        events = [timeline_event(deps, current, "appointment", actor.user_id, appointment_id=appointment.appointment_id,
                                 action="created", appointment_at=appointment.at, note=note, status="scheduled")]
        updates: dict[str, Any] = {"open_appointments": current.open_appointments + 1, "awaiting_since": None,
                                   **first, **lock_kept(current, actor.user_id, deps.clock.now())}
        change: Change[tuple[Appointment, Automated | None]] = Change(updates=updates, events=events,
                                                                      reports=reports)
        confirmation = automated_message(deps, current, account, confirmation_text(account, appointment.at),
                                         origin={"appointment_id": appointment.appointment_id}) if confirm else None
        if confirmation is not None:
            # The confirmation follows the booking in the timeline.
            add_automated(deps, change, current, confirmation, at=iso(deps.clock.now() + timedelta(milliseconds=1)))
        booked = appointment.model_copy(update={"reminder_ids": _remind(deps, change, current, account, appointment)})
        change.writes.append(deps.appointments.save(booked))
        change.result = (booked, confirmation)
        return change

    booked, sent = change_lead(deps, lead_id, decide, touch=True).result or (appointment, None)
    if sent is not None and not sent.scheduled:
        enqueue_send(deps, sent.data.message_id)
    return booked, sent.data.message_id if sent is not None else None


def update_appointment(deps: Deps, actor: Principal, appointment_id: str, at: str | None,
                       status: str | None) -> Appointment:
    appointment = deps.appointments.get(appointment_id)
    if appointment is None:
        raise NotFound("appointment not found")
    visible_lead(deps, actor, appointment.lead_id)
    if appointment.status != "scheduled":
        raise Conflict(f"the appointment is already {appointment.status}", code="already_decided",
                       extra={"status": appointment.status})
    account = deps.accounts.require(appointment.account_id)
    now = iso(deps.clock.now())
    after = appointment.model_copy(update={"updated_at": now, **({"at": iso(parse_time(at))} if at else {}),
                                           **({"status": status} if status else {})})

    def decide(lead: Lead, attempt: int) -> Change[Appointment]:
        current = appointment if attempt == 0 else deps.appointments.get(appointment_id)
        if current is None or current.status != "scheduled":
            raise AlreadyDecided()
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
        change: Change[Appointment] = Change(updates=updates, events=[event], reports=reports)
        _withdraw(deps, change, lead, current.reminder_ids, reason=f"appointment_{status or 'moved'}")
        reminders = _remind(deps, change, lead, account, after) if status is None else []
        saved = after.model_copy(update={"reminder_ids": reminders})
        change.writes.append(deps.appointments.save(saved, expected_status="scheduled"))
        change.result = saved
        return change

    try:
        result = decide_and_save(deps, appointment.lead_id, decide, touch=True, retry_on=(LeadChanged,))
    except LostRace as exc:  # AlreadyDecided: someone recorded or moved it first
        raise Conflict("the appointment changed meanwhile", code="already_decided") from exc
    return result.result or after


def _remind(deps: Deps, change: Change[Any], lead: Lead, account: Account, appointment: Appointment) -> list[str]:
    """Schedule the store's reminders of an open appointment in `change`; their message ids. One
    that quiet hours would hold past the appointment itself is left out."""
    ids = []
    for at in reminder_times(appointment.at, account.appointment_reminders_seconds, deps.clock.now()):
        reminder = automated_message(deps, lead, account, reminder_text(account, appointment.at), at=at,
                                     origin={"appointment_id": appointment.appointment_id})
        if reminder is None or not reminder.scheduled or (reminder.data.send_at or "") >= appointment.at:
            continue
        add_automated(deps, change, lead, reminder)
        ids.append(reminder.data.message_id)
    return ids


def _withdraw(deps: Deps, change: Change[Any], lead: Lead, reminder_ids: list[str], reason: str) -> None:
    """Cancel an appointment's reminders still scheduled (the others went, or were cancelled by hand).
    Read in the lead's change: firing or cancelling one changes the lead too, so a race is decided again."""
    withdrawn = 0
    for message_id in reminder_ids:
        message = deps.outbox.get(message_id)
        if message is None or message.status != "scheduled":
            continue
        change.writes += deps.outbox.move(lead.lead_id, message_id, "cancelled", ("scheduled",),
                                          shown={"cancelled_reason": reason,
                                                 "cancelled_at": iso(deps.clock.now())})
        withdrawn += 1
    if withdrawn:
        change.updates["scheduled_messages"] = max(0, lead.scheduled_messages - withdrawn)
