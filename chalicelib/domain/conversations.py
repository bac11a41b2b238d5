"""Conversation rules: consent (keywords, opting out and in), quiet hours, smart fields, the
Messenger window and the order of a message's delivery states. Pure: times and records in,
decisions out."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from chalicelib.clock import parse_time
from chalicelib.domain.accounts import Account
from chalicelib.domain.changes import Change
from chalicelib.domain.errors import Conflict, ValidationFailed
from chalicelib.domain.leads import Lead
from chalicelib.domain.records import report_event, timeline_event

# -- consent -------------------------------------------------------------------------

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})

Consent = Literal["stop", "start", "help"]


def consent_keyword(body: str | None) -> Consent | None:
    """The consent meaning of a whole message: one keyword, any case, surrounding spaces allowed.
    A keyword inside a sentence ("please stop by at 5") is a normal message, as carriers treat it."""
    word = (body or "").strip().upper()
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    if word in HELP_WORDS:
        return "help"
    return None


def help_reply(store_name: str) -> str:
    return (f"{store_name}: you are texting our sales team; a person will answer here. "
            "Msg&data rates may apply. Reply STOP to opt out, START to opt back in.")


def opt_out_change(lead: Lead, by: str | None, source: str, now: datetime) -> Change[None] | None:
    """The customer (a STOP) or an agent for them: no more messages, and the lead is dead.
    None when the lead opted out already."""
    if lead.opted_out:
        return None
    events = [timeline_event(lead, "opt_out", by, now, source=source)]
    reports = []
    if lead.status != "dead":
        events.append(timeline_event(lead, "status", by, now, **{"from": lead.status, "to": "dead"}))
        reports.append(report_event(lead, "status_changed", now, user_id=by, **{"from": lead.status, "to": "dead"}))
    return Change(updates={"opted_out": True, "status": "dead", "awaiting_since": None}, events=events,
                  reports=reports)


def opt_in_change(lead: Lead, by: str | None, source: str, now: datetime) -> Change[None] | None:
    """A START: messages may go again, and a dead lead is hot. None unless the lead opted out."""
    if not lead.opted_out:
        return None
    events = [timeline_event(lead, "opt_in", by, now, source=source)]
    reports = []
    if lead.status == "dead":
        events.append(timeline_event(lead, "status", by, now, **{"from": "dead", "to": "hot"}))
        reports.append(report_event(lead, "status_changed", now, user_id=by, **{"from": "dead", "to": "hot"}))
    return Change(updates={"opted_out": False, "status": "hot" if lead.status == "dead" else lead.status},
                  events=events, reports=reports)


# How a message reaches the customer: (channel, the customer's address, the store's address).
Route = tuple[str, str, str | None]

# -- quiet hours -----------------------------------------------------------------------

QUIET_ENDS = time(8, 0)    # the first minute a message may go
QUIET_STARTS = time(21, 0)  # the first minute a message may not go
# A number whose area spans more zones than this (toll-free, non-geographic) says nothing useful.
MAX_PHONE_ZONES = 4


def recipient_zones(phone_zones: Iterable[str], store_timezone: str) -> tuple[str, ...]:
    """The zones whose clocks decide quiet hours: the phone number's (all of them when an area
    spans a few, so no recipient is woken), else the store's."""
    zones = tuple(dict.fromkeys(z for z in phone_zones if z))
    if not zones or len(zones) > MAX_PHONE_ZONES:
        return (store_timezone,)
    if store_timezone in zones:
        return (store_timezone,)
    return zones


def _allowed_in(at: datetime, zone: str) -> bool:
    local = at.astimezone(ZoneInfo(zone)).time()
    return QUIET_ENDS <= local < QUIET_STARTS


def _next_opening_in(at: datetime, zone: str) -> datetime:
    """The next 08:00 in `zone` after `at` (today's if it is still before 08:00 there)."""
    tz = ZoneInfo(zone)
    local = at.astimezone(tz)
    day = local.date() if local.time() < QUIET_ENDS else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_ENDS, tzinfo=tz).astimezone(at.tzinfo)


