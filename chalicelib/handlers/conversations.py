"""Conversations: sending and scheduling messages, lead actions, appointments, saved replies;
and the consumers — the outbox (messages and staff notifications), the inbound queue, and
the every-minute sweep of due messages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Rate, Response

from chalicelib.config import get_settings
from chalicelib.deps import get_deps
from chalicelib.domain.leads import Lead
from chalicelib.handlers.http import Call, api
from chalicelib.handlers.leads import lead_view
from chalicelib.lazy import lazy_module
from chalicelib.observability import logger
from chalicelib.schemas.conversations import (
    AppointmentRequest,
    AppointmentResponse,
    CancelMessageResponse,
    EmailedResponse,
    EscalateRequest,
    LeadActionResponse,
    SavedReplyPage,
    SavedReplyRequest,
    SavedReplyResponse,
    SendMessageRequest,
    SendMessageResponse,
    UpdateAppointmentRequest,
    UpdateSavedReplyRequest,
)

if TYPE_CHECKING:
    from chalicelib.services import (
        appointments,
        handoffs,
        inbound_queue,
        lead_actions,
        messaging,
        notifications,
        outbox,
        saved_replies,
    )
else:
    appointments = lazy_module("chalicelib.services.appointments")
    handoffs = lazy_module("chalicelib.services.handoffs")
    inbound_queue = lazy_module("chalicelib.services.inbound_queue")
    lead_actions = lazy_module("chalicelib.services.lead_actions")
    messaging = lazy_module("chalicelib.services.messaging")
    notifications = lazy_module("chalicelib.services.notifications")
    outbox = lazy_module("chalicelib.services.outbox")
    saved_replies = lazy_module("chalicelib.services.saved_replies")

bp = Blueprint(__name__)


# -- messages ------------------------------------------------------------------------

@api(bp, "/leads/{lead_id}/messages", "POST", body=SendMessageRequest, response=SendMessageResponse, status=202,
     summary="Send (or schedule) a message to the lead; quiet hours schedule it for 08:00 local")
def send_message(call: Call, lead_id: str) -> Any:
    req: SendMessageRequest = call.body
    result = messaging.send_message(call.deps, call.principal, lead_id, body=req.body,
                                    saved_reply_id=req.saved_reply_id, kind=req.kind, send_at=req.send_at,
                                    media_url=req.media_url, as_assistant=req.as_assistant, channel=req.channel,
                                    subject=req.subject, attachment_ids=req.attachment_ids)
    return SendMessageResponse.model_validate(result)


@api(bp, "/leads/{lead_id}/messages/{message_id}", "DELETE", response=CancelMessageResponse,
     summary="Cancel a scheduled message (409 once it left)")
def cancel_message(call: Call, lead_id: str, message_id: str) -> Any:
    return CancelMessageResponse.model_validate(messaging.cancel_message(call.deps, call.principal, lead_id,
                                                                       message_id))


# -- lead actions --------------------------------------------------------------------

def _lead(call: Call, lead: Lead) -> dict[str, Any]:
    view = lead_view(call.deps, lead)
    view.update(stop_messaging=lead.stop_messaging, first_response_at=lead.first_response_at)
    return LeadActionResponse.model_validate(view).model_dump(mode="json")


@api(bp, "/leads/{lead_id}/responded", "POST", response=LeadActionResponse,
     summary="The lead was answered outside Leadline: clears awaiting_since")
def responded(call: Call, lead_id: str) -> Any:
    return _lead(call, lead_actions.mark_responded(call.deps, call.principal, lead_id))


@api(bp, "/leads/{lead_id}/opt-out", "POST", response=LeadActionResponse,
     summary="Opt the customer out of messages (status dead)")
def opt_out(call: Call, lead_id: str) -> Any:
    return _lead(call, lead_actions.agent_opt_out(call.deps, call.principal, lead_id))


@api(bp, "/leads/{lead_id}/stop-messaging", "POST", response=LeadActionResponse,
     summary="Stop scheduled and automated messages to the lead, and its cadence (managers and up)")
def stop_messaging(call: Call, lead_id: str) -> Any:
    return _lead(call, lead_actions.stop_messaging(call.deps, call.principal, lead_id))


@api(bp, "/leads/{lead_id}/resume-messaging", "POST", response=LeadActionResponse,
     summary="Undo stop-messaging (managers and up); the cadence it stopped goes on")
def resume_messaging(call: Call, lead_id: str) -> Any:
    return _lead(call, lead_actions.resume_messaging(call.deps, call.principal, lead_id))


@api(bp, "/leads/{lead_id}/skip-to-follow-up", "POST", response=LeadActionResponse,
     summary="Move the lead to follow_up, and its cadence to its first follow-up step (409 no_follow_up_step)")
def skip_to_follow_up(call: Call, lead_id: str) -> Any:
    return _lead(call, lead_actions.skip_to_follow_up(call.deps, call.principal, lead_id))


@api(bp, "/leads/{lead_id}/escalate", "POST", body=EscalateRequest, response=EmailedResponse,
     summary="Email the store's escalation address the note and the whole transcript")
def escalate(call: Call, lead_id: str) -> Any:
    return handoffs.escalate(call.deps, call.principal, lead_id, call.body.note)


@api(bp, "/leads/{lead_id}/crm", "POST", response=EmailedResponse,
     summary="Email the lead as ADF 1.0 XML to the store's CRM address")
def send_to_crm(call: Call, lead_id: str) -> Any:
    return handoffs.send_to_crm(call.deps, call.principal, lead_id)


# -- appointments --------------------------------------------------------------------

@api(bp, "/leads/{lead_id}/appointments", "POST", body=AppointmentRequest, response=AppointmentResponse,
     status=201, summary="Book an appointment")
def create_appointment(call: Call, lead_id: str) -> Any:
    appointment, confirmation_id = appointments.create_appointment(call.deps, call.principal, lead_id, call.body.at,
                                                              call.body.note, confirm=call.body.confirm)
    return AppointmentResponse.model_validate({**appointment.model_dump(), "confirmation_message_id": confirmation_id})


@api(bp, "/appointments/{appointment_id}", "PATCH", body=UpdateAppointmentRequest, response=AppointmentResponse,
     summary="Reschedule, or record showed / no_show / cancelled")
def update_appointment(call: Call, appointment_id: str) -> Any:
    appointment = appointments.update_appointment(call.deps, call.principal, appointment_id, call.body.at,
                                             call.body.status)
    return AppointmentResponse.model_validate(appointment.model_dump())


# -- saved replies -------------------------------------------------------------------

@api(bp, "/accounts/{account_id}/saved-replies", "GET", response=SavedReplyPage,
     summary="The store's saved replies, by title")
def list_saved_replies(call: Call, account_id: str) -> Any:
    limit, cursor = call.paging()
    items, next_cursor = saved_replies.list_saved_replies(call.deps, call.principal, account_id, limit, cursor)
    return {"items": [SavedReplyResponse.model_validate(r.model_dump()) for r in items], "next_cursor": next_cursor}


@api(bp, "/accounts/{account_id}/saved-replies", "POST", body=SavedReplyRequest, response=SavedReplyResponse,
     status=201, summary="Add a saved reply (smart fields allowed)")
def create_saved_reply(call: Call, account_id: str) -> Any:
    reply = saved_replies.create_saved_reply(call.deps, call.principal, account_id, call.body.title, call.body.body)
    return SavedReplyResponse.model_validate(reply.model_dump())


@api(bp, "/saved-replies/{saved_reply_id}", "PATCH", body=UpdateSavedReplyRequest, response=SavedReplyResponse,
     summary="Change a saved reply")
def update_saved_reply(call: Call, saved_reply_id: str) -> Any:
    reply = saved_replies.update_saved_reply(call.deps, call.principal, saved_reply_id, call.body.title, call.body.body)
    return SavedReplyResponse.model_validate(reply.model_dump())


@api(bp, "/saved-replies/{saved_reply_id}", "DELETE", status=204, summary="Delete a saved reply")
def delete_saved_reply(call: Call, saved_reply_id: str) -> Any:
    saved_replies.delete_saved_reply(call.deps, call.principal, saved_reply_id)
    return Response(body="", status_code=204)


# -- consumers -----------------------------------------------------------------------

def handle_outbox_record(record: Any) -> None:
    """One outbox job: a customer message to hand to the sender, or a staff notification."""
    from chalicelib.schemas.queues import SendMessage

    job = record.body
    deps = get_deps()
    if isinstance(job, SendMessage):
        outbox.deliver(deps, job.message_id)
        return
    from chalicelib.domain.messaging import SendFailed

    try:
        notifications.deliver_notification(deps, job)
    except SendFailed as exc:
        if not exc.permanent:
            raise  # SQS delivers it again after the visibility timeout (then the DLQ)
        logger.warning("staff notification refused by the provider", extra={"notification_id": job.notification_id})


def handle_inbound_record(record: Any) -> None:
    inbound_queue.process_job(get_deps(), record.body)


@bp.on_sqs_message(queue=get_settings().queue_name("outbox"), batch_size=10)
def conversations_outbox(event: Any) -> Any:
    from chalicelib.handlers.queues import OutboxRecord, consume

    return consume(event, OutboxRecord, handle_outbox_record)


@bp.on_sqs_message(queue=get_settings().queue_name("inbound"), batch_size=10)
def conversations_inbound(event: Any) -> Any:
    from chalicelib.handlers.queues import InboundRecord, consume

    return consume(event, InboundRecord, handle_inbound_record)


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def conversations_due_sweep(event: Any) -> None:
    """Scheduled messages at their time, and queued ones whose outbox job went missing."""
    count = outbox.sweep_due(get_deps())
    if count:
        logger.info("due messages enqueued", extra={"count": count})
