"""Appointments with a customer, and the confirmation text a customer gets."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import Field

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
    # The automated reminders scheduled for it (outbox message ids), withdrawn when it moves or ends.
    reminder_ids: list[str] = Field(default_factory=list)


def _when(account: Account, at: str) -> str:
    return parse_time(at).astimezone(ZoneInfo(account.timezone)).strftime("%a %b %-d at %-I:%M %p")


def confirmation_text(account: Account, at: str) -> str:
    return f"{account.name}: your appointment is confirmed for {_when(account, at)}. Reply STOP to opt out."


def reminder_text(account: Account, at: str) -> str:
    where = f" at {account.address}" if account.address else ""
    return f"{account.name}: a reminder of your appointment {_when(account, at)}{where}. Reply STOP to opt out."


def reminder_times(at: str, before_seconds: Iterable[int], now: datetime) -> list[datetime]:
    """When the reminders of an appointment at `at` are due: each offset before it, soonest first,
    leaving out those already past (the outbox then holds any that fall in quiet hours)."""
    start = parse_time(at)
    times = {start - timedelta(seconds=s) for s in before_seconds if s > 0}
    return sorted(t for t in times if now < t < start)
