"""The one aggregation step: report events in, per-lead and per-agent tallies out.

Input events are plain dicts as stored (`kind`, `at`, `event_id`, `lead_id`,
`account_id`, `user_id`, `data`), in any order: writers in the same millisecond get
ids in random order, so nothing here relies on the order of the list. Two passes:

1. the cohort: every `lead_received` whose `at` (the lead's arrival) lies in its
   store's window, plus the request tallies of every request in the window
   (`lead_received` and `lead_coalesced`: the lead-sources report counts duplicates);
2. the outcomes: every event of a cohort lead with `at <= as_of` updates that lead's
   facts and the acting agent's tallies. "First" and "latest" are decided by
   (`at`, `event_id`), never by list position.

Plain dicts, tuples and slotted objects only: one million events fold in about a second.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain.reports.periods import Window

UNKNOWN_SOURCE = "Unknown"
CONTACT_STATUSES = ("contacted", "not_contacted", "in_progress", "closed_won", "closed_lost")
# How a lead got its first owner; all three count as "accepted" on the dashboard.
ACCEPTED_BY_OFFER, ACCEPTED_BY_CLAIM, ACCEPTED_BY_ASSIGNMENT = "offer", "claim", "assignment"

Event = Mapping[str, Any]


def epoch(at: str) -> float:
    return datetime.fromisoformat(at).timestamp()


@dataclass(slots=True)
class LeadFacts:
    """What the reports need to know about one lead of the period."""

    lead_id: str
    account_id: str
    # When Leadline stored the lead (routing starts here: time to accept counts from it).
    arrival: str
    # When the customer sent it (the provider's `received_at`, never after `arrival`): the
    # response clock counts from here, so a provider's delay is the customer's wait too.
    received: str
    source: str
    source_group: str | None
    channel: str | None
    has_email: bool
    has_phone: bool
    # first acceptance (offer accepted, delinquent lead claimed, or assigned by a manager)
    accept_key: tuple[str, str] | None = None
    accepted_how: str | None = None
    accepted_by: str | None = None
    accepted_catchall: bool = False
    # the owner as of `as_of`: the latest of those three
    owner_key: tuple[str, str] | None = None
    owner: str | None = None
    delinquent: bool = False
    # first human response (automated replies never count)
    response_key: tuple[str, str] | None = None
    responder: str | None = None
    feedback_key: tuple[str, str] | None = None
    contact_status: str | None = None
    hot: bool = False
    sold: bool = False
    appointment: bool = False
    showed: bool = False
    # comments (feedback comments and notes) per author
    comments: dict[str, int] | None = None
    # agents who accepted an offer for or claimed this lead
    acceptors: set[str] | None = None

    @property
    def accepted(self) -> bool:
        return self.accept_key is not None

    @property
    def responded(self) -> bool:
        return self.response_key is not None


@dataclass(slots=True)
class AgentActions:
    """What one agent did with the period's leads (routing actions, counted per event)."""

    offered: int = 0
    declined: int = 0
    timed_out: int = 0
    assigned: int = 0
    claimed: int = 0


@dataclass(slots=True)
class RequestTally:
    """Requests received for one (store, source): new leads and duplicates alike."""

    requests: int = 0
    duplicates: int = 0
    no_email: int = 0
    no_phone: int = 0


@dataclass
class Fold:
    windows: dict[str, Window]
    as_of: str
    leads: dict[str, LeadFacts] = field(default_factory=dict)
    agents: dict[str, AgentActions] = field(default_factory=dict)
    requests: dict[tuple[str, str], RequestTally] = field(default_factory=dict)
    events_read: int = 0

    def agent(self, user_id: str) -> AgentActions:
        found = self.agents.get(user_id)
        if found is None:
            found = self.agents[user_id] = AgentActions()
        return found


