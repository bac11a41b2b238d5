"""Requests and responses of the lead routes: intake, the Lead Manager list, detail and edits."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, Field

from chalicelib.domain.leads import Channel, Status
from chalicelib.domain.text import FreeText
from chalicelib.model import BaseModel
from chalicelib.schemas.common import EmailStr, Strict, TypedPhone
from chalicelib.schemas.enrolment import EnrolmentResponse

PersonName = Annotated[str, Field(max_length=100)]
Label = Annotated[str, Field(min_length=1, max_length=64)]


FINANCIAL_MAX_CHARS = 10_000
FINANCIAL_MAX_DEPTH = 8


def _named_keys(value: Any, depth: int = 0) -> Any:
    """DynamoDB cannot hold a map with an empty key, a NaN or an infinity, or nesting past 32
    levels: refuse them here (400) rather than store a lead that no read can load (found by fuzzing)."""
    import math

    if depth > FINANCIAL_MAX_DEPTH:
        raise ValueError(f"nests deeper than {FINANCIAL_MAX_DEPTH} levels")
    if isinstance(value, dict):
        for key, inner in value.items():
            if not key:
                raise ValueError("keys must not be empty")
            _named_keys(inner, depth + 1)
    elif isinstance(value, list):
        for inner in value:
            _named_keys(inner, depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite")
    if depth == 0:
        import json

        if len(json.dumps(value)) > FINANCIAL_MAX_CHARS:
            raise ValueError(f"is larger than {FINANCIAL_MAX_CHARS} characters of JSON")
    return value


Financial = Annotated[dict[str, Any], AfterValidator(_named_keys)]


def _plausible_time(value: Any) -> Any:
    """A provider's time between 2000 and 2100 (far-off years overflow when turned into UTC)."""
    if value is not None and not 2000 <= value.year <= 2100:
        raise ValueError("must be a date between 2000 and 2100")
    return value


ReceivedAt = Annotated[AwareDatetime, AfterValidator(_plausible_time)]


class VehicleRequest(Strict):
    year: int | None = Field(default=None, ge=1900, le=2100)
    make: str | None = Field(default=None, max_length=60)
    model: str | None = Field(default=None, max_length=60)
    trim: str | None = Field(default=None, max_length=60)
    vin: str | None = Field(default=None, max_length=17, pattern=r"^[A-HJ-NPR-Za-hj-npr-z0-9]{1,17}$")
    stock: str | None = Field(default=None, max_length=40)
    status: Literal["new", "used"] | None = None
    interest: str | None = Field(default=None, max_length=40)


class CreateLeadRequest(Strict):
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    # Any way a person types a number; intake makes it E.164 with the store's region.
    phone: TypedPhone | None = None
    email: EmailStr | None = None
    source: str | None = Field(default=None, max_length=100)
    source_group: str | None = Field(default=None, max_length=100)
    campaign: str | None = Field(default=None, max_length=200)
    channel: Channel | None = None
    vehicle: VehicleRequest | None = None
    message: FreeText | None = Field(default=None, max_length=5000)
    received_at: ReceivedAt | None = None


class UpdateLeadRequest(Strict):
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    phone: TypedPhone | None = None
    email: EmailStr | None = None
    status: Status | None = None
    language: str | None = Field(default=None, max_length=20)
    vehicle: VehicleRequest | None = None
    financial: Financial | None = None
    done: bool | None = None


class LabelRequest(Strict):
    label: Label


class NoteRequest(Strict):
    text: FreeText = Field(min_length=1, max_length=5000)


class AssignRequest(Strict):
    user_id: str = Field(min_length=1, max_length=64)


class VehicleResponse(BaseModel):
    year: int | None = None
    make: str | None = None
    model: str | None = None
    trim: str | None = None
    vin: str | None = None
    stock: str | None = None
    status: str | None = None
    interest: str | None = None


class LeadResponse(BaseModel):
    lead_id: str
    account_id: str
    first_name: str | None = None
    last_name: str | None = None
    name: str = ""
    phone: str | None = None
    email: str | None = None
    source: str
    source_group: str | None = None
    campaign: str | None = None
    channel: str
    status: str
    opted_out: bool
    email_opted_out: bool = Field(default=False, description="unsubscribed from email only (SMS and Messenger go on)")
    assigned_to: str | None = None
    routing_state: str
    labels: list[str] = Field(default_factory=list)
    language: str | None = None
    vehicle: VehicleResponse | None = None
    financial: dict[str, Any] | None = None
    awaiting_since: str | None = None
    last_message_at: str | None = None
    last_message_preview: str | None = None
    notes_excerpt: str | None = None
    locked_by: str | None = None
    done: bool = False
    open_appointments: int = 0
    showed: bool = False
    scheduled_messages: int = 0
    created_at: str
    received_at: str
    last_activity_at: str
    response_due_at: str | None = Field(default=None, description="when the owner's answer is due (response targets)")
    response_state: Literal["on_time", "due_soon", "missed"] | None = Field(
        default=None, description="the running response deadline: on_time, due_soon (warned), missed; null: none")
    # Set when the request joined an existing open lead (intake replies only).
    coalesced_into: str | None = None
    # Its enrolment in a cadence (the assistant): active, or how the latest one ended.
    cadence: EnrolmentResponse | None = None


class LeadRowResponse(LeadResponse):
    """An inbox row: the lead plus the store's name and how long the customer has waited."""

    account_name: str
    waiting_since: str | None = None


class LeadPage(BaseModel):
    items: list[LeadRowResponse]
    next_cursor: str | None = None


class CreatedLeads(BaseModel):
    items: list[LeadResponse]


class TimelineEventResponse(BaseModel):
    """`{type, at, by, ...}`: the event type's own fields follow (a message's message_id, direction,
    channel, body, status, automated, attachments; a note's text and mentions; ...)."""

    event_id: str
    type: str
    at: str
    by: str | None = None


class TimelineResponse(BaseModel):
    items: list[dict[str, Any]]
