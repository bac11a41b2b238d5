"""Outbound messages on their way to the customer: what the sender needs and the state of sending,
and what a provider's message id points back at (delivery callbacks)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from chalicelib.model import BaseModel


class OutboxMessage(BaseModel):
    """The sending side of one outbound message."""

    message_id: str
    lead_id: str
    account_id: str
    group_id: str
    channel: str
    to: str
    sender: str | None = None
    body: str = ""
    subject: str | None = None  # email
    media_urls: list[str] = Field(default_factory=list)  # pictures by URL (the older `media_url` field)
    # Files from the media bucket: {attachment_id, content_type, filename, bytes, key} (services/attachments).
    attachments: list[dict[str, Any]] = Field(default_factory=list)
    automated: bool = False
    by: str | None = None
    status: str
    send_at: str | None = None
    attempts: int = 0
    claim_until: str | None = None
    provider_id: str | None = None
    created_at: str


class ProviderMessage(BaseModel):
    """What a provider's message id points at (delivery callbacks)."""

    lead_id: str
    message_id: str
    account_id: str | None = None  # absent on messages sent before it was recorded
    provider_account: str | None = None  # the Twilio subaccount it went through; None: the stage's account


class DueMessage(BaseModel):
    """A message in the due index: its id and the due time it was read at (what the sweep's claim
    compares, so a message that moved meanwhile is not claimed)."""

    message_id: str
    due_at: str


class DueClaims(BaseModel):
    """What the sweep's claim decided: the messages whose due time it moved forward (each gets one
    job), and those that had moved on since they were read (sent, dropped, fired, retried, or
    claimed by an overlapping sweep) and get none."""

    claimed: list[str] = Field(default_factory=list)
    moved_on: list[str] = Field(default_factory=list)
