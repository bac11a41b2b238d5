"""Leads: the record, its statuses, folders and the rules for changing them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field

from chalicelib.domain.enrolment import Enrolment
from chalicelib.domain.errors import Conflict, ValidationFailed
from chalicelib.domain.targets import Deadline, ResponsePolicy
from chalicelib.domain.text import FreeText, ProviderText
from chalicelib.model import BaseModel

STATUSES = ("new", "hot", "warm", "cold", "follow_up", "sold", "dead")
ROUTING_STATES = ("routing", "offered", "accepted", "assigned", "delinquent")
CHANNELS = ("sms", "messenger", "web", "email", "phone")
STATUS_FOLDERS = ("hot", "warm", "cold", "follow_up", "sold", "dead")
FLAG_FOLDERS = ("done", "appointments", "showed", "scheduled")
# Flag folders listed oldest first by their own time (not by last activity): owned leads with a running
# response deadline, soonest due first; delinquent leads nobody took, oldest first (offered again first).
TIMED_FOLDERS = ("due", "delinquent")
FOLDERS = ("inbox", "awaiting", *STATUS_FOLDERS, *FLAG_FOLDERS, *TIMED_FOLDERS)

Status = Literal["new", "hot", "warm", "cold", "follow_up", "sold", "dead"]
RoutingState = Literal["routing", "offered", "accepted", "assigned", "delinquent"]
Channel = Literal["sms", "messenger", "web", "email", "phone"]

# Which statuses a lead may move to from each status. `dead` -> `hot` opts back in.
_TRANSITIONS: dict[str, set[str]] = {
    "new": {"hot", "warm", "cold", "follow_up", "sold", "dead"},
    "hot": {"warm", "cold", "follow_up", "sold", "dead"},
    "warm": {"hot", "cold", "follow_up", "sold", "dead"},
    "cold": {"hot", "warm", "follow_up", "sold", "dead"},
    "follow_up": {"hot", "warm", "cold", "sold", "dead"},
    "sold": {"hot", "follow_up", "dead"},
    "dead": {"hot"},
}


class Vehicle(BaseModel):
    year: int | None = None
    make: str | None = None
    model: str | None = None
    trim: str | None = None
    vin: str | None = None
    stock: str | None = None
    status: str | None = None  # ADF: new / used
    interest: str | None = None  # ADF: buy / lease / sell / trade-in / test-drive


class Lead(BaseModel):
    lead_id: str
    account_id: str
    group_id: str
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    email: str | None = None
    source: str = "Unknown"
    source_group: str | None = None
    campaign: str | None = None
    channel: Channel = "web"
    status: Status = "new"
    opted_out: bool = False
    assigned_to: str | None = None
    routing_state: RoutingState = "routing"
    routing_version: int = 0
    labels: list[str] = Field(default_factory=list)
    language: str | None = None
    vehicle: Vehicle | None = None
    financial: dict[str, Any] | None = None
    messenger_psid: str | None = None
    awaiting_since: str | None = None
    last_message_at: str | None = None  # the conversation's latest message, either direction
    last_message_preview: str | None = None
    # Set with last_message_at by a message the customer receives; when it is the latest, the customer's
    # own last message is kept in last_inbound_at (see domain.conversations.customer_last_message_at).
    last_outbound_at: str | None = None
    last_inbound_at: str | None = None
    notes_excerpt: str | None = None
    locked_by: str | None = None
    lock_expires_at: str | None = None
    done: bool = False
    stop_messaging: bool = False
    # Unsubscribed from email (RFC 8058 one-click, or an "unsubscribe" reply); SMS and Messenger go on.
    email_opted_out: bool = False
    # The unguessable part of the lead's reply address (never shown by the API), made with its first email.
    reply_token: str | None = None
    # The customer's email thread: {"subject", "references": [Message-IDs, oldest first]} (replies thread on it).
    email_thread: dict[str, Any] | None = None
    open_appointments: int = 0
    showed: bool = False
    scheduled_messages: int = 0
    first_response_at: str | None = None
    # Its enrolment in a cadence (the assistant): active, or how the latest one ended (domain/enrolment.py).
    cadence: Enrolment | None = None
    # Follow-through (domain/targets.py): the store's targets as they were when the owner took the lead,
    # the running response deadline, and the version the next deadline takes (timers carry it).
    response_policy: ResponsePolicy | None = None
    deadline: Deadline | None = None
    response_version: int = 0
    # The latest request for this lead (its creation or the last coalesced repeat): the coalescing window.
    last_request_at: str | None = None
    created_at: str
    received_at: str
    last_activity_at: str
    # Optimistic concurrency: every saved change increments it (see LeadRepository.save).
    version: int = 0

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or (self.phone or self.email or "")

    @property
    def status_folder(self) -> str:
        return "dead" if self.opted_out or self.status == "dead" else self.status

    @property
    def flags(self) -> frozenset[str]:
        found = set()
        if self.done:
            found.add("done")
        if self.open_appointments > 0:
            found.add("appointments")
        if self.showed:
            found.add("showed")
        if self.scheduled_messages > 0:
            found.add("scheduled")
        if self.deadline is not None and self.assigned_to and self.is_open:
            found.add("due")
        if self.routing_state == "delinquent" and not self.assigned_to and self.is_open:
            found.add("delinquent")
        return frozenset(found)

    def flag_time(self, flag: str) -> str:
        """The time a flag folder orders the lead by: its deadline, its arrival, else its last activity."""
        if flag == "due" and self.deadline is not None:
            return self.deadline.due_at
        if flag == "delinquent":
            return self.created_at
        return self.last_activity_at

    @property
    def is_open(self) -> bool:
        """Open leads coalesce repeat requests; sold and dead ones do not."""
        return self.status not in ("sold", "dead") and not self.opted_out


def check_status_change(before: str, after: str) -> None:
    if before == after:
        return
    if after not in _TRANSITIONS.get(before, set()):
        raise ValidationFailed.field("status", f"cannot go from {before} to {after}")


class NewLead(ProviderText):
    """A request for a lead from any path (JSON, ADF, an inbound SMS or Messenger message), before
    normalisation: the phone may be as a person typed it; intake normalises it with the store's region.
    Its text is cleaned of control characters (domain/text.py): a provider's request cannot be refused."""

    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    email: str | None = None
    source: str | None = None
    source_group: str | None = None
    campaign: str | None = None
    channel: Channel | None = None
    vehicle: Vehicle | None = None
    message: FreeText | None = None
    received_at: datetime | None = None
    messenger_psid: str | None = None
    # The provider's id of the inbound message (Twilio MessageSid, Meta mid), kept on the message event.
    provider_message_id: str | None = None
    attachments: list[dict[str, Any]] = Field(default_factory=list)
    subject: str | None = None  # an email's


