"""Adapters of the MessageSender port (chalicelib/domain/messaging.py).

- TwilioSender: SMS / MMS through Twilio's REST API (plain HTTPS: the `twilio` package stays
  out of the Lambda bundle).
- MetaSender: Messenger through the Graph Send API, with a message tag outside the 24 h window.
- SesEmailSender (adapters/email_sender.py): email, raw MIME through SES.
- SandboxSender: the local stack and the tests; records every send as a table item
  (keys.sandbox_send_key) and reports it delivered; an email is recorded as its headers, its text
  and HTML parts and the names, types and sizes of its files, read back from its MIME bytes.
`build_sender(settings)` picks one by `Settings.sender_mode`."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.clock import iso
from chalicelib.config import Settings
from chalicelib.domain.messaging import MessageSender, OutboundMessage, SendFailed, SendResult
from chalicelib.ids import new_id

TIMEOUT_SECONDS = 10
SANDBOX_DAYS = 30
# Twilio error codes that will not change on a retry: unsubscribed recipient, invalid or
# unreachable number, a landline, a blocked destination.
TWILIO_PERMANENT = {21211, 21408, 21610, 21612, 21614, 21606, 30003, 30005, 30006}


def post_json(url: str, data: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """POST and parse JSON; a 4xx is a permanent failure (except 429), anything else transient."""
    if not url.startswith("https://"):
        raise SendFailed("provider URLs must be https", permanent=True)
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310 (https only)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as resp:  # noqa: S310 (fixed https hosts)
            return dict(json.loads(resp.read() or b"{}"))
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read() or b"{}")
        except ValueError:
            detail = {}
        permanent = 400 <= exc.code < 500 and exc.code != 429
        raise SendFailed(f"HTTP {exc.code}: {_error_text(detail)}", permanent=permanent,
                         ) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise SendFailed(f"network: {exc}") from exc


def _error_text(detail: Any) -> str:
    if isinstance(detail, dict):
        if "error" in detail and isinstance(detail["error"], dict):  # Graph API
            return f"{detail['error'].get('code')} {detail['error'].get('message', '')}".strip()
        if "code" in detail:  # Twilio
            return f"{detail.get('code')} {detail.get('message', '')}".strip()
    return "error"


class TwilioSender:
    """Twilio Programmable Messaging: POST /2010-04-01/Accounts/{sid}/Messages.json.

    Always authenticated as the stage's (parent) account; a message of a store on a subaccount
    goes to that subaccount's Messages resource, which a parent's credentials may create
    (Twilio: "REST API: Subaccounts", authentication), and the message then belongs to the
    subaccount that owns its From number."""

    def __init__(self, account_sid: str, auth_token: str, api_url: str = "https://api.twilio.com",
                 status_callback_url: str | None = None, default_from: str = "") -> None:
        self.default_from = default_from
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.api_url = api_url.rstrip("/")
        self.status_callback_url = status_callback_url

    def send(self, message: OutboundMessage) -> SendResult:
        sender = message.sender or self.default_from
        if not sender:
            raise SendFailed("no SMS number to send from", permanent=True)
        fields: list[tuple[str, str]] = [("To", message.to), ("From", sender), ("Body", message.body)]
        fields += [("MediaUrl", url) for url in message.media_urls]
        if self.status_callback_url and message.message_id:
            fields.append(("StatusCallback", self.status_callback_url))
        data = post_twilio(self.api_url, (self.account_sid, self.auth_token),
                           f"{message.twilio_account_sid or self.account_sid}/Messages", fields, TWILIO_PERMANENT)
        return SendResult(provider_id=str(data.get("sid", "")), status="queued")


def post_twilio(api_url: str, credentials: tuple[str, str], resource: str, fields: list[tuple[str, str]],
                permanent: set[int]) -> dict[str, Any]:
    """POST a form to Twilio's REST API (`resource`: "{account}/Messages", "{account}/Calls"), as the
    stage's account; a refusal whose Twilio error code is in `permanent` is a permanent failure."""
    auth = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()
    try:
        return post_json(f"{api_url}/2010-04-01/Accounts/{resource}.json", urllib.parse.urlencode(fields).encode(), {
            "Authorization": f"Basic {auth}", "Content-Type": "application/x-www-form-urlencoded"})
    except SendFailed as exc:
        if twilio_error_code(str(exc)) in permanent:
            raise SendFailed(str(exc), permanent=True) from exc
        raise


def twilio_error_code(text: str) -> int | None:
    for word in text.replace(":", " ").split():
        if word.isdigit() and len(word) == 5:
            return int(word)
    return None