def quiet_zones(lead: Lead, account: Account, channel: str) -> tuple[str, ...]:
    """The zones whose night a message to the lead by `channel` waits out: an SMS's number's, else the
    store's (an email's reader is where their phone says too, when the lead has one)."""
    from chalicelib.domain.contacts import phone_timezones

    zones = phone_timezones(lead.phone) if channel in ("sms", "email") and lead.phone else ()
    return recipient_zones(zones, account.timezone)


def is_quiet(at: datetime, zones: Iterable[str]) -> bool:
    return not all(_allowed_in(at, z) for z in zones)


def next_allowed_send(at: datetime, zones: Iterable[str]) -> datetime:
    """`at` when it is between 08:00 and 21:00 in every zone, else the first such moment after it."""
    zone_list = list(zones)
    candidate = at
    for _ in range(8):  # each round moves to some zone's 08:00; a few zones settle within a day
        quiet = [z for z in zone_list if not _allowed_in(candidate, z)]
        if not quiet:
            return candidate
        candidate = max(_next_opening_in(candidate, z) for z in quiet)
    return candidate


# -- smart fields ----------------------------------------------------------------------

_FIELD = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_.]*)\s*(?:\|([^}]*))?\}\}")
# Anything between double braces: a field, a typo of one, or text that only looks like one.
_BRACES = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_EMPTY = "\x00"


def smart_field_values(lead: Lead, account: Account, agent_name: str | None) -> dict[str, str | None]:
    """Every smart field an agent may write; a value of None means the field exists but is empty."""
    vehicle = lead.vehicle
    vehicle_text = " ".join(str(p) for p in (vehicle.year, vehicle.make, vehicle.model, vehicle.trim) if p) \
        if vehicle else ""
    agent_first = (agent_name or "").split(" ")[0] or None
    return {
        "lead.first_name": lead.first_name, "lead.last_name": lead.last_name, "lead.name": lead.name or None,
        "lead.phone": lead.phone, "lead.email": lead.email, "lead.vehicle": vehicle_text or None,
        "account.name": account.name, "account.address": account.address, "account.phone": account.sms_number,
        "account.directions_url": account.directions_url, "account.credit_app_url": account.credit_app_url,
        "account.voucher_url": account.voucher_url,
        "agent.name": agent_name, "agent.first_name": agent_first,
        # The assistant the lead's cadence writes as (an as_assistant reply is signed with it too).
        "assistant.name": lead.cadence.assistant_name if lead.cadence else None,
    }


def render(template: str, values: Mapping[str, str | None], field: str = "body") -> str:
    """Fill `{{lead.first_name}}`-style fields (`{{lead.first_name|there}}` gives a fallback).

    An unknown field of the template is a 400 naming it, so a literal `{{...}}` typed by staff
    never reaches a customer; an empty field without fallback becomes nothing, and the space it
    leaves before punctuation goes too ("Hi {{lead.first_name}}, ..." -> "Hi, ..."). One pass:
    each value goes in literally and is never read again — a customer named "{{account.name}}" is
    greeted by that name, and only the template's own text is tidied."""
    unknown = set()
    for braces in _BRACES.finditer(template):
        field_match = _FIELD.fullmatch(braces.group(0))
        if field_match is None or field_match.group(1) not in values:
            unknown.add(field_match.group(1) if field_match else braces.group(1).strip())
    if unknown:
        names = ", ".join("{{" + u + "}}" for u in sorted(unknown))
        raise ValidationFailed(f"{field}: unknown smart field {names}",
                               details=[{"field": field, "message": f"unknown smart field {names}"}])

    # The template's own text (with a marker where an empty field was) and the values between it.
    texts, filled, at = [], [], 0
    for match in _FIELD.finditer(template):
        value = str(values.get(match.group(1)) or "").strip()
        fallback = (match.group(2) or "").strip()
        texts.append(template[at:match.start()] + ("" if value else fallback or _EMPTY))
        filled.append(value)
        at = match.end()
    texts.append(template[at:])
    runs = [_tidy(text) for text in _join_empty(texts, filled)]
    given = [value for value in filled if value]
    return "".join(part for pair in zip(runs, [*given, ""], strict=True) for part in pair).strip()


