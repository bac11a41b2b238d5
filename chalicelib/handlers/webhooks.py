"""Provider webhooks (no bearer token; signed): Twilio SMS and delivery status, Meta Messenger.

Each hands what arrived to one service, which checks the provider's signature over exactly that
before anything is written (services/signing.py: which token signs what): an unsigned or wrongly
signed request is 403 and stores nothing."""

from __future__ import annotations

import json
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from chalice import Blueprint, Response

from chalicelib.clock import iso
from chalicelib.domain.errors import Forbidden, ValidationFailed
from chalicelib.domain.inbound import MAX_MEDIA, InboundMessage
from chalicelib.domain.media import inbound_attachment_id
from chalicelib.domain.provider_limits import MESSENGER_FIELDS, check_lengths
from chalicelib.domain.signatures import received_urls
from chalicelib.handlers.http import Call, api
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.services import inbound, outbox, signing
else:
    outbox = lazy_module("chalicelib.services.outbox")
    inbound = lazy_module("chalicelib.services.inbound")
    signing = lazy_module("chalicelib.services.signing")


bp = Blueprint(__name__)

FORM = ("application/x-www-form-urlencoded",)
# Not handlers.http.JSON_TYPES: the body must stay raw until its signature is checked.
RAW_JSON = ("application/json", "application/octet-stream")


def signed_urls(call: Call) -> list[str]:
    """The URL Twilio signed: the route and query as received, on the configured public base URL
    (domain/signatures.received_urls). Never one made from the request's Host or X-Forwarded-Proto
    headers: a client chooses those."""
    event = call.request.to_original_event()
    return received_urls(call.deps.settings.public_base_url, event)


def twilio_post(call: Call) -> signing.TwilioPost:
    """What Twilio posted (every field, all values), its signature and the URLs it may have signed:
    not yet trusted — the service checks it before anything else."""
    form = parse_qs(call.raw_body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return signing.TwilioPost(form=form, signature=call.header("x-twilio-signature"), urls=signed_urls(call))


def twiml(text: str | None) -> Response:
    body = '<?xml version="1.0" encoding="UTF-8"?>'
    # html.escape(quote=False) escapes exactly XML's &, < and > (xml.sax.saxutils would pull urllib.request
    # into every cold start).
    body += f"<Response><Message>{escape(text, quote=False)}</Message></Response>" if text else "<Response/>"
    return Response(body=body, status_code=200, headers={"Content-Type": "text/xml"})


@api(bp, "/webhooks/twilio/sms", "POST", auth=False, content_types=FORM, tags=("webhooks",),
     summary="Twilio inbound SMS / MMS (X-Twilio-Signature); replies TwiML")
def twilio_sms(call: Call) -> Any:
    return twiml(inbound.sms_arrived(call.deps, twilio_post(call)).reply)


@api(bp, "/webhooks/twilio/status", "POST", auth=False, content_types=FORM, status=204, tags=("webhooks",),
     summary="Twilio delivery status callback (X-Twilio-Signature)")
def twilio_status(call: Call) -> Any:
    outbox.status_arrived(call.deps, twilio_post(call))
    return Response(body="", status_code=204)


@api(bp, "/webhooks/meta", "GET", auth=False, tags=("webhooks",),
     query={"hub.mode": "subscribe", "hub.verify_token": "the configured verify token", "hub.challenge": "echoed"},
     summary="Meta webhook verification handshake")
def meta_verify(call: Call) -> Any:
    query = call.query
    if query.get("hub.mode") != "subscribe" or query.get("hub.verify_token") != call.deps.settings.meta_verify_token:
        raise Forbidden("the verify token does not match", code="bad_signature")
    return Response(body=query.get("hub.challenge", ""), status_code=200, headers={"Content-Type": "text/plain"})


@api(bp, "/webhooks/meta", "POST", auth=False, content_types=RAW_JSON, tags=("webhooks",),
     summary="Meta Messenger events (X-Hub-Signature-256 over the raw body)")
def meta_event(call: Call) -> Any:
    signing.check_meta(call.deps, call.raw_body, call.header("x-hub-signature-256"))
    try:
        payload = json.loads(call.raw_body or b"{}")
    except ValueError as exc:
        raise ValidationFailed.field("body", "is not JSON") from exc
    if isinstance(payload, dict) and payload.get("object") == "page":
        received_at = iso(call.deps.clock.now())
        pages = []
        for entry in payload.get("entry") or []:
            page_id = str(entry.get("id", ""))
            messages = [_messenger_message(page_id, event, received_at) for event in entry.get("messaging") or []]
            pages.append((page_id, [m for m in messages if m is not None]))
        # Every event of the delivery is checked before any is received: nothing half-stored.
        check_lengths([("page_id", page_id) for page_id, _ in pages], MESSENGER_FIELDS)
        for _, messages_of_page in pages:
            for message in messages_of_page:
                check_lengths(_messenger_fields(message), MESSENGER_FIELDS)
        inbound.messenger_arrived(call.deps, pages)
    return Response(body="EVENT_RECEIVED", status_code=200, headers={"Content-Type": "text/plain"})


def _messenger_fields(message: InboundMessage) -> list[tuple[str, str]]:
    fields = [("sender", message.sender), ("mid", message.provider_id), ("text", message.body)]
    for attachment in message.attachments:
        fields += [("attachment_url", str(attachment.get("url", ""))),
                   ("attachment_type", str(attachment.get("content_type", "")))]
    return fields


def _messenger_message(page_id: str, event: dict[str, Any], received_at: str) -> InboundMessage | None:
    """A customer's message, or None for echoes of our own sends, deliveries, reads, postbacks."""
    body = event.get("message")
    sender = (event.get("sender") or {}).get("id")
    if not isinstance(body, dict) or body.get("is_echo") or not sender or not body.get("mid"):
        return None
    attachments: list[dict[str, Any]] = []
    for att in body.get("attachments") or []:
        url = (att.get("payload") or {}).get("url")
        if url:
            attachments.append({"attachment_id": inbound_attachment_id("meta", str(body["mid"]), len(attachments)),
                                "url": url, "content_type": att.get("type", "file")})
    return InboundMessage(provider="meta", provider_id=str(body["mid"]), channel="messenger", sender=str(sender),
                          recipient=page_id, body=str(body.get("text") or ""), received_at=received_at,
                          attachments=attachments[:MAX_MEDIA])
