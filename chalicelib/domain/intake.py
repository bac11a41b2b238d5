"""Intake rules: a lead request's contact points (normalised, every bad field named), the ADF
documents providers send (every prospect checked before any is written), when a request may join
an open lead, and what a request records. Pure."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.accounts import Account
from chalicelib.domain.contacts import normalize_email, normalize_phone, region_for_timezone
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.leads import Lead, NewLead, within_window

CONTACT_KINDS = ("phone", "email", "messenger")
PREVIEW_CHARS = 140


@dataclass(frozen=True)
class Contact:
    """A request's normalised contact points: the values its contact keys are made of."""

    phone: str | None
    email: str | None
    messenger: str | None

    def points(self) -> list[tuple[str, str]]:
        return [(k, v) for k, v in (("phone", self.phone), ("email", self.email), ("messenger", self.messenger)) if v]


def normalize_contact(account: Account, data: NewLead, prefix: str = "") -> Contact:
    """Normalise phone (E.164, the store's region by default) and email (lower case); name every bad field."""
    details: list[dict[str, str]] = []
    phone = email = None
    if data.phone and data.phone.strip():
        try:
            phone = normalize_phone(data.phone, region_for_timezone(account.timezone))
        except ValueError as exc:
            details.append({"field": f"{prefix}phone", "message": str(exc)})
    if data.email and data.email.strip():
        try:
            email = normalize_email(data.email)
        except ValueError as exc:
            details.append({"field": f"{prefix}email", "message": str(exc)})
    psid = (data.messenger_psid or "").strip() or None
    if not details and not (phone or email or psid):
        details = [{"field": f"{prefix}phone", "message": "a lead needs a phone number or an email address"},
                   {"field": f"{prefix}email", "message": "a lead needs a phone number or an email address"}]
    if details:
        raise ValidationFailed("the lead has bad fields: " + ", ".join(d["field"] for d in details), details=details)
    return Contact(phone=phone, email=email, messenger=psid)


def delivery_key(account: Account, prospect: dict[str, Any]) -> str:
    """The provider's lead id when the prospect has one, else a digest of everything it says."""
    if prospect.get("provider_lead_id"):
        named = ["id", prospect.get("source") or "", prospect["provider_lead_id"]]
    else:
        named = ["content", json.dumps(prospect, sort_keys=True, default=str)]
    digest = hashlib.sha256("\x1f".join(named).encode()).hexdigest()
    return f"{account.account_id}#{digest}"


def read_adf(account: Account, document: bytes) -> list[tuple[NewLead, str]]:
    """Every prospect of an ADF document as a lead request with its delivery key, all checked before
    any is written: one bad prospect (or a broken or hostile document) is a 400 naming the field,
    and nothing is stored."""
    from chalicelib.domain.adf import AdfError, parse_adf

    try:
        prospects = parse_adf(document)
    except AdfError as exc:
        raise ValidationFailed.field(exc.field, exc.message) from exc
    details: list[dict[str, str]] = []
    requests = []
    for i, prospect in enumerate(prospects):
        prefix = f"prospect[{i}]."
        received_at = None
        if prospect["requestdate"]:
            try:
                received_at = _request_date(prospect["requestdate"], account.timezone)
            except ValueError:
                details.append({"field": f"{prefix}requestdate", "message": "is not an ISO 8601 date and time"})
        for name, limit in (("first_name", 100), ("last_name", 100), ("source", 100), ("source_group", 100),
                            ("campaign", 200), ("message", 5000), ("phone", 40), ("email", 254)):
            if prospect[name] and len(prospect[name]) > limit:
                details.append({"field": f"{prefix}{name}", "message": f"is longer than {limit} characters"})
        for name, value in (prospect["vehicle"] or {}).items():
            if isinstance(value, str) and len(value) > 60:
                details.append({"field": f"{prefix}vehicle.{name}", "message": "is longer than 60 characters"})
        request = NewLead(
            first_name=prospect["first_name"], last_name=prospect["last_name"], phone=prospect["phone"],
            email=prospect["email"], source=prospect["source"] or "ADF", source_group=prospect["source_group"],
            campaign=prospect["campaign"], channel="web", message=prospect["message"], received_at=received_at,
            vehicle=prospect["vehicle"] or None)
        try:
            normalize_contact(account, request, prefix)
        except ValidationFailed as exc:
            details.extend(exc.details)
        requests.append((request, delivery_key(account, prospect)))
    if details:
        raise ValidationFailed("the document has bad fields: " + ", ".join(d["field"] for d in details),
                               details=details)
    return requests


def _request_date(raw: str, timezone: str) -> datetime:
    """A provider's <requestdate>: ISO 8601; without an offset it is the store's local time."""
    from zoneinfo import ZoneInfo

    parsed = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    if not 2000 <= parsed.year <= 2100:
        raise ValueError("out of range")  # far-off years overflow when turned into UTC
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(timezone))


def joinable(lead: Lead, account: Account, now: str) -> bool:
    last = lead.last_request_at or lead.created_at
    return lead.is_open and within_window(last, now, account.coalesce_window_days)


def clean(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


def preview(message: str | None) -> str | None:
    if not message:
        return None
    flat = " ".join(message.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


def request_fields(lead: Lead, data: NewLead, contact: Contact | None = None,
                    received_at: str | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "source": clean(data.source) or lead.source, "source_group": clean(data.source_group),
        "campaign": clean(data.campaign), "channel": data.channel or lead.channel,
        "received_at": received_at or lead.received_at,
    }
    if contact is not None:
        fields.update(first_name=clean(data.first_name), last_name=clean(data.last_name), phone=contact.phone,
                      email=contact.email)
        if data.vehicle is not None:
            fields["vehicle"] = data.vehicle.model_dump(exclude_none=True)
    return {k: v for k, v in fields.items() if v is not None}


def report_data(received_at: str, data: NewLead, contact: Contact, channel: str) -> dict[str, Any]:
    return {"source": clean(data.source) or "Unknown", "source_group": clean(data.source_group),
            "campaign": clean(data.campaign), "channel": channel, "has_email": contact.email is not None,
            "has_phone": contact.phone is not None, "received_at": received_at}
