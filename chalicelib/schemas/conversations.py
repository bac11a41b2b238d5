"""What crosses the edge for conversations: send / schedule, appointments, escalation, saved replies."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from chalicelib.domain.text import FreeText
from chalicelib.model import BaseModel
from chalicelib.schemas.common import Strict, Url
from chalicelib.schemas.leads import LeadResponse


def _iso_time(value: str) -> str:
    from chalicelib.clock import iso, parse_time

    try:
        return iso(parse_time(value))
    except (ValueError, TypeError) as exc:
        raise ValueError("is not an ISO 8601 time with an offset, e.g. 2026-11-03T15:00:00Z") from exc


IsoTime = Annotated[str, Field(max_length=40), AfterValidator(_iso_time)]
MessageBody = Annotated[FreeText, Field(max_length=1600)]


class SendMessageRequest(Strict):
    body: MessageBody | None = None
    saved_reply_id: str | None = Field(default=None, max_length=100)
    kind: Literal["directions", "voucher", "credit_app"] | None = None
    send_at: IsoTime | None = None
    media_url: Url | None = None
    # Reply as the assistant: sent under the lead's cadence's assistant_name (`{{assistant.name}}`,
    # and `{{agent.name}}` reads it too).
    as_assistant: bool = False
    channel: Literal["sms", "messenger", "email"] | None = Field(
        default=None, description="default: the lead's own channel, else SMS, Messenger, email")
    subject: str | None = Field(default=None, max_length=300, description="email only (smart fields allowed); "
                                                                          "default: the thread's or the store's")
    attachment_ids: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=10, description="uploads of POST /leads/{lead_id}/attachments: sent as "
                                                         "MMS media, Messenger attachments or email attachments")

    @model_validator(mode="after")
    def _one_content(self) -> SendMessageRequest:
        given = [n for n in ("body", "saved_reply_id", "kind") if getattr(self, n)]
        if len(given) > 1:
            raise ValueError(f"give one of body, saved_reply_id or kind, not {' and '.join(given)}")
        if not given and not self.media_url and not self.attachment_ids:
            raise ValueError("give body, saved_reply_id, kind, media_url or attachment_ids")
        return self


class SendMessageResponse(BaseModel):
    message_id: str
    status: Literal["queued", "scheduled"]
    send_at: str | None = None


class CancelMessageResponse(BaseModel):
    message_id: str
    status: Literal["cancelled"]


class AppointmentRequest(Strict):
    at: IsoTime
    note: FreeText | None = Field(default=None, max_length=2000)
    # Text the customer an automated confirmation (never counted as a response).
    confirm: bool = False


class UpdateAppointmentRequest(Strict):
    at: IsoTime | None = None
    status: Literal["showed", "no_show", "cancelled"] | None = None

    @model_validator(mode="after")
    def _one_change(self) -> UpdateAppointmentRequest:
        if (self.at is None) == (self.status is None):
            raise ValueError("give either at (to reschedule) or status")
        return self


class AppointmentResponse(BaseModel):
    appointment_id: str
    lead_id: str
    account_id: str
    at: str
    note: str | None = None
    status: str
    created_by: str | None = None
    created_at: str
    updated_at: str
    confirmation_message_id: str | None = None


class EscalateRequest(Strict):
    note: FreeText = Field(min_length=1, max_length=5000)


class EmailedResponse(BaseModel):
    lead_id: str
    sent_to: str


class SavedReplyRequest(Strict):
    title: str = Field(min_length=1, max_length=200)
    body: MessageBody = Field(min_length=1)


class UpdateSavedReplyRequest(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    body: MessageBody | None = Field(default=None, min_length=1)


class SavedReplyResponse(BaseModel):
    saved_reply_id: str
    account_id: str
    title: str
    body: str
    created_by: str | None = None
    created_at: str
    updated_at: str


class SavedReplyPage(BaseModel):
    items: list[SavedReplyResponse]
    next_cursor: str | None = None


class LeadActionResponse(LeadResponse):
    """The lead after an action, with the conversation fields the action may have changed."""

    stop_messaging: bool = False
    first_response_at: str | None = None
