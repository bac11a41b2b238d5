"""What crosses the edge for calls, logged activities and attachments."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from chalicelib.domain.text import FreeText
from chalicelib.model import BaseModel
from chalicelib.schemas.common import Strict
from chalicelib.schemas.conversations import IsoTime


class CallResponse(BaseModel):
    call_id: str
    status: str = Field(description="queued once Twilio took the call (failed when it refused); the timeline's "
                                    "`call` event follows it: initiated, ringing, in-progress, completed, busy, "
                                    "no-answer, failed, canceled")


class ActivityRequest(Strict):
    kind: Literal["call", "email", "visit", "task"]
    note: FreeText = Field(min_length=1, max_length=2000)
    at: IsoTime | None = Field(default=None, description="when it happened (default: now); not before the lead "
                                                          "arrived, not in the future")


class ActivityResponse(BaseModel):
    """The timeline `activity` event."""

    event_id: str
    type: Literal["activity"]
    at: str
    by: str | None = None
    activity_id: str
    kind: str
    note: str
    logged_at: str


class AttachmentRequest(Strict):
    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(max_length=100, description="image/jpeg, image/png, image/gif, image/webp or "
                                                          "application/pdf")
    bytes: int = Field(ge=1, description="the file's size; at most 5 MB (5,242,880 bytes)")


class AttachmentResponse(BaseModel):
    attachment_id: str
    upload_url: str = Field(description="POST the file here as multipart/form-data: every upload_fields entry, "
                                        "then `file`")
    upload_fields: dict[str, str]
    content_type: str
    max_bytes: int
    expires_at: str
