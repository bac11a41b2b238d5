"""What the reports keep of one lead, in one place: its report events and score entries
reduced to the facts the figures read, each dated to the millisecond.

Every report figure is a function of a lead's facts up to a cutoff (`as_of`, bounded by the
outcome horizon), so a lead's facts — not running totals — are what a rollup must keep to
answer any period exactly. Two forms:

- `LeadLedger`, the state: every kept fact with its event id, sorted by (time, event id).
  Adding a fact is a set insert keyed by the event id: a duplicate changes nothing and the
  order of arrival does not matter, so a consumer can apply events twice, late or out of order.
- `LeadSummary`, what a report reads: the same facts in the same order without the ids
  (the order is the tie-break the ids gave), times as offsets from the lead's arrival, and
  only the first of each "first" fact (a first response, a first appointment ...) after the
  arrival. It exists once the lead's `lead_received` is known.

A new figure adds its fact here (`_RULES`: which event kind, which fields) and reads it in
`fold.py`; storage, the stream consumer and the rebuild carry any fact unchanged."""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

UNKNOWN_SOURCE = "Unknown"
CONTACT_STATUSES = ("contacted", "not_contacted", "in_progress", "closed_won", "closed_lost")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def to_ms(at: str) -> int:
    """An ISO time (clock.iso) to epoch milliseconds, exactly (no float on the way)."""
    return (datetime.fromisoformat(at.replace("Z", "+00:00")) - _EPOCH) // _MS


def from_ms(ms: int) -> str:
    """Epoch milliseconds to an ISO time as `clock.iso` writes it."""
    at = _EPOCH + ms * _MS
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def utc_day(ms: int) -> str:
    return (_EPOCH + ms * _MS).date().isoformat()


# -- fact codes --------------------------------------------------------------------------------
# One letter each: they are stored once per fact in every rollup item.
RECEIVED = "r"      # lead_received: extra = [source, source_group, channel, has_email, has_phone, sent_ms]
REQUEST = "q"       # lead_coalesced (a repeat request): extra = [source, has_email, has_phone]
SCORE = "s"         # a score-ledger entry: user, extra = points
OFFERED, DECLINED, TIMED_OUT = "o", "d", "t"        # offers made to / declined / expired on `user`
ACCEPTED = "a"      # offer_accepted by `user`: extra = 1 for a catch-all offer else 0
CLAIMED = "c"       # lead_requeued: `user` claimed the delinquent lead
ASSIGNED = "g"      # lead_assigned to `user`
RESPONSE = "h"      # first human response by `user` (None when nobody is named): extra = its activity (message,
                    # email, call, activity, appointment, responded; None if kept before it was); automated: not kept
FEEDBACK = "f"      # feedback by `user`: extra = [contact status or None, 1 if it carried a comment]
NOTE = "n"          # note_added by `user`
HOT, SOLD = "H", "S"                                  # status changed to hot / sold
DELINQUENT, APPOINTMENT, SHOWED = "x", "p", "w"
# Cadences (the assistant; read by assistant.py): enrolled: extra = [cadence_id, name]; a step went out:
# extra = cadence_id; stopped: extra = [cadence_id, reason]; resumed after stop-messaging: extra = cadence_id
ENROLLED, STEP, STOPPED, RESUMED = "e", "k", "z", "u"
# Response targets (domain/targets.py), one per deadline, `user` = the owner it ran for: extra = 1 for a
# first-response deadline, 0 for a reply deadline
TARGET_MET, TARGET_MISSED = "T", "L"
# Only the earliest of these matters at any cutoff (see LeadLedger.summary).
FIRST_ONLY = frozenset({RESPONSE, HOT, SOLD, DELINQUENT, APPOINTMENT, SHOWED})
TAKES = frozenset({ACCEPTED, CLAIMED, ASSIGNED})

# (at_ms, event_id, code, user, extra)
Fact = tuple[int, str, str, str | None, Any]
Event = Mapping[str, Any]


def _data(e: Event) -> Mapping[str, Any]:
    return e.get("data") or {}


