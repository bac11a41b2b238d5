"""Stores (accounts) and groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from chalicelib.domain.business_hours import DEFAULT_BUSINESS_HOURS, BusinessHours
from chalicelib.domain.targets import ResponseTargets
from chalicelib.model import BaseModel


class Group(BaseModel):
    group_id: str
    name: str
    created_at: str


class Account(BaseModel):
    account_id: str
    group_id: str
    name: str
    timezone: str
    kind: Literal["sales", "service"] = "sales"
    business_hours: dict[str, list[list[str]]] = Field(default_factory=lambda: dict(DEFAULT_BUSINESS_HOURS))
    holidays: list[str] = Field(default_factory=list)
    sms_number: str | None = None
    messenger_page_id: str | None = None
    # The Twilio subaccount that owns the store's number (None: the stage's own account). It signs
    # the store's webhooks with its own auth token, and the store's SMS are sent through it.
    twilio_account_sid: str | None = None
    # The store's own address: customers' email comes from it (and replies to it reach the store).
    email_from: str | None = None
    crm_email: str | None = None
    escalation_email: str | None = None
    address: str | None = None
    directions_url: str | None = None
    credit_app_url: str | None = None
    voucher_url: str | None = None
    campaign_notes: str | None = None
    coalesce_window_days: int = 30
    # Automated reminders before each open appointment, in seconds before it (e.g. [86400, 7200]).
    appointment_reminders_seconds: list[int] = Field(default_factory=list)
    # How soon owners must answer (PUT /accounts/{id}/response-targets); None: no targets.
    response_targets: ResponseTargets | None = None
    api_key: str = ""
    created_at: str
    updated_at: str

    @property
    def hours(self) -> BusinessHours:
        return BusinessHours(self.timezone, self.business_hours, frozenset(self.holidays))


@dataclass(frozen=True)
class SmsNumberOwner:
    """Who answers an SMS number: the store, and the Twilio account the number is on."""

    account_id: str
    twilio_account_sid: str | None  # the store's Twilio subaccount; None: the stage's account
