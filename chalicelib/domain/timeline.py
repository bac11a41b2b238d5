"""What happened to a lead, oldest first. Every event is typed; messages carry their delivery state."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from chalicelib.model import BaseModel

EventType = Literal[
    "created", "message", "note", "offer", "assignment", "status", "appointment", "escalation", "crm",
    "coalesced", "label", "lock", "feedback", "opt_out", "opt_in", "responded", "done", "routing", "edit",
    "cadence", "call", "activity",
    # follow-through: a response deadline warned / missed (`target`), a lead taken from its owner (`reassigned`)
    "target", "reassigned",
]
MessageStatus = Literal["received", "scheduled", "queued", "sent", "delivered", "failed", "cancelled", "dropped"]


class TimelineEvent(BaseModel):
    """`data` holds the type's own fields; they are flattened into the API's event object."""

    model_config = ConfigDict(extra="forbid")

    event_id: str
    lead_id: str
    type: EventType
    at: str
    by: str | None = None  # user id; None for the customer or the system
    data: dict[str, Any] = Field(default_factory=dict)
    # A customer's message on a lead with no language yet, worth detecting it from (domain/inbound.py
    # `for_language`): the table's stream consumer sets the lead's language from it (services/language.py).
    language_wanted: bool = False

    def view(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "type": self.type, "at": self.at, "by": self.by, **self.data}


class Message(BaseModel):
    """A message event's data."""

    message_id: str
    direction: Literal["inbound", "outbound"]
    channel: str
    body: str = ""
    subject: str | None = None  # email
    status: MessageStatus
    automated: bool = False
    attachments: list[dict[str, Any]] = Field(default_factory=list)
    send_at: str | None = None
    provider_id: str | None = None
    error: str | None = None
    # An automated message's origin: a cadence's step, or an appointment's reminder.
    cadence_id: str | None = None
    step: int | None = None
    appointment_id: str | None = None
    # A person's reply sent as the cadence's assistant (`sent_as`: the assistant's name).
    as_assistant: bool | None = None
    sent_as: str | None = None