def _received(e: Event) -> Any:
    d = _data(e)
    sent = d.get("received_at")
    at = to_ms(e["at"])
    sent_ms = to_ms(sent) if isinstance(sent, str) and sent else at
    return [d.get("source") or UNKNOWN_SOURCE, d.get("source_group"), d.get("channel"),
            bool(d.get("has_email")), bool(d.get("has_phone")), min(sent_ms, at)]


def _request(e: Event) -> Any:
    d = _data(e)
    return [d.get("source") or UNKNOWN_SOURCE, bool(d.get("has_email")), bool(d.get("has_phone"))]


def _feedback(e: Event) -> Any:
    d = _data(e)
    status = d.get("contact_status")
    return [status if status in CONTACT_STATUSES else None, 1 if (d.get("comment_chars") or 0) > 0 else 0]


def _activity(e: Event) -> Any:
    activity = _data(e).get("activity")
    return str(activity) if activity else None


def _deadline_kind(e: Event) -> Any:
    return 1 if _data(e).get("deadline_kind") == "first_response" else 0


def _status(e: Event) -> str | None:
    return {"hot": HOT, "sold": SOLD}.get(str(_data(e).get("to")))


def _none(_e: Event) -> Any:
    return None


def _cadence(*also: str) -> Callable[[Event], Any]:
    """A cadence fact's extra: its cadence_id, or [cadence_id, *also]."""
    def extra(e: Event) -> Any:
        d = _data(e)
        return [str(d.get(n) or "") for n in ("cadence_id", *also)] if also else str(d.get("cadence_id") or "")
    return extra


# event kind -> (code or a function choosing it (None: not kept), needs a user, extra)
Rule = tuple[str | Callable[[Event], str | None], bool, Callable[[Event], Any]]
_RULES: dict[str, Rule] = {
    "lead_received": (RECEIVED, False, _received),
    "lead_coalesced": (REQUEST, False, _request),
    "offer_made": (OFFERED, True, _none),
    "offer_declined": (DECLINED, True, _none),
    "offer_timed_out": (TIMED_OUT, True, _none),
    "offer_accepted": (ACCEPTED, True, lambda e: 1 if _data(e).get("catchall") else 0),
    "lead_requeued": (CLAIMED, True, _none),
    "lead_assigned": (ASSIGNED, True, _none),
    "human_response": (lambda e: None if _data(e).get("automated") else RESPONSE, False, _activity),
    "feedback": (FEEDBACK, False, _feedback),
    "note_added": (NOTE, True, _none),
    "status_changed": (_status, False, _none),
    "lead_delinquent": (DELINQUENT, False, _none),
    "appointment_created": (APPOINTMENT, False, _none),
    "appointment_showed": (SHOWED, False, _none),
    "cadence_enrolled": (ENROLLED, False, _cadence("name")),
    "cadence_step": (STEP, False, _cadence()),
    "cadence_stopped": (STOPPED, False, _cadence("reason")),
    "cadence_resumed": (RESUMED, False, _cadence()),
    "target_met": (TARGET_MET, True, _deadline_kind),
    "target_missed": (TARGET_MISSED, True, _deadline_kind),
}
KEPT_KINDS = frozenset(_RULES)


def report_fact(e: Event) -> Fact | None:
    """The fact a report event contributes (None: no figure reads it)."""
    rule = _RULES.get(e.get("kind", ""))
    if rule is None:
        return None
    code, needs_user, extra = rule
    chosen = code(e) if callable(code) else code
    user = e.get("user_id") or None
    if chosen is None or (needs_user and user is None):
        return None
    return (to_ms(e["at"]), str(e["event_id"]), chosen, user, extra(e))


def score_fact(entry: Event) -> Fact:
    """A score-ledger entry (user_id, at, points, event_id) as a fact of its lead."""
    return (to_ms(entry["at"]), str(entry["event_id"]), SCORE, str(entry["user_id"]), int(entry["points"]))


# -- what a report reads -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LeadSummary:
    """A lead of some store's cohort: its arrival and its facts (offsets from the arrival, in
    (time, event id) order, ids dropped)."""

    lead_id: str
    arrival: int           # epoch ms of lead_received
    sent: int              # epoch ms the customer sent it (never after arrival)
    source: str
    source_group: str | None
    channel: str | None
    has_email: bool
    has_phone: bool
    facts: Sequence[Sequence[Any]]   # (offset_ms, code, user, extra) each


