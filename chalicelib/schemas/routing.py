"""Requests and responses of routing: the store's routing config, offers, feedback, scores."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from chalicelib.domain.leads import Channel
from chalicelib.domain.text import FreeText
from chalicelib.model import BaseModel
from chalicelib.schemas.common import Strict

MatchText = Annotated[str, Field(min_length=1, max_length=200)]
UserId = Annotated[str, Field(min_length=1, max_length=64)]


class RuleMatchRequest(Strict):
    source: MatchText | None = None
    source_group: MatchText | None = None
    channel: Channel | None = None


class RoutingRuleRequest(Strict):
    match: RuleMatchRequest = Field(default_factory=RuleMatchRequest)
    # The team whose members this rule offers to; none: every agent of the store.
    team: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    weights: dict[UserId, Annotated[int, Field(ge=1, le=1000)]] = Field(default_factory=dict, max_length=200)


class RoutingConfigRequest(Strict):
    offer_timeout_seconds: int = Field(default=300, ge=1, le=86_400)
    strategy: Literal["round_robin", "weighted"] = "round_robin"
    rules: list[RoutingRuleRequest] = Field(default_factory=list, max_length=50)
    catchall_user_ids: list[UserId] = Field(default_factory=list, max_length=50)
    respect_business_hours: bool = False

    @field_validator("catchall_user_ids")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists a user more than once")
        return value


class RoutingConfigResponse(BaseModel):
    account_id: str
    offer_timeout_seconds: int
    strategy: str
    rules: list[dict[str, Any]]
    catchall_user_ids: list[str]
    respect_business_hours: bool
    updated_at: str | None = None
    updated_by: str | None = None


class OfferResponse(BaseModel):
    offer_id: str
    lead_id: str
    account_id: str
    expires_at: str
    made_at: str
    catchall: bool
    state: str


class OfferPage(BaseModel):
    items: list[OfferResponse]
    next_cursor: str | None = None


class DeclineRequest(Strict):
    reason: Annotated[FreeText, Field(max_length=500)] = ""


class FeedbackRequest(Strict):
    contact_status: Literal["contacted", "not_contacted", "in_progress", "closed_won", "closed_lost"] | None = None
    comment: Annotated[FreeText, Field(max_length=5000)] | None = None


class FeedbackResponse(BaseModel):
    lead_id: str
    contact_status: str | None
    comment_chars: int
    earned: list[str]
    points: int


class ScoreEventResponse(BaseModel):
    event_id: str
    at: str
    reason: str
    points: int
    lead_id: str
    account_id: str


class ScoreResponse(BaseModel):
    user_id: str
    # `from` is a Python keyword: the field is `from_` here and `from` on the wire.
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    timezone: str
    base: int
    score: int
    events: list[ScoreEventResponse]

    model_config = {"populate_by_name": True}
