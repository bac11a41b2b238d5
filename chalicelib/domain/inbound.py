"""What a customer's message means when it arrives (SMS or Messenger). Pure.

The inbound service (services/inbound.py) finds the store and the contact's lead, asks this module
what the message does — whether it joins that lead (a closed lead starts a new one), its consent
effect (STOP / START / HELP), whether the lead now waits for the store, whether its language is
to be detected from it (the stored message's marker, `for_language`) — and saves that in one
transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from chalicelib.clock import iso, parse_time
from chalicelib.domain import conversations as rules
from chalicelib.domain.accounts import Account
from chalicelib.domain.changes import Change
from chalicelib.domain.conversations import Consent, consent_keyword
from chalicelib.domain.leads import Lead, NewLead
from chalicelib.domain.outbox import OutboxMessage
from chalicelib.domain.records import report_event, timeline_event
from chalicelib.domain.routing import StoreRouting
from chalicelib.domain.targets import customer_wrote
from chalicelib.domain.text import FreeText, ProviderText
from chalicelib.domain.timeline import Message, MessageStatus, TimelineEvent
from chalicelib.domain.users import User
from chalicelib.ids import new_id

SOURCES = {"sms": "SMS", "messenger": "Facebook", "email": "Email"}
# Attachments kept of one message (an MMS may carry up to 10).
MAX_MEDIA = 10
CONTACT_KIND = {"sms": "phone", "messenger": "messenger", "email": "email"}


class InboundMessage(ProviderText):
    """A customer's message as a provider delivered it (also the inbound queue's payload); its text
    cleaned of control characters (domain/text.py)."""

    provider: Literal["twilio", "meta", "email"]
    provider_id: str  # Twilio MessageSid / Messenger mid / a digest of the store and the email's Message-ID
    channel: Literal["sms", "messenger", "email"]
    sender: str  # E.164 / page-scoped id / email address
    recipient: str  # the store's number / page id / the address the mail came to
    body: FreeText
    received_at: str
    attachments: list[dict[str, Any]] = Field(default_factory=list)
    # email only: its subject, the sender's name, and the thread a reply continues (References + Message-ID)
    subject: str | None = None
    sender_name: str | None = None
    thread: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class SenderHint:
    """The lead a customer's number last wrote to on a store's SMS number, and that lead's owner then:
    a hint the webhook reads with the number and checks before it counts (keys.py, "SMS sender pointers")."""

    account_id: str
    lead_id: str
    owner_id: str | None = None


@dataclass(frozen=True)
class Conversation:
    """What the webhook found for a sender: the lead the store's contact key names (None: no lead has
    this contact) and, when read together with it, that lead, its store and its owner's record."""

    lead_id: str | None
    lead: Lead | None = None
    store: Account | None = None
    owner: User | None = None
    # Read with the contact key when no pointer led the way: what a new contact's lead is routed on.
    routing: StoreRouting | None = None


def hint_counts(hint: SenderHint | None, account_id: str) -> bool:
    """A pointer is worth following only to the store that owns the number now (a number moved to
    another store leaves its pointers naming the old one)."""
    return hint is not None and hint.account_id == account_id


def verified(read: Conversation) -> Conversation:
    """A pointer-guided read with only what holds: the lead while the contact key still names it (a
    stale pointer named another), the owner's record while it is that lead's owner (it changed since)."""
    lead = read.lead if read.lead is not None and read.lead.lead_id == read.lead_id else None
    owner = read.owner if lead is not None and read.owner is not None \
        and read.owner.user_id == lead.assigned_to else None
    return replace(read, lead=lead, owner=owner)


def pointer_of(lead: Lead) -> SenderHint:
    """The pointer a customer's number on the store's SMS number should hold for `lead`."""
    return SenderHint(lead.account_id, lead.lead_id, lead.assigned_to)


class NotThisLead(Exception):
    """The contact's lead is closed (sold / dead) and the message is no consent keyword: it starts a
    new lead instead."""


def consent_of(msg: InboundMessage) -> Consent | None:
    """A whole-message STOP / START / HELP (a picture is never one, nor an email: its unsubscribe is
    the List-Unsubscribe link, services/email_out.unsubscribe)."""
    return consent_keyword(msg.body) if not msg.attachments and msg.channel != "email" else None


def message_on_lead(lead: Lead, msg: InboundMessage, keyword: Consent | None, message_id: str, now: datetime,
                    later: datetime, help_text: str | None) -> Change[OutboxMessage]:
    """What the customer's message does to the lead it joins, stamped `now`; what it causes (its
    consent effect, the HELP answer) is stamped `later` (a reading after `now`), so the timeline
    never shows an answer before its question. `result`: the HELP answer to send through the
    outbox (Messenger; an SMS is answered in the webhook's reply). Raises NotThisLead."""
    if not (lead.is_open or lead.opted_out or keyword):
        raise NotThisLead
    at = iso(now)
    message = Message(message_id=message_id, direction="inbound", channel=msg.channel, body=msg.body,
                      subject=msg.subject, status="received", attachments=msg.attachments,
                      provider_id=msg.provider_id if msg.channel != "email" else None)
    change: Change[OutboxMessage] = Change(
        updates={"last_message_at": at, "last_inbound_at": at,
                 "last_message_preview": rules.preview(msg.body, len(msg.attachments)), **email_updates(lead, msg)},
        events=[for_language(timeline_event(lead, "message", None, now, event_id=message_id, at=at,
                                            **message.model_dump(exclude_none=True)),
                             wants_language(lead, msg, keyword))],
        reports=[report_event(lead, "message_inbound", later, channel=msg.channel)])
    # An opted-out customer cannot be answered, so their message does not wait for one.
    if keyword is None and lead.awaiting_since is None and not lead.opted_out:
        change.updates["awaiting_since"] = at
    if keyword is None:
        # The owner's reply deadline starts with the customer's first unanswered word (domain/targets.py).
        change.updates.update(customer_wrote(lead, now))
    if keyword == "stop":
        change.merge(rules.opt_out_change(lead, None, msg.channel, later))
    elif keyword == "start":
        change.merge(rules.opt_in_change(lead, None, msg.channel, later))
    if help_text:
        _answer_help(change, lead, msg, help_text, at, later)
    return change


