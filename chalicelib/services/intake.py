"""Lead intake: every path that brings a customer's request (the JSON route, ADF documents,
provider webhooks, inbound SMS and Messenger) ends here.

A request whose phone, email or Messenger id matches an open lead of the same store
(within the store's `coalesce_window_days` of that lead's latest request) joins that lead
instead of making a new one. The match is made atomic by the store's contact keys: a new
lead is written in one transaction with conditional puts of its contact keys, so two
identical requests racing each other cannot both create a lead; the loser reads the
winner's keys on its retry and coalesces into it.

A provider delivers the same ADF document again when it missed our answer (or a document
failed halfway): each prospect carries a delivery key — the provider's lead `<id>`, else a
digest of the prospect — written in the same transaction as the lead it made, so a repeat
answers what the first delivery did and changes nothing (no second coalesce, no second credit)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters.dynamodb.conversations import ConversationRepository
from chalicelib.adapters.dynamodb.leads import LeadRepository
from chalicelib.adapters.dynamodb.table import TransactionCancelled
from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain.accounts import Account
from chalicelib.domain.contacts import normalize_email, normalize_phone, region_for_timezone
from chalicelib.domain.errors import Conflict, ValidationFailed
from chalicelib.domain.leads import Lead, NewLead, Vehicle, within_window
from chalicelib.domain.timeline import Message
from chalicelib.ids import new_id
from chalicelib.observability import logger
from chalicelib.services.lead_changes import Change, change_lead, report_event, score_event, timeline_event

CONTACT_KINDS = ("phone", "email", "messenger")
PREVIEW_CHARS = 140
# Ten identical requests at once means up to nine coalescing into one lead at the same moment;
# each lost race re-reads and retries, so allow more rounds than change_lead's default.
ATTEMPTS = 30
# How long a repeated delivery of an ADF prospect is recognised (after that it coalesces).
DELIVERY_DAYS = 30
DELIVERY_SOURCE = "adf"


@dataclass(frozen=True)
class IntakeResult:
    lead: Lead
    coalesced_into: str | None
    created: bool
    # The inbound message event written for the request's message, when a new lead was created.
    message_id: str | None = None


@dataclass(frozen=True)
class Contact:
    """A request's normalised contact points: the values its contact keys are made of."""

    phone: str | None
    email: str | None
    messenger: str | None

    def points(self) -> list[tuple[str, str]]:
        return [(k, v) for k, v in (("phone", self.phone), ("email", self.email), ("messenger", self.messenger)) if v]


class _NoLongerOpen(Exception):
    """The lead we meant to coalesce into closed or left the window meanwhile: decide again."""


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


def receive_lead(deps: Deps, account: Account, data: NewLead, *, by: str | None = None,
                 delivery: str | None = None) -> IntakeResult:
    """Create a lead for a request, or join it to the store's open lead of the same contact.
    `delivery` names the request for a provider that may send it again (see the module's note)."""
    contact = normalize_contact(account, data)
    repo = LeadRepository(deps.table)
    deliveries = ConversationRepository(deps.table)
    for _ in range(ATTEMPTS):
        if delivery is not None:
            earlier = deliveries.dedup(DELIVERY_SOURCE, delivery)
            if earlier is not None:
                return IntakeResult(lead=repo.require(earlier["lead_id"]), created=False,
                                    coalesced_into=earlier.get("coalesced_into"))
        seen = {kind: repo.contact(account.account_id, kind, value) for kind, value in contact.points()}
        target = _open_lead_to_join(deps, repo, account, seen)
        if target is not None:
            try:
                return _coalesce(deps, account, target, data, contact, seen, by, delivery)
            except (_NoLongerOpen, TransactionCancelled):
                continue
        try:
            return _create(deps, account, data, contact, seen, by, delivery)
        except TransactionCancelled:
            # Another request claimed one of the contact keys (or the delivery) first: read them again.
            continue
    raise Conflict("too many requests for this contact at once; try again", code="busy")


def _delivery_op(deps: Deps, delivery: str, lead_id: str, coalesced_into: str | None) -> dict[str, Any]:
    ttl = int((deps.clock.now() + timedelta(days=DELIVERY_DAYS)).timestamp())
    recorded = {"lead_id": lead_id, **({"coalesced_into": coalesced_into} if coalesced_into else {})}
    return ConversationRepository.dedup_op(DELIVERY_SOURCE, delivery, ttl, **recorded)


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
            vehicle=Vehicle.model_validate(prospect["vehicle"]) if prospect["vehicle"] else None)
        try:
            normalize_contact(account, request, prefix)
        except ValidationFailed as exc:
            details.extend(exc.details)
        requests.append((request, delivery_key(account, prospect)))
    if details:
        raise ValidationFailed("the document has bad fields: " + ", ".join(d["field"] for d in details),
                               details=details)
    return requests