@dataclass(frozen=True, slots=True)
class Dated:
    """A repeat request or a score entry, counted at its own time (not its lead's arrival)."""

    at: int
    user: str | None
    extra: Any


@dataclass
class DayShare:
    """What one lead contributes to one UTC day of its store's rollup."""

    summary: LeadSummary | None = None
    requests: list[Dated] = field(default_factory=list)
    scores: list[Dated] = field(default_factory=list)


@dataclass
class LeadLedger:
    """Every kept fact of one lead, by event id. `version` counts saved changes (rollup items
    remember which version of the lead they hold, so an older writer never overwrites a newer one)."""

    lead_id: str
    account_id: str
    facts: list[Fact] = field(default_factory=list)
    version: int = 0
    _ids: set[str] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        self.facts.sort(key=_order)
        self._ids = {f[1] for f in self.facts}

    def has(self, event_id: str) -> bool:
        return event_id in self._ids

    def add(self, fact: Fact) -> bool:
        """Keep a fact; False when it was already kept (same event id)."""
        if fact[1] in self._ids:
            return False
        self._ids.add(fact[1])
        insort(self.facts, fact, key=_order)
        return True

    def add_all(self, facts: Iterable[Fact]) -> bool:
        changed = False
        for fact in facts:
            changed = self.add(fact) or changed
        return changed

    def arrival(self) -> Fact | None:
        """The lead's `lead_received` (the earliest, should there be two)."""
        return next((f for f in self.facts if f[2] == RECEIVED), None)

    def summary(self) -> LeadSummary | None:
        """The lead as a report reads it; None until its `lead_received` is known.

        Of a first-only fact, one kept at or after the arrival stands for every later one: any
        report counts facts from its window's start (never after the arrival) to a cutoff (never
        before it), and the earliest in that range is that one — or an earlier one kept before
        the arrival, which is why those are all kept."""
        received = self.arrival()
        if received is None:
            return None
        arrival = received[0]
        source, group, channel, has_email, has_phone, sent = received[4]
        kept: list[tuple[int, str, str | None, Any]] = []
        seen_after: set[str] = set()
        for at, _id, code, user, extra in self.facts:
            if code in (RECEIVED, REQUEST, SCORE):
                continue
            if code in FIRST_ONLY and at >= arrival:
                if code in seen_after:
                    continue
                seen_after.add(code)
            kept.append((at - arrival, code, user, extra))
        return LeadSummary(self.lead_id, arrival, sent, source, group, channel, has_email, has_phone, tuple(kept))

    def shares(self) -> dict[str, DayShare]:
        """UTC day -> what this lead contributes to that day's rollup item."""
        days: dict[str, DayShare] = {}
        summary = self.summary()
        if summary is not None:
            days.setdefault(utc_day(summary.arrival), DayShare()).summary = summary
        for at, _id, code, user, extra in self.facts:
            if code == REQUEST:
                days.setdefault(utc_day(at), DayShare()).requests.append(Dated(at, user, extra))
            elif code == SCORE:
                days.setdefault(utc_day(at), DayShare()).scores.append(Dated(at, user, extra))
        return days


def _order(fact: Fact) -> tuple[int, str]:
    return fact[0], fact[1]


def ledgers_from(events: Iterable[Event], scores: Iterable[Event] = ()) -> dict[str, LeadLedger]:
    """Report events and score entries grouped into ledgers by lead (the recomputation's first step)."""
    found: dict[str, LeadLedger] = {}
    for e in events:
        fact = report_fact(e)
        if fact is not None:
            _ledger(found, e).add(fact)
    for s in scores:
        _ledger(found, s).add(score_fact(s))
    return found


def _ledger(found: dict[str, LeadLedger], e: Event) -> LeadLedger:
    ledger = found.get(e["lead_id"])
    if ledger is None:
        ledger = found[e["lead_id"]] = LeadLedger(e["lead_id"], e["account_id"])
    return ledger