def fold_events(events: Iterable[Event], windows: Mapping[str, Window], as_of: str) -> Fold:
    """Fold the events of the stores in `windows` (account_id -> Window) as of `as_of` (iso).
    `events` is iterated twice, so pass a list (or any re-iterable)."""
    result = Fold(windows=dict(windows), as_of=as_of)
    leads = result.leads
    requests = result.requests
    bounds = {a: (w.start, w.end) for a, w in windows.items()}

    # Pass 1: the cohort and the request tallies.
    count = 0
    for e in events:
        count += 1
        kind = e["kind"]
        if kind != "lead_received" and kind != "lead_coalesced":
            continue
        at = e["at"]
        bound = bounds.get(e["account_id"])
        if bound is None or not (bound[0] <= at < bound[1]) or at > as_of:
            continue
        lead_id = e["lead_id"]
        data = e.get("data") or {}
        if kind == "lead_received":
            if lead_id in leads:
                continue  # a record written twice is still one lead
            sent = data.get("received_at")
            leads[lead_id] = LeadFacts(
                lead_id=lead_id, account_id=e["account_id"], arrival=at,
                received=sent if isinstance(sent, str) and sent < at else at,
                source=data.get("source") or UNKNOWN_SOURCE, source_group=data.get("source_group"),
                channel=data.get("channel"), has_email=bool(data.get("has_email")),
                has_phone=bool(data.get("has_phone")))
        key = (e["account_id"], data.get("source") or UNKNOWN_SOURCE)
        tally = requests.get(key)
        if tally is None:
            tally = requests[key] = RequestTally()
        tally.requests += 1
        if kind == "lead_coalesced":
            tally.duplicates += 1
        if not data.get("has_email"):
            tally.no_email += 1
        if not data.get("has_phone"):
            tally.no_phone += 1
    result.events_read = count

    # Pass 2: the outcomes of the cohort's leads.
    for e in events:
        lead = leads.get(e["lead_id"])
        if lead is None:
            continue
        at = e["at"]
        if at > as_of:
            continue
        kind = e["kind"]
        if kind == "offer_made":
            result.agent(e["user_id"]).offered += 1
        elif kind == "offer_accepted" or kind == "lead_requeued" or kind == "lead_assigned":
            user = e.get("user_id")
            if not user:
                continue
            key2 = (at, e["event_id"])
            if kind == "offer_accepted":
                how = ACCEPTED_BY_OFFER
            elif kind == "lead_requeued":
                how = ACCEPTED_BY_CLAIM
                result.agent(user).claimed += 1
            else:
                how = ACCEPTED_BY_ASSIGNMENT
                result.agent(user).assigned += 1
            if how != ACCEPTED_BY_ASSIGNMENT:
                if lead.acceptors is None:
                    lead.acceptors = set()
                lead.acceptors.add(user)
            if lead.accept_key is None or key2 < lead.accept_key:
                lead.accept_key = key2
                lead.accepted_how = how
                lead.accepted_by = user
                lead.accepted_catchall = how == ACCEPTED_BY_OFFER and bool((e.get("data") or {}).get("catchall"))
            if lead.owner_key is None or key2 > lead.owner_key:
                lead.owner_key = key2
                lead.owner = user
        elif kind == "offer_declined":
            result.agent(e["user_id"]).declined += 1
        elif kind == "offer_timed_out":
            result.agent(e["user_id"]).timed_out += 1
        elif kind == "human_response":
            if (e.get("data") or {}).get("automated"):
                continue
            key2 = (at, e["event_id"])
            if lead.response_key is None or key2 < lead.response_key:
                lead.response_key = key2
                lead.responder = e.get("user_id")
        elif kind == "feedback":
            data = e.get("data") or {}
            key2 = (at, e["event_id"])
            status = data.get("contact_status")
            if status in CONTACT_STATUSES and (lead.feedback_key is None or key2 > lead.feedback_key):
                lead.feedback_key = key2
                lead.contact_status = status
            if (data.get("comment_chars") or 0) > 0 and e.get("user_id"):
                _add_comment(lead, e["user_id"])
        elif kind == "note_added":
            if e.get("user_id"):
                _add_comment(lead, e["user_id"])
        elif kind == "status_changed":
            to = (e.get("data") or {}).get("to")
            if to == "hot":
                lead.hot = True
            elif to == "sold":
                lead.sold = True
        elif kind == "lead_delinquent":
            lead.delinquent = True
        elif kind == "appointment_created":
            lead.appointment = True
        elif kind == "appointment_showed":
            lead.showed = True
    return result


def _add_comment(lead: LeadFacts, user_id: str) -> None:
    if lead.comments is None:
        lead.comments = {}
    lead.comments[user_id] = lead.comments.get(user_id, 0) + 1
