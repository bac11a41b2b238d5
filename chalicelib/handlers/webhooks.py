"""Provider webhooks (no bearer token; signed): Twilio SMS and delivery status, Meta Messenger.

Each checks its provider's signature over exactly what arrived before anything is written: an
unsigned or wrongly signed request is 403 and stores nothing. (Twilio's are checked with the auth
token of the account that owns the number or the message, so that one item is read first.)"""

from __future__ import annotations

import json
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

from chalice import Blueprint, Response

from chalicelib.clock import iso
from chalicelib.domain.errors import Forbidden, ValidationFailed
from chalicelib.domain.inbound import InboundMessage
from chalicelib.domain.signatures import valid_meta_signature, valid_twilio_signature
from chalicelib.handlers.http import Call, api
from chalicelib.lazy import lazy_module
from chalicelib.observability import logger

if TYPE_CHECKING:
    from chalicelib.services import inbound, outbox
else:
    outbox = lazy_module("chalicelib.services.outbox")
    inbound = lazy_module("chalicelib.services.inbound")


bp = Blueprint(__name__)

FORM = ("application/x-www-form-urlencoded",)
# Not handlers.http.JSON_TYPES: the body must stay raw until its signature is checked.
RAW_JSON = ("application/json", "application/octet-stream")
MAX_MEDIA = 10
# Looked up before the signature is checked: Twilio's numbers, channel addresses and SIDs (34 chars)
# fit; anything longer names no store or message, and must not reach a key (DynamoDB caps key size).
MAX_LOOKUP_CHARS = 64


def signed_urls(call: Call) -> list[str]:
    """The URLs Twilio may have signed for this request: the configured public base URL
    (LEADLINE_PUBLIC_BASE_URL, e.g. https://api.example.com or https://abc.execute-api.../api) plus
    the route, and {X-Forwarded-Proto}://{Host}{path as API Gateway saw it}; each with the query
    string. Either binds the signature to this endpoint; only the auth token makes one."""
    context = call.request.context or {}
    query = call.request.query_params
    suffix = "?" + urlencode(list(query.items())) if query else ""
    urls = []
    base = call.deps.settings.public_base_url.rstrip("/")
    if base:
        urls.append(f"{base}{context.get('resourcePath') or context.get('path') or ''}{suffix}")
    host = call.header("host")
    if host:
        proto = (call.header("x-forwarded-proto") or "https").split(",")[0].strip()
        urls.append(f"{proto}://{host}{context.get('path') or context.get('resourcePath') or ''}{suffix}")
    return urls


def _twilio_form(call: Call) -> dict[str, list[str]]:
    """Every posted field (all values), not yet trusted: `_check_twilio_signature` decides."""
    return parse_qs(call.raw_body.decode("utf-8", errors="replace"), keep_blank_values=True)


