"""The port staff email goes through (escalations, CRM hand-offs, notifications), and its message.
Adapter: SesMailer (chalicelib/adapters/mail.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class Attachment:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass
class Email:
    to: list[str]
    subject: str
    text: str
    html: str | None = None
    reply_to: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)


class Mailer(Protocol):
    def send(self, email: Email) -> str:
        """Send it; returns the provider's message id."""
        ...
