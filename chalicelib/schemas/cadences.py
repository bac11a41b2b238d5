"""Requests and responses of cadences ("the assistant") and a lead's enrolment."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from chalicelib.domain.cadences import Enroll, Phase, StepChannel
from chalicelib.model import BaseModel
from chalicelib.schemas.common import Strict
from chalicelib.schemas.conversations import MessageBody
from chalicelib.schemas.routing import RuleMatchRequest

# The longest wait between two steps: 90 days.
MAX_STEP_SECONDS = 90 * 86400
MAX_STEPS = 20
CadenceName = Annotated[str, Field(min_length=1, max_length=100)]
AssistantName = Annotated[str, Field(min_length=1, max_length=60)]


class CadenceStepRequest(Strict):
    after_seconds: int = Field(ge=0, le=MAX_STEP_SECONDS,
                               description="seconds after the previous step; the first step's: after enrolment")
    phase: Phase
    channel: StepChannel = Field(default="auto", description="auto: SMS, then Messenger, then email")
    body: MessageBody = Field(min_length=1, description="smart fields such as {{lead.first_name}}, "
                                                        "{{assistant.name}}")
    subject: str | None = Field(default=None, max_length=200, description="for email")


class CadenceRequest(Strict):
    name: CadenceName
    enroll: Enroll = Field(default="manual", description="new_lead: every new lead its `match` fits is enrolled "
                                                         "on arrival; manual: by POST /leads/{lead_id}/cadence")
    match: RuleMatchRequest = Field(default_factory=RuleMatchRequest)
    assistant_name: AssistantName
    steps: list[CadenceStepRequest] = Field(min_length=1, max_length=MAX_STEPS)


class UpdateCadenceRequest(Strict):
    name: CadenceName | None = None
    enroll: Enroll | None = None
    match: RuleMatchRequest | None = None
    assistant_name: AssistantName | None = None
    steps: list[CadenceStepRequest] | None = Field(default=None, min_length=1, max_length=MAX_STEPS)


class CadenceMatchResponse(BaseModel):
    source: str | None = None
    source_group: str | None = None
    channel: str | None = None


class CadenceStepResponse(BaseModel):
    after_seconds: int
    phase: str
    channel: str
    body: str
    subject: str | None = None


class CadenceResponse(BaseModel):
    cadence_id: str
    account_id: str
    name: str
    enroll: str
    match: CadenceMatchResponse
    assistant_name: str
    steps: list[CadenceStepResponse]
    created_by: str | None = None
    created_at: str
    updated_at: str
    version: int


class CadencePage(BaseModel):
    items: list[CadenceResponse]
    next_cursor: str | None = None


class EnrolRequest(Strict):
    cadence_id: str = Field(min_length=1, max_length=128)