class MetaSender:
    """Messenger Send API: POST {graph}/me/messages with the page access token."""

    def __init__(self, page_token: str, graph_url: str = "https://graph.facebook.com/v21.0") -> None:
        self.page_token = page_token
        self.graph_url = graph_url.rstrip("/")

    def send(self, message: OutboundMessage) -> SendResult:
        if not self.page_token:
            raise SendFailed("no Messenger page token is configured", permanent=True)
        base: dict[str, Any] = {"recipient": {"id": message.to}}
        if message.tag:
            base.update(messaging_type="MESSAGE_TAG", tag=message.tag)
        else:
            base["messaging_type"] = "RESPONSE"
        payloads = []
        if message.body:
            payloads.append({**base, "message": {"text": message.body}})
        types = message.media_types or ()
        for i, url in enumerate(message.media_urls):
            kind = "image" if i >= len(types) or types[i].startswith("image") else "file"
            payloads.append({**base, "message": {"attachment": {"type": kind,
                                                                "payload": {"url": url, "is_reusable": True}}}})
        url = f"{self.graph_url}/me/messages?" + urllib.parse.urlencode({"access_token": self.page_token})
        first_id = ""
        for payload in payloads:
            data = post_json(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
            first_id = first_id or str(data.get("message_id", ""))
        return SendResult(provider_id=first_id, status="sent")


class SandboxSender:
    """Records every send in the table and says it was delivered: the local stack's "phone"."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def send(self, message: OutboundMessage) -> SendResult:
        now = datetime.now(UTC)
        send_id = new_id("sbx", now)
        self.table.put({
            **keys.sandbox_send_key(message.account_id, iso(now), send_id), "type": "sandbox_send",
            "send_id": send_id, "channel": message.channel, "to": message.to, "body": message.body,
            "sender": message.sender, "account_id": message.account_id, "message_id": message.message_id,
            "media_urls": list(message.media_urls), "tag": message.tag, "at": iso(now),
            "ttl": int((now + timedelta(days=SANDBOX_DAYS)).timestamp()),
            **({"email": _email_record(message.raw)} if message.raw is not None else {}),
        })
        return SendResult(provider_id=send_id, status="delivered")


def _email_record(raw: bytes) -> dict[str, Any]:
    """What a person checks in a sent email, read back from its bytes as a mail client would."""
    from email import policy
    from email.parser import BytesParser

    msg = BytesParser(policy=policy.default).parsebytes(raw)
    headers = {name: str(msg.get(name, "")) for name in (
        "From", "To", "Reply-To", "Subject", "Message-ID", "In-Reply-To", "References", "List-Unsubscribe",
        "List-Unsubscribe-Post") if msg.get(name) is not None}
    text = msg.get_body(preferencelist=("plain",)) if hasattr(msg, "get_body") else None
    html = msg.get_body(preferencelist=("html",)) if hasattr(msg, "get_body") else None
    files = [{"filename": p.get_filename(), "content_type": p.get_content_type(),
              "bytes": len(p.get_payload(decode=True) or b"")} for p in msg.iter_attachments()]
    return {"headers": headers, "text": text.get_content() if text is not None else "",
            "html": html.get_content() if html is not None else "", "attachments": files, "size": len(raw)}


class RoutingSender:
    """One port, three live providers: SMS to Twilio, Messenger to Meta, email to SES."""

    def __init__(self, sms: MessageSender, messenger: MessageSender, email: MessageSender | None = None) -> None:
        self.sms = sms
        self.messenger = messenger
        self.email = email

    def send(self, message: OutboundMessage) -> SendResult:
        if message.channel == "email":
            if self.email is None:
                raise SendFailed("no email sender is configured", permanent=True)
            return self.email.send(message)
        return (self.messenger if message.channel == "messenger" else self.sms).send(message)


def build_sender(settings: Settings) -> MessageSender:
    if settings.sender_mode == "sandbox":
        from chalicelib.adapters.dynamodb.table import Table

        return SandboxSender(Table(settings.table_name))
    callback = f"{settings.public_base_url.rstrip('/')}/webhooks/twilio/status" if settings.public_base_url else None
    from chalicelib.adapters.email_sender import SesEmailSender

    return RoutingSender(
        sms=TwilioSender(settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_api_url,
                         status_callback_url=callback, default_from=settings.twilio_from_number),
        messenger=MetaSender(settings.meta_page_token, settings.meta_graph_url),
        email=SesEmailSender(),
    )


def sandbox_sends(table: Any, account_id: str | None) -> list[dict[str, Any]]:
    """What the sandbox sender recorded for a store (or 'staff'), oldest first."""
    return list(table.query(keys.sandbox_pk(account_id), consistent=True))
