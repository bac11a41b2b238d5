"""Requests and responses of a store's response targets (PUT/GET/DELETE /accounts/{id}/response-targets)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from chalicelib.domain.targets import MIN_TARGET_SECONDS
from chalicelib.model import BaseModel
from chalicelib.schemas.common import Strict

# 30 days: a target longer than that is no target.
MAX_TARGET_SECONDS = 30 * 86_400


class ResponseTargetsRequest(Strict):
    first_response_seconds: int = Field(ge=MIN_TARGET_SECONDS, le=MAX_TARGET_SECONDS,
                                        description="how soon the owner must first answer a lead they took")
    reply_seconds: int = Field(ge=MIN_TARGET_SECONDS, le=MAX_TARGET_SECONDS,
                               description="how soon a customer's message to an owned lead must be answered")
    warn_before_seconds: int = Field(default=0, ge=0, le=MAX_TARGET_SECONDS,
                                     description="warn the owner this long before the deadline (0: no warning); "
                                                 "shorter than both targets")
    on_miss: Literal["notify_managers", "reoffer"] = Field(
        default="notify_managers",
        description="notify_managers: the store's managers and admins are alerted; reoffer: also, the lead is "
                    "taken from the owner and offered to the next agent")
    business_hours_only: bool = Field(default=False, description="the clock runs only while the store is open")


class ResponseTargetsResponse(BaseModel):
    """A store without targets answers every target field null (`enabled` false)."""

    account_id: str
    enabled: bool
    first_response_seconds: int | None = None
    reply_seconds: int | None = None
    warn_before_seconds: int | None = None
    on_miss: str | None = None
    business_hours_only: bool | None = None
    updated_at: str | None = None
    updated_by: str | None = None