def _last(form: dict[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[-1].strip()


def _lookup_value(form: dict[str, list[str]], name: str) -> str | None:
    value = _last(form, name)
    return value if 0 < len(value) <= MAX_LOOKUP_CHARS else None


def _check_twilio_signature(call: Call, form: dict[str, list[str]], account_id: str | None,
                            twilio_account: str | None) -> None:
    """403 unless X-Twilio-Signature matches, made with the auth token of the Twilio account that owns
    what the request is about: a store on its own subaccount (`twilio_account`) with that subaccount's
    token, and only when the request says it comes from that subaccount (AccountSid) — so one store's
    subaccount token can never sign a request for another store's number or message. Everything else
    (stores on the stage's account, numbers or messages no store owns) with the stage's token."""
    settings = call.deps.settings
    token = settings.twilio_auth_token
    if twilio_account:
        if _last(form, "AccountSid") != twilio_account:
            logger.warning("twilio webhook from another Twilio account than the store's",
                           extra={"account_id": account_id})
            raise Forbidden("the request is not from this store's Twilio account", code="bad_signature")
        token = settings.twilio_auth_tokens.get(twilio_account, "")
        if not token:
            logger.error("no auth token configured for the store's Twilio subaccount (twilio_auth_tokens)",
                         extra={"account_id": account_id, "twilio_account_sid": twilio_account})
            raise Forbidden("no auth token is configured for this store's Twilio account", code="bad_signature")
    signature = call.header("x-twilio-signature")
    if not any(valid_twilio_signature(token, url, form, signature) for url in signed_urls(call)):
        logger.warning("twilio webhook with a bad or missing signature", extra={"account_id": account_id})
        raise Forbidden("the X-Twilio-Signature does not match this request", code="bad_signature")


def _required(form: dict[str, list[str]], *names: str) -> list[str]:
    missing = [n for n in names if not _last(form, n)]
    if missing:
        raise ValidationFailed("missing fields: " + ", ".join(missing),
                               details=[{"field": n, "message": "is required"} for n in missing])
    return [_last(form, n) for n in names]


def twiml(text: str | None) -> Response:
    body = '<?xml version="1.0" encoding="UTF-8"?>'
    # html.escape(quote=False) escapes exactly XML's &, < and > (xml.sax.saxutils would pull urllib.request
    # into every cold start).
    body += f"<Response><Message>{escape(text, quote=False)}</Message></Response>" if text else "<Response/>"
    return Response(body=body, status_code=200, headers={"Content-Type": "text/xml"})


@api(bp, "/webhooks/twilio/sms", "POST", auth=False, content_types=FORM, tags=("webhooks",),
     summary="Twilio inbound SMS / MMS (X-Twilio-Signature); replies TwiML")
def twilio_sms(call: Call) -> Any:
    form = _twilio_form(call)
    # The number's owner decides which auth token must have signed the request, so it is read first
    # (the one GetItem the webhook made anyway); nothing is written before the signature is checked.
    to_number = _lookup_value(form, "To")
    owner = call.deps.accounts.sms_number_owner(to_number) if to_number else None
    _check_twilio_signature(call, form, owner.account_id if owner else None,
                            owner.twilio_account_sid if owner else None)
    sid, sender, to = _required(form, "MessageSid", "From", "To")
    if owner is None:
        logger.warning("inbound SMS to a number no store owns", extra={"provider_id": sid})
        return twiml(None)
    account_id = owner.account_id
    count = min(_int(_last(form, "NumMedia")), MAX_MEDIA)
    attachments = []
    for i in range(count):
        url = _last(form, f"MediaUrl{i}")
        if url:
            attachments.append({"url": url, "content_type": _last(form, f"MediaContentType{i}") or None})
    message = InboundMessage(
        provider="twilio", provider_id=sid, channel="sms", sender=sender, recipient=to,
        body=(form.get("Body") or [""])[-1], received_at=iso(call.deps.clock.now()),
        attachments=[{k: v for k, v in a.items() if v} for a in attachments])
    result = inbound.receive(call.deps, account_id, message)
    return twiml(result.reply)


def _int(raw: str) -> int:
    return int(raw) if raw.strip().isdigit() else 0


@api(bp, "/webhooks/twilio/status", "POST", auth=False, content_types=FORM, status=204, tags=("webhooks",),
     summary="Twilio delivery status callback (X-Twilio-Signature)")
def twilio_status(call: Call) -> Any:
    form = _twilio_form(call)
    # The stored message names the Twilio account it was sent through: that account signs its callbacks.
    message_sid = _lookup_value(form, "MessageSid")
    target = outbox.delivery_target(call.deps, "twilio", message_sid) if message_sid else None
    if target is not None:
        signer = target.provider_account
    else:
        # A callback can beat the outbox's saving of the send result; nothing names the sender yet, so a
        # configured subaccount the request claims signs it (its token must match), else the stage's account.
        claimed = _last(form, "AccountSid")
        signer = claimed if claimed in call.deps.settings.twilio_auth_tokens else None
    _check_twilio_signature(call, form, target.account_id if target else None, signer)
    _, status = _required(form, "MessageSid", "MessageStatus")
    error = _last(form, "ErrorCode") or None
    outbox.record_delivery_status(call.deps, "twilio", target, status, error)
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
    if not valid_meta_signature(call.deps.settings.meta_app_secret, call.raw_body, call.header("x-hub-signature-256")):
        logger.warning("meta webhook with a bad or missing signature")
        raise Forbidden("the X-Hub-Signature-256 does not match this body", code="bad_signature")
    try:
        payload = json.loads(call.raw_body or b"{}")
    except ValueError as exc:
        raise ValidationFailed.field("body", "is not JSON") from exc
    if not isinstance(payload, dict) or payload.get("object") != "page":
        return Response(body="EVENT_RECEIVED", status_code=200, headers={"Content-Type": "text/plain"})
    for entry in payload.get("entry") or []:
        page_id = str(entry.get("id", ""))
        account_id = call.deps.accounts.page_owner(page_id) if page_id else None
        if account_id is None:
            logger.warning("messenger event for a page no store owns")
            continue
        for event in entry.get("messaging") or []:
            message = _messenger_message(call, page_id, event)
            if message is not None:
                inbound.receive(call.deps, account_id, message)
    return Response(body="EVENT_RECEIVED", status_code=200, headers={"Content-Type": "text/plain"})


def _messenger_message(call: Call, page_id: str, event: dict[str, Any]) -> InboundMessage | None:
    """A customer's message, or None for echoes of our own sends, deliveries, reads, postbacks."""
    body = event.get("message")
    sender = (event.get("sender") or {}).get("id")
    if not isinstance(body, dict) or body.get("is_echo") or not sender or not body.get("mid"):
        return None
    attachments = []
    for att in body.get("attachments") or []:
        url = (att.get("payload") or {}).get("url")
        if url:
            attachments.append({"url": url, "content_type": att.get("type", "file")})
    return InboundMessage(provider="meta", provider_id=str(body["mid"]), channel="messenger",
                                  sender=str(sender), recipient=page_id, body=str(body.get("text") or ""),
                                  received_at=iso(call.deps.clock.now()), attachments=attachments[:MAX_MEDIA])