def _answer_help(change: Change[OutboxMessage], lead: Lead, msg: InboundMessage, text: str, asked_at: str,
                 later: datetime) -> None:
    """SMS: answered in the TwiML reply. Messenger: through the outbox, like any message."""
    answered_at = iso(later)
    help_id = new_id("msg", later)
    status: MessageStatus = "sent" if msg.channel == "sms" else "queued"
    answer = Message(message_id=help_id, direction="outbound", channel=msg.channel, body=text, status=status,
                     automated=True)
    change.events.append(timeline_event(lead, "message", None, later, event_id=help_id, at=answered_at,
                                        **answer.model_dump(exclude_none=True)))
    # The customer gets the answer at once: it is the conversation's latest message.
    change.updates.update(rules.outbound_last_message(asked_at, answered_at, text))
    change.reports.append(report_event(lead, "message_outbound", later, automated=True, channel=msg.channel))
    if msg.channel == "messenger":
        change.result = OutboxMessage(message_id=help_id, lead_id=lead.lead_id, account_id=lead.account_id,
                                      group_id=lead.group_id, channel="messenger", to=msg.sender,
                                      sender=msg.recipient, body=text, automated=True, status="queued",
                                      created_at=asked_at)


# Fewer letters than this says too little ("ok", "yes") to tell one language from another: such a
# message is not worth detecting (adapters/language.py answers None for it anyway).
LANGUAGE_MIN_LETTERS = 6


def new_lead_fields(msg: InboundMessage) -> dict[str, Any]:
    """What a lead made from an unknown sender's message knows besides the request: an email's thread
    (its language is detected from the message later: `for_language`)."""
    return {"email_thread": {"subject": msg.subject, "references": msg.thread}} if msg.channel == "email" else {}


def email_updates(lead: Lead, msg: InboundMessage) -> dict[str, Any]:
    """A customer's email: the thread our answers continue, and (written to us again) email may go to
    them again after an unsubscribe."""
    if msg.channel != "email":
        return {}
    updates: dict[str, Any] = {"email_thread": {"subject": msg.subject or (lead.email_thread or {}).get("subject"),
                                                "references": msg.thread}}
    if lead.email_opted_out:
        updates["email_opted_out"] = False
    return updates


def tells_owner(lead: Lead, keyword: Consent | None) -> bool:
    """A customer's words (not a consent keyword) on an owned, open lead alert its owner
    (`customer_replied`)."""
    return keyword is None and lead.assigned_to is not None and lead.is_open


def wants_language(lead: Lead, msg: InboundMessage, keyword: Consent | None) -> bool:
    """Detect the lead's language from this message: enough words (not a keyword) on a lead with none yet."""
    return keyword is None and first_words(lead, msg.body)


def first_words(lead: Lead, text: str | None) -> bool:
    """A customer's text that can tell the language of a lead that has none yet (too few letters cannot)."""
    return lead.language is None and sum(ch.isalpha() for ch in text or "") >= LANGUAGE_MIN_LETTERS


# What setting a lead's language from its customer's words came to: set now, kept (the lead already had
# one: an earlier message's, or a person's), or gone (no such lead).
LanguageSet = Literal["set", "kept", "gone"]


def for_language(event: TimelineEvent, wanted: bool) -> TimelineEvent:
    """The customer's message event, marked (when `wanted`) for the table's stream consumer to set the
    lead's language from its text (services/language.py; the item's `language_wanted`, keys.py)."""
    return event.model_copy(update={"language_wanted": True}) if wanted else event


def new_lead_request(msg: InboundMessage) -> NewLead:
    """The lead a message from an unknown sender starts (intake routes it and may coalesce it)."""
    first, last = _names(msg.sender_name) if msg.channel == "email" else (None, None)
    return NewLead(source=SOURCES[msg.channel], channel=msg.channel, message=msg.body or None,
                   first_name=first, last_name=last,
                   phone=msg.sender if msg.channel == "sms" else None,
                   email=msg.sender if msg.channel == "email" else None,
                   messenger_psid=msg.sender if msg.channel == "messenger" else None,
                   provider_message_id=msg.provider_id if msg.channel != "email" else None,
                   attachments=msg.attachments, subject=msg.subject,
                   # When the customer wrote, not when the queue got to it: the response clock starts here.
                   received_at=parse_time(msg.received_at))


def _names(display_name: str | None) -> tuple[str | None, str | None]:
    """An email's display name as first and last name ("Maria Lopez", "Lopez, Maria")."""
    text = " ".join((display_name or "").replace('"', " ").split())
    if not text or "@" in text:
        return None, None
    if "," in text:
        last, _, first = text.partition(",")
        return first.strip() or None, last.strip() or None
    words = text.split()
    return (" ".join(words[:-1]), words[-1]) if len(words) > 1 else (words[0], None)
