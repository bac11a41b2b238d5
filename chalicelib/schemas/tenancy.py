"""Requests and responses for accounts, users and `me`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from chalicelib.domain.business_hours import validate_business_hours, validate_holidays
from chalicelib.domain.tenancy import Role
from chalicelib.model import BaseModel
from chalicelib.schemas.common import EmailStr, Name, PhoneE164, ShortText, Strict, TimezoneName, Url

BusinessHoursField = dict[str, list[list[str]]]
# A reminder from a minute to 30 days before the appointment.
ReminderOffset = Annotated[int, Field(ge=60, le=30 * 86400)]


def _check_hours(value: BusinessHoursField | None) -> BusinessHoursField | None:
    if value is not None:
        problems = validate_business_hours(value)
        if problems:
            raise ValueError("; ".join(f"{path}: {msg}" for path, msg in problems))
    return value


def _check_holidays(value: list[str] | None) -> list[str] | None:
    if value is not None:
        problems = validate_holidays(value)
        if problems:
            raise ValueError("; ".join(f"{path}: {msg}" for path, msg in problems))
        return sorted(set(value))
    return value


class AccountSettingsFields(Strict):
    sms_number: PhoneE164 | None = None
    messenger_page_id: str | None = Field(default=None, max_length=64, pattern=r"^\d+$")
    twilio_account_sid: str | None = Field(
        default=None, pattern=r"^AC[0-9a-fA-F]{32}$",
        description="the Twilio subaccount that owns sms_number; its auth token must be in the stage's "
                    "twilio_auth_tokens. Unset: the stage's Twilio account")
    email_from: EmailStr | None = Field(
        default=None, description="the store's address: email to customers comes from it, and mail to it from an "
                                  "unknown sender makes a lead (its domain must be verified in SES and receive "
                                  "mail through SES; docs/conversations.md). Unset: the stage's sender")
    crm_email: EmailStr | None = None
    escalation_email: EmailStr | None = None
    address: ShortText | None = None
    directions_url: Url | None = None
    credit_app_url: Url | None = None
    voucher_url: Url | None = None
    campaign_notes: ShortText | None = None
    coalesce_window_days: int | None = Field(default=None, ge=1, le=365)
    appointment_reminders_seconds: list[ReminderOffset] | None = Field(
        default=None, max_length=5,
        description="automated reminders before each open appointment, in seconds before it (e.g. [86400, 7200])")

    @field_validator("appointment_reminders_seconds")
    @classmethod
    def _distinct_reminders(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("each reminder time once")
        return sorted(value, reverse=True) if value is not None else None


class CreateAccountRequest(AccountSettingsFields):
    name: Name
    timezone: TimezoneName
    kind: Literal["sales", "service"] = "sales"
    business_hours: BusinessHoursField | None = None
    holidays: list[str] | None = None

    _hours = field_validator("business_hours")(_check_hours)
    _holidays = field_validator("holidays")(_check_holidays)


class UpdateAccountRequest(AccountSettingsFields):
    name: Name | None = None
    timezone: TimezoneName | None = None
    kind: Literal["sales", "service"] | None = None
    business_hours: BusinessHoursField | None = None
    holidays: list[str] | None = None

    _hours = field_validator("business_hours")(_check_hours)
    _holidays = field_validator("holidays")(_check_holidays)


class AccountResponse(BaseModel):
    account_id: str
    group_id: str
    name: str
    timezone: str
    kind: str
    business_hours: BusinessHoursField
    holidays: list[str]
    sms_number: str | None = None
    messenger_page_id: str | None = None
    twilio_account_sid: str | None = None
    email_from: str | None = None
    crm_email: str | None = None
    escalation_email: str | None = None
    address: str | None = None
    directions_url: str | None = None
    credit_app_url: str | None = None
    voucher_url: str | None = None
    campaign_notes: str | None = None
    coalesce_window_days: int
    appointment_reminders_seconds: list[int] = Field(default_factory=list)
    api_key: str | None = Field(default=None, description="shown to admins only: lead providers send it as X-Api-Key")
    created_at: str
    updated_at: str


class NotifyRequest(Strict):
    in_app: bool = True
    email: bool = False
    sms: bool = False
    forward_email: EmailStr | None = Field(default=None, description="a personal address that also gets lead alerts")


class NotifyResponse(BaseModel):
    in_app: bool
    email: bool
    sms: bool
    forward_email: str | None = None


class CreateUserRequest(Strict):
    email: EmailStr
    name: Name
    role: Role
    account_ids: list[str] = Field(default_factory=list, max_length=500)
    phone: PhoneE164 | None = None
    restricted: bool = False
    teams: list[Name] = Field(default_factory=list, max_length=50)
    notify: NotifyRequest | None = None


class UpdateUserRequest(Strict):
    email: EmailStr | None = None
    name: Name | None = None
    role: Role | None = None
    account_ids: list[str] | None = Field(default=None, max_length=500)
    phone: PhoneE164 | None = None
    restricted: bool | None = None
    teams: list[Name] | None = Field(default=None, max_length=50)
    notify: NotifyRequest | None = None
    available: bool | None = None


class UpdateMeRequest(Strict):
    available: bool | None = None
    name: Name | None = None
    phone: PhoneE164 | None = None
    notify: NotifyRequest | None = None


class UserResponse(BaseModel):
    user_id: str
    group_id: str
    email: str
    name: str
    role: Role
    account_ids: list[str]
    phone: str | None = None
    restricted: bool
    teams: list[str]
    notify: NotifyResponse
    available: bool
    created_at: str
    updated_at: str


class MembershipResponse(BaseModel):
    """One group the caller belongs to; send its `group_id` as `X-Leadline-Group` to act there."""

    group_id: str
    group_name: str
    user_id: str
    role: Role


class MeResponse(UserResponse):
    groups: list[MembershipResponse]


class LocalSignInRequest(Strict):
    email: EmailStr
    password: str = Field(min_length=1, max_length=200)


class LocalSignInResponse(BaseModel):
    token: str
    user: UserResponse


class HealthResponse(BaseModel):
    status: str
