"""The one aggregation step: lead summaries in, per-lead and per-agent tallies out.

A report's input is, per store, the summaries of the leads that arrived in its window (see
ledger.py), the repeat requests and the score entries of the window. Rollups give them from
one Query per store; `fold_events` makes them from raw report events (the recomputation).
Either way the same code below decides every figure:

1. the cohort: a lead whose arrival lies in its store's window (and not after `as_of`), plus
   the request tallies of every request in the window (new leads and repeat requests alike:
   the lead-sources report counts duplicates);
2. the outcomes: every fact of a cohort lead from the window's start up to the cutoff
   (`as_of`, and never past the outcome horizon) updates that lead's facts and the acting
   agent's tallies. "First" and "latest" are decided by (time, event id): a summary keeps its
   facts in that order, so its position stands for the id.

Plain dicts, tuples and slotted objects only: a million facts fold in about a second."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.reports import assistant
from chalicelib.domain.reports import ledger as L
from chalicelib.domain.reports.ledger import CONTACT_STATUSES, UNKNOWN_SOURCE, Dated, LeadSummary, to_ms
from chalicelib.domain.reports.periods import Window, outcome_cutoff

__all__ = ["CONTACT_STATUSES", "UNKNOWN_SOURCE", "AgentActions", "Fold", "LeadFacts", "RequestTally", "StoreSlice",
           "fold", "fold_events"]

# How a lead got its first owner; all three count as "accepted" on the dashboard.
ACCEPTED_BY_OFFER, ACCEPTED_BY_CLAIM, ACCEPTED_BY_ASSIGNMENT = "offer", "claim", "assignment"
_HOW = {L.ACCEPTED: ACCEPTED_BY_OFFER, L.CLAIMED: ACCEPTED_BY_CLAIM, L.ASSIGNED: ACCEPTED_BY_ASSIGNMENT}


@dataclass(slots=True)
class LeadFacts:
    """What the reports need to know about one lead of the period. Times are epoch ms; a
    `..._key` is (time, position) and orders facts as (time, event id) does."""

    lead_id: str
    account_id: str
    # When Leadline stored the lead (routing starts here: time to accept counts from it).
    arrival: int
    # When the customer sent it (the provider's `received_at`, never after `arrival`): the
    # response clock counts from here, so a provider's delay is the customer's wait too.
    received: int
    source: str
    source_group: str | None
    channel: str | None
    has_email: bool
    has_phone: bool
    # first acceptance (offer accepted, delinquent lead claimed, or assigned by a manager)
    accept_key: tuple[int, int] | None = None
    accepted_how: str | None = None
    accepted_by: str | None = None
    accepted_catchall: bool = False
    # the owner as of the cutoff: the latest of those three
    owner_key: tuple[int, int] | None = None
    owner: str | None = None
    delinquent: bool = False
    # first human response (automated replies never count)
    response_key: tuple[int, int] | None = None
    responder: str | None = None
    response_kind: str | None = None
    # the lead's first first-response deadline decided (target met or missed), and whether it was met
    target_key: tuple[int, int] | None = None
    within_target: bool | None = None
    feedback_key: tuple[int, int] | None = None
    contact_status: str | None = None
    hot: bool = False
    sold: bool = False
    appointment: bool = False
    showed: bool = False
    # comments (feedback comments and notes) per author
    comments: dict[str, int] | None = None
    # agents who accepted an offer for or claimed this lead
    acceptors: set[str] | None = None
    # its cadences (the assistant report), when it was enrolled in any
    assistant: assistant.AssistantFacts | None = None

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
    # response deadlines decided for them as the owner (each deadline counts: first response and reply)
    targets_met: int = 0
    targets_missed: int = 0


@dataclass(slots=True)
class RequestTally:
    """Requests received for one (store, source): new leads and duplicates alike."""

    requests: int = 0
    duplicates: int = 0
    no_email: int = 0
    no_phone: int = 0


@dataclass(frozen=True, slots=True)
class Bounds:
    """A store's window in epoch ms: arrivals in [start, end) are its cohort; facts in
    [start, cutoff] count."""

    start: int
    end: int
    cutoff: int


@dataclass(frozen=True)
class StoreSlice:
    """What one store gives a report: its leads (any arrival: the fold keeps its window's),
    repeat requests and score entries."""

    account_id: str
    leads: Iterable[LeadSummary]
    requests: Iterable[Dated] = ()
    scores: Iterable[Dated] = ()


@dataclass
class Fold:
    windows: dict[str, Window]
    as_of: int
    bounds: dict[str, Bounds] = field(default_factory=dict)
    leads: dict[str, LeadFacts] = field(default_factory=dict)
    agents: dict[str, AgentActions] = field(default_factory=dict)
    requests: dict[tuple[str, str], RequestTally] = field(default_factory=dict)
    # (user, account_id, at ms, points) of every score entry the stores gave
    scores: list[tuple[str, str, int, int]] = field(default_factory=list)
    facts_read: int = 0

    def agent(self, user_id: str) -> AgentActions:
        found = self.agents.get(user_id)
        if found is None:
            found = self.agents[user_id] = AgentActions()
        return found

    def tally(self, account_id: str, source: str, has_email: bool, has_phone: bool, duplicate: bool) -> None:
        key = (account_id, source)
        found = self.requests.get(key)
        if found is None:
            found = self.requests[key] = RequestTally()
        found.requests += 1
        found.duplicates += duplicate
        found.no_email += not has_email
        found.no_phone += not has_phone


def fold(slices: Iterable[StoreSlice], windows: Mapping[str, Window], as_of: str) -> Fold:
    """Fold the stores in `windows` (account_id -> Window) as of `as_of` (iso)."""
    as_of_ms = to_ms(as_of)
    result = Fold(windows=dict(windows), as_of=as_of_ms)
    for account_id, win in windows.items():
        start, end = to_ms(win.start), to_ms(win.end)
        result.bounds[account_id] = Bounds(start, end, min(as_of_ms, to_ms(outcome_cutoff(win))))
    for piece in slices:
        bounds = result.bounds.get(piece.account_id)
        if bounds is None:
            continue
        for summary in piece.leads:
            if bounds.start <= summary.arrival < bounds.end and summary.arrival <= as_of_ms \
                    and summary.lead_id not in result.leads:
                _fold_lead(result, piece.account_id, summary, bounds)
        for request in piece.requests:
            if bounds.start <= request.at < bounds.end and request.at <= as_of_ms:
                source, has_email, has_phone = request.extra
                result.tally(piece.account_id, source, has_email, has_phone, duplicate=True)
        result.scores.extend((str(s.user), piece.account_id, s.at, int(s.extra)) for s in piece.scores)
    return result


def _fold_lead(result: Fold, account_id: str, s: LeadSummary, bounds: Bounds) -> None:
    result.tally(account_id, s.source, s.has_email, s.has_phone, duplicate=False)
    lead = result.leads[s.lead_id] = LeadFacts(
        lead_id=s.lead_id, account_id=account_id, arrival=s.arrival, received=s.sent, source=s.source,
        source_group=s.source_group, channel=s.channel, has_email=s.has_email, has_phone=s.has_phone)
    result.facts_read += len(s.facts)
    low, high = bounds.start - s.arrival, bounds.cutoff - s.arrival
    for position, (offset, code, user, extra) in enumerate(s.facts):
        if offset < low or offset > high:
            continue
        key = (s.arrival + offset, position)
        assistant.track(lead, key[0], code, extra)
        if code == L.OFFERED:
            result.agent(str(user)).offered += 1
        elif code in _HOW:
            _take(result, lead, key, _HOW[code], str(user), extra == 1)
        elif code == L.DECLINED:
            result.agent(str(user)).declined += 1
        elif code == L.TIMED_OUT:
            result.agent(str(user)).timed_out += 1
        elif code == L.RESPONSE:
            if lead.response_key is None or key < lead.response_key:
                lead.response_key, lead.responder, lead.response_kind = key, user, extra
        elif code in (L.TARGET_MET, L.TARGET_MISSED):
            _target(result, lead, key, str(user), code == L.TARGET_MET, extra == 1)
        elif code == L.FEEDBACK:
            status, commented = extra
            if status is not None and (lead.feedback_key is None or key > lead.feedback_key):
                lead.feedback_key, lead.contact_status = key, status
            if commented and user:
                _add_comment(lead, user)
        elif code == L.NOTE:
            _add_comment(lead, str(user))
        elif code == L.HOT:
            lead.hot = True
        elif code == L.SOLD:
            lead.sold = True
        elif code == L.DELINQUENT:
            lead.delinquent = True
        elif code == L.APPOINTMENT:
            lead.appointment = True
        elif code == L.SHOWED:
            lead.showed = True


def _take(result: Fold, lead: LeadFacts, key: tuple[int, int], how: str, user: str, catchall: bool) -> None:
    if how == ACCEPTED_BY_CLAIM:
        result.agent(user).claimed += 1
    elif how == ACCEPTED_BY_ASSIGNMENT:
        result.agent(user).assigned += 1
    if how != ACCEPTED_BY_ASSIGNMENT:
        if lead.acceptors is None:
            lead.acceptors = set()
        lead.acceptors.add(user)
    if lead.accept_key is None or key < lead.accept_key:
        lead.accept_key, lead.accepted_how, lead.accepted_by = key, how, user
        lead.accepted_catchall = how == ACCEPTED_BY_OFFER and catchall
    if lead.owner_key is None or key > lead.owner_key:
        lead.owner_key, lead.owner = key, user


def _target(result: Fold, lead: LeadFacts, key: tuple[int, int], owner: str, met: bool, first: bool) -> None:
    actions = result.agent(owner)
    if met:
        actions.targets_met += 1
    else:
        actions.targets_missed += 1
    if first and (lead.target_key is None or key < lead.target_key):
        lead.target_key, lead.within_target = key, met


def _add_comment(lead: LeadFacts, user_id: str) -> None:
    if lead.comments is None:
        lead.comments = {}
    lead.comments[user_id] = lead.comments.get(user_id, 0) + 1


def slices_from_events(events: Iterable[Mapping[str, Any]],
                       scores: Iterable[Mapping[str, Any]] = ()) -> list[StoreSlice]:
    """Raw report events (and score entries) as the stores' slices: what a rollup holds, made in memory."""
    by_store: dict[str, list[L.LeadLedger]] = {}
    for ledger in L.ledgers_from(events, scores).values():
        by_store.setdefault(ledger.account_id, []).append(ledger)
    slices = []
    for account_id, ledgers in by_store.items():
        summaries = [s for s in (x.summary() for x in ledgers) if s is not None]
        requests = [Dated(f[0], f[3], f[4]) for x in ledgers for f in x.facts if f[2] == L.REQUEST]
        score_facts = [Dated(f[0], f[3], f[4]) for x in ledgers for f in x.facts if f[2] == L.SCORE]
        slices.append(StoreSlice(account_id, summaries, requests, score_facts))
    return slices


def fold_events(events: Iterable[Mapping[str, Any]], windows: Mapping[str, Window], as_of: str,
                scores: Iterable[Mapping[str, Any]] = ()) -> Fold:
    """The recomputation: fold raw report events (plain dicts as stored, any order, duplicates
    allowed) of the stores in `windows` as of `as_of` (iso)."""
    return fold(slices_from_events(events, scores), windows, as_of)
