"""Calls, logged activities and attachments on a lead, Twilio Voice's webhooks (signed like SMS: an
unsigned or wrongly signed request is 403 and stores nothing), and email's one-click unsubscribe."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.domain.errors import NotFound
from chalicelib.handlers.http import Call, api
from chalicelib.handlers.webhooks import FORM, twilio_post
from chalicelib.lazy import lazy_module
from chalicelib.schemas.channels import (
    ActivityRequest,
    ActivityResponse,
    AttachmentRequest,
    AttachmentResponse,
    CallResponse,
)

if TYPE_CHECKING:
    from chalicelib.services import activities, attachments, calls, email_out
else:
    activities = lazy_module("chalicelib.services.activities")
    attachments = lazy_module("chalicelib.services.attachments")
    calls = lazy_module("chalicelib.services.calls")
    email_out = lazy_module("chalicelib.services.email_out")

bp = Blueprint(__name__)

CALL_QUERY = {"lead_id": "the lead called", "call_id": "the call (from the URL Leadline gave Twilio)"}


@api(bp, "/leads/{lead_id}/call", "POST", response=CallResponse, status=202, tags=("conversations",),
     summary="Call the lead: the caller's own phone rings from the store's number, then the customer is "
             "connected (409 no_agent_phone / no_phone / no_store_number); opted-out leads can be called")
def call_lead(call: Call, lead_id: str) -> Any:
    return CallResponse.model_validate(calls.start_call(call.deps, call.principal, lead_id))


@api(bp, "/leads/{lead_id}/activities", "POST", body=ActivityRequest, response=ActivityResponse, status=201,
     tags=("conversations",), summary="Log work done outside Leadline (call, email, visit, task): a timeline "
                                      "`activity` that counts as a response")
def log_activity(call: Call, lead_id: str) -> Any:
    req: ActivityRequest = call.body
    event = activities.log_activity(call.deps, call.principal, lead_id, req.kind, req.note, req.at)
    return ActivityResponse.model_validate(event.view())


@api(bp, "/webhooks/twilio/voice", "POST", auth=False, content_types=FORM, tags=("webhooks",), query=CALL_QUERY,
     summary="Twilio Voice: the agent answered; replies the bridge TwiML (X-Twilio-Signature)")
def twilio_voice(call: Call) -> Any:
    twiml = calls.voice_answered(call.deps, twilio_post(call), call.query)
    return Response(body=twiml, status_code=200, headers={"Content-Type": "text/xml"})


@api(bp, "/webhooks/twilio/call-status", "POST", auth=False, content_types=FORM, status=204, tags=("webhooks",),
     query={**CALL_QUERY, "leg": "agent or customer"},
     summary="Twilio Voice status callback of a call's leg (X-Twilio-Signature)")
def twilio_call_status(call: Call) -> Any:
    calls.call_status_arrived(call.deps, twilio_post(call), call.query)
    return Response(body="", status_code=204)


@api(bp, "/leads/{lead_id}/attachments", "POST", body=AttachmentRequest, response=AttachmentResponse, status=201,
     tags=("conversations",), summary="Attach a picture or PDF (≤ 5 MB): a presigned upload; then send it with "
                                      "POST /leads/{lead_id}/messages {attachment_ids}")
def create_attachment(call: Call, lead_id: str) -> Any:
    req: AttachmentRequest = call.body
    made = attachments.create_upload(call.deps, call.principal, lead_id, req.filename, req.content_type, req.bytes)
    return AttachmentResponse.model_validate(made)


# -- email's unsubscribe link (RFC 8058): the link is the credential, like a reply address ------------------------

UNSUBSCRIBE_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


def _page(title: str, text: str, form: bool = False, status: int = 200) -> Response:
    button = ('<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
              '<button type="submit">Unsubscribe</button></form>') if form else ""
    body = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{escape(title)}</title></head><body style="'
            f'font-family: sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem;"><h1>{escape(title)}'
            f'</h1><p>{escape(text)}</p>{button}</body></html>')
    return Response(body=body, status_code=status, headers={"Content-Type": "text/html; charset=utf-8",
                                                            "Cache-Control": "no-store"})


@api(bp, "/email/unsubscribe/{token}", "GET", auth=False, tags=("email",),
     summary="The unsubscribe link of an email: a page that asks to confirm (a link checker's GET changes nothing)")
def unsubscribe_page(call: Call, token: str) -> Any:
    return _page("Unsubscribe", "Stop email from this dealership about your inquiry? Texts and calls are not "
                                "affected.", form=True)


@api(bp, "/email/unsubscribe/{token}", "POST", auth=False, tags=("email",), content_types=UNSUBSCRIBE_TYPES,
     summary="RFC 8058 one-click unsubscribe (List-Unsubscribe=One-Click): the lead gets no more email")
def unsubscribe(call: Call, token: str) -> Any:
    if not email_out.unsubscribe(call.deps, token):
        if "text/html" not in (call.header("accept") or ""):
            raise NotFound("no such unsubscribe link")  # a mail provider's one-click POST: the contract's error
        return _page("Link not valid", "This unsubscribe link is not valid.", status=404)
    return _page("Unsubscribed", "You will get no more email about this inquiry.")