def _join_empty(texts: list[str], filled: list[str]) -> list[str]:
    """Template text on both sides of an empty field is one run of text (so the tidying sees the
    space before the punctuation that follows); a field that gave a value keeps them apart."""
    runs = [texts[0]]
    for value, text in zip(filled, texts[1:], strict=True):
        if value:
            runs.append(text)
        else:
            runs[-1] += text
    return runs


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]*\x00[ \t]*(?=[,.!?;:])", "", text)
    text = re.sub(r"[ \t]*\x00[ \t]*", " ", text)
    return re.sub(r"[ \t]{2,}", " ", text)


KIND_FIELDS = {"directions": "directions_url", "voucher": "voucher_url", "credit_app": "credit_app_url"}


def kind_template(kind: str, account: Account) -> str:
    """The store's canned message for a `kind`; 400 when the store has not set its link."""
    attr = KIND_FIELDS[kind]
    if not getattr(account, attr):
        raise ValidationFailed.field("kind", f"the store has no {attr} set")
    texts = {
        "directions": "Here are directions to {{account.name}}: {{account.directions_url}}",
        "voucher": "Here is your voucher from {{account.name}}: {{account.voucher_url}}",
        "credit_app": "You can apply for financing with {{account.name}} here: {{account.credit_app_url}}",
    }
    return texts[kind]


# -- Messenger's messaging window -------------------------------------------------------

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)


def messenger_tag(last_customer_message_at: datetime | None, now: datetime, human: bool) -> str | None:
    """Meta's rule: anything within 24 h of the customer's last message; a person (HUMAN_AGENT
    tag) up to 7 days; nothing after. Returns the tag to send with (None = standard)."""
    if last_customer_message_at is None:
        raise Conflict("the customer has not written on Messenger yet", code="messaging_window_closed")
    age = now - last_customer_message_at
    if age <= STANDARD_WINDOW:
        return None
    if human and age <= HUMAN_AGENT_WINDOW:
        return "HUMAN_AGENT"
    raise Conflict("Messenger allows no message this long after the customer's last one",
                   code="messaging_window_closed")


# -- delivery states -------------------------------------------------------------------

# Delivery only moves forward: a late `sent` callback never undoes `delivered`.
_FORWARD_FROM = {"sent": ("queued",), "delivered": ("queued", "sent"), "failed": ("queued", "sent")}


def statuses_before(status: str) -> tuple[str, ...]:
    """The states a message may move to `status` (sent, delivered, failed) from."""
    return _FORWARD_FROM[status]


TWILIO_STATUSES = {"sent": "sent", "delivered": "delivered", "undelivered": "failed", "failed": "failed",
                   "read": "delivered"}

PREVIEW_CHARS = 140


def preview(body: str, attachments: int = 0) -> str:
    flat = " ".join((body or "").split())
    if not flat and attachments:
        flat = "[picture]" if attachments == 1 else f"[{attachments} pictures]"
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


# -- the inbox row's latest message -------------------------------------------------------

def customer_last_message_at(lead: Lead) -> str | None:
    """When the customer last wrote (the Messenger window counts from it). `last_message_at` is the
    latest message either way; a message to the customer also stamps `last_outbound_at` with the same
    time and carries the customer's time in `last_inbound_at`. Whatever moves last_message_at without
    stamping last_outbound_at (the webhook, intake's first or coalesced request) is the customer's."""
    last = lead.last_message_at
    if last is not None and lead.last_outbound_at is not None and lead.last_outbound_at >= last:
        return lead.last_inbound_at
    return last


def customer_last_message_time(lead: Lead) -> datetime | None:
    """`customer_last_message_at` as a time: the Messenger window counts from it."""
    at = customer_last_message_at(lead)
    return parse_time(at) if at else None


def outbound_last_message(customer_at: str | None, at: str, body: str, attachments: int = 0) -> dict[str, str | None]:
    """The lead updates of a message the customer gets at `at` (sent by a person, or automated): the
    inbox row shows it as the latest message, and the customer's own last message time is kept."""
    return {"last_message_at": at, "last_message_preview": preview(body, attachments), "last_outbound_at": at,
            "last_inbound_at": customer_at}