def within_window(last_request_at: str, now: str, window_days: int) -> bool:
    """Is a lead's latest request recent enough for a new one to join it? (ISO `Z` strings sort as times.)"""
    from chalicelib.clock import parse_time

    return (parse_time(now) - parse_time(last_request_at)).total_seconds() <= window_days * 86400


LOCK_IDLE_MINUTES = 5


def active_lock(lead: Lead, now: str) -> str | None:
    """Who holds the lead's lock now: a lock left idle past its expiry holds nobody."""
    if lead.locked_by and lead.lock_expires_at and lead.lock_expires_at > now:
        return lead.locked_by
    return None


def lock_kept(lead: Lead, user_id: str, now: datetime) -> dict[str, Any]:
    """Someone else's live lock refuses a user's change (409 locked); the holder's own change keeps
    the lock alive. Returns the lead updates that do that ({} when the user holds no lock)."""
    from chalicelib.clock import iso

    holder = active_lock(lead, iso(now))
    if holder is not None and holder != user_id:
        raise Conflict("another user is working on this lead", code="locked", extra={"locked_by": holder})
    return {"lock_expires_at": iso(now + timedelta(minutes=LOCK_IDLE_MINUTES))} if holder else {}


def effective_status(lead: Lead) -> str:
    """An opted-out lead counts as dead for status changes (and sits in the dead folder)."""
    return lead.status_folder


def next_version(before: Lead, **changes: Any) -> Lead:
    """A copy of `before` with `changes`, ready to be saved over it (conditional on `before.version`)."""
    return before.model_copy(update={**changes, "version": before.version + 1})