def receive_adf(deps: Deps, account: Account, document: bytes, *, by: str | None = None) -> list[IntakeResult]:
    """An ADF document's prospects, each through `receive_lead` (so each may coalesce). A repeated
    document — or one retried after a failure halfway — answers as the first delivery did."""
    return [receive_lead(deps, account, request, by=by, delivery=delivery)
            for request, delivery in read_adf(account, document)]


def _request_date(raw: str, timezone: str) -> datetime:
    """A provider's <requestdate>: ISO 8601; without an offset it is the store's local time."""
    from zoneinfo import ZoneInfo

    parsed = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    if not 2000 <= parsed.year <= 2100:
        raise ValueError("out of range")  # far-off years overflow when turned into UTC
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(timezone))


def find_open_lead(deps: Deps, account_id: str, kind: str, value: str) -> Lead | None:
    """The store's open lead of a contact (kind: phone (E.164) | email | messenger (PSID)), whatever its age.

    Inbound messages use it to join a conversation; coalescing of new requests also applies the window."""
    if kind not in CONTACT_KINDS:
        raise ValueError(f"unknown contact kind {kind}")
    if kind == "email":
        value = value.strip().lower()
    repo = LeadRepository(deps.table)
    found = repo.contact(account_id, kind, value)
    if not found:
        return None
    lead = repo.get(found["lead_id"])
    return lead if lead is not None and lead.is_open else None


# -- the two outcomes ------------------------------------------------------------------

def _open_lead_to_join(deps: Deps, repo: LeadRepository, account: Account,
                       seen: dict[str, dict[str, Any] | None]) -> Lead | None:
    now = iso(deps.clock.now())
    checked: set[str] = set()
    for kind in CONTACT_KINDS:  # phone first: the strongest identity of a dealer's customer
        found = seen.get(kind)
        if not found or found["lead_id"] in checked:
            continue
        checked.add(found["lead_id"])
        lead = repo.get(found["lead_id"])
        if lead is not None and _joinable(lead, account, now):
            return lead
    return None


def _joinable(lead: Lead, account: Account, now: str) -> bool:
    last = lead.last_request_at or lead.created_at
    return lead.is_open and within_window(last, now, account.coalesce_window_days)


def _create(deps: Deps, account: Account, data: NewLead, contact: Contact,
            seen: dict[str, dict[str, Any] | None], by: str | None, delivery: str | None) -> IntakeResult:
    repo = LeadRepository(deps.table)
    now_dt = deps.clock.now()
    now = iso(now_dt)
    message = (data.message or "").strip() or None
    channel = data.channel or ("messenger" if contact.messenger else "web")
    lead = Lead(
        lead_id=new_id("lead", now_dt), account_id=account.account_id, group_id=account.group_id,
        first_name=_clean(data.first_name), last_name=_clean(data.last_name),
        phone=contact.phone, email=contact.email, messenger_psid=contact.messenger,
        source=_clean(data.source) or "Unknown", source_group=_clean(data.source_group),
        campaign=_clean(data.campaign), channel=channel, vehicle=data.vehicle,
        received_at=iso(data.received_at) if data.received_at else now,
        created_at=now, last_activity_at=now, last_request_at=now,
        # A new request waits for the store's first reply from the moment it arrives.
        awaiting_since=now,
        last_message_at=now if message else None, last_message_preview=_preview(message),
    )
    ops = repo.create_ops(lead)
    for kind, value in contact.points():
        prior = seen.get(kind)
        ops.append(repo.contact_claim_op(account.account_id, kind, value, lead.lead_id, now,
                                         prior["lead_id"] if prior else None))
    ops.append(repo.event_op(timeline_event(deps, lead, "created", by, **_request_fields(lead, data))))
    message_id = None
    if message:
        message_id = new_id("msg", now_dt)
        body = Message(message_id=message_id, direction="inbound", channel=channel, body=message, status="received",
                       provider_id=data.provider_message_id, attachments=data.attachments)
        ops.append(repo.event_op(timeline_event(deps, lead, "message", None, event_id=message_id,
                                                **body.model_dump(exclude_none=True))))
        ops.append(repo.report_op(report_event(deps, lead, "message_inbound", channel=channel)))
    ops.append(repo.report_op(report_event(deps, lead, "lead_received", **_report_data(lead.received_at, data,
                                                                                        contact, channel))))
    if delivery is not None:
        ops.append(_delivery_op(deps, delivery, lead.lead_id, None))
    repo.commit(ops, lead_op_index=None)
    logger.info("lead created", extra={"lead_id": lead.lead_id, "account_id": account.account_id})
    from chalicelib.services.routing import route_new_lead

    route_new_lead(deps, lead)
    return IntakeResult(lead=lead, coalesced_into=None, created=True, message_id=message_id)


