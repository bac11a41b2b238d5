"""Appointments with a customer, and the confirmation text a customer gets."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from chalicelib.clock import parse_time
from chalicelib.domain.accounts import Account
from chalicelib.model import BaseModel


class Appointment(BaseModel):
    appointment_id: str
    lead_id: str
    account_id: str
    group_id: str
    at: str
    note: str | None = None
    status: str = "scheduled"
    created_by: str | None = None
    created_at: str
    updated_at: str


def confirmation_text(account: Account, at: str) -> str:
    local = parse_time(at).astimezone(ZoneInfo(account.timezone))
    when = local.strftime("%a %b %-d at %-I:%M %p")
    return f"{account.name}: your appointment is confirmed for {when}. Reply STOP to opt out."
