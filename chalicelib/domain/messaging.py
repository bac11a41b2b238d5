"""The port every outbound customer or staff message goes through.

Adapters: Twilio (SMS/MMS), Meta Send API (Messenger), Amazon SES (email), and the sandbox sender
the local stack uses, which records and "delivers". Which one runs is `Settings.sender_mode`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol


@dataclass(frozen=True)
class OutboundMessage:
    channel: Literal["sms", "messenger", "email"]
    to: str  # E.164 for SMS, the page-scoped id (PSID) for Messenger, an address for email
    body: str
    sender: str | None = None  # the store's SMS number, page id or email address
    account_id: str | None = None
    message_id: str | None = None  # None for staff notifications
    media_urls: tuple[str, ...] = field(default_factory=tuple)
    media_types: tuple[str, ...] = field(default_factory=tuple)  # of media_urls, where known (Messenger: image or file)
    raw: bytes | None = None  # email: the whole MIME message (domain/email_out.compose)
    tag: str | None = None  # Messenger message tag, e.g. HUMAN_AGENT
    # SMS of a store on its own Twilio subaccount; None: the stage's account (and every staff SMS).
    twilio_account_sid: str | None = None


@dataclass(frozen=True)
class SendResult:
    provider_id: str
    status: Literal["queued", "sent", "delivered"] = "sent"


class SendFailed(Exception):
    """A provider refused or failed. `permanent` ones are not retried."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class MessageSender(Protocol):
    def send(self, message: OutboundMessage) -> SendResult: ...