def _coalesce(deps: Deps, account: Account, target: Lead, data: NewLead, contact: Contact,
              seen: dict[str, dict[str, Any] | None], by: str | None, delivery: str | None) -> IntakeResult:
    repo = LeadRepository(deps.table)
    message = (data.message or "").strip() or None
    channel = data.channel or ("messenger" if contact.messenger else "web")

    def decide(lead: Lead) -> Change:
        now = iso(deps.clock.now())
        if not _joinable(lead, account, now):
            raise _NoLongerOpen
        updates: dict[str, Any] = {"last_request_at": now}
        # What the repeat tells us that the lead did not know yet.
        for name, value in (("first_name", _clean(data.first_name)), ("last_name", _clean(data.last_name)),
                            ("phone", contact.phone), ("email", contact.email),
                            ("messenger_psid", contact.messenger), ("vehicle", data.vehicle)):
            if value is not None and getattr(lead, name) is None:
                updates[name] = value
        if message:
            updates.update(last_message_at=now, last_message_preview=_preview(message))
            if lead.awaiting_since is None:
                updates["awaiting_since"] = now
        received_at = iso(data.received_at) if data.received_at else now
        event_data = _request_fields(lead, data, contact=contact, received_at=received_at)
        if message:
            event_data["message"] = message
        events = [timeline_event(deps, lead, "coalesced", by, **event_data)]
        scores = [score_event(deps, lead, lead.assigned_to, "coalesced")] if lead.assigned_to else []
        reports = [report_event(deps, lead, "lead_coalesced", coalesced_into=lead.lead_id,
                                **_report_data(received_at, data, contact, channel))]
        # Contact points the lead did not have yet now lead here too, if nobody holds them.
        extra = [repo.contact_claim_op(account.account_id, kind, value, lead.lead_id, now, None)
                 for kind, value in contact.points() if not seen.get(kind)]
        if delivery is not None:
            extra.append(_delivery_op(deps, delivery, lead.lead_id, lead.lead_id))
        return Change(updates=updates, events=events, scores=scores, reports=reports, extra_ops=extra)

    lead, _ = change_lead(deps, target.lead_id, decide, attempts=ATTEMPTS, touch=True)
    logger.info("lead coalesced", extra={"lead_id": lead.lead_id, "account_id": account.account_id})
    if lead.assigned_to:
        owner = deps.users.get(lead.assigned_to)
        if owner is not None:
            from chalicelib.services.notifications import notify

            source = _clean(data.source) or lead.source
            notify(deps, [owner], "coalesced", f"{lead.name or 'Your lead'} sent another request ({source})",
                   lead_id=lead.lead_id, account_id=lead.account_id)
    return IntakeResult(lead=lead, coalesced_into=lead.lead_id, created=False)


# -- small helpers ---------------------------------------------------------------------

def _clean(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


def _preview(message: str | None) -> str | None:
    if not message:
        return None
    flat = " ".join(message.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


def _request_fields(lead: Lead, data: NewLead, contact: Contact | None = None,
                    received_at: str | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "source": _clean(data.source) or lead.source, "source_group": _clean(data.source_group),
        "campaign": _clean(data.campaign), "channel": data.channel or lead.channel,
        "received_at": received_at or lead.received_at,
    }
    if contact is not None:
        fields.update(first_name=_clean(data.first_name), last_name=_clean(data.last_name), phone=contact.phone,
                      email=contact.email)
        if data.vehicle is not None:
            fields["vehicle"] = data.vehicle.model_dump(exclude_none=True)
    return {k: v for k, v in fields.items() if v is not None}


def _report_data(received_at: str, data: NewLead, contact: Contact, channel: str) -> dict[str, Any]:
    return {"source": _clean(data.source) or "Unknown", "source_group": _clean(data.source_group),
            "campaign": _clean(data.campaign), "channel": channel, "has_email": contact.email is not None,
            "has_phone": contact.phone is not None, "received_at": received_at}

