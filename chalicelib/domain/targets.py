"""Response targets: how soon a lead's owner must answer, and what its deadline does over time. Pure.

A store's `ResponseTargets` (PUT /accounts/{id}/response-targets) apply to a lead from the moment it
gets an owner: the targets and, with `business_hours_only`, the store's hours are copied onto the
lead (`ResponsePolicy`), so every later deadline of that ownership is decided from the lead alone —
a customer's message costs no extra read — and a change of targets applies to leads taken afterwards.

A `Deadline` is set
- when the lead gets an owner (accept, assignment, claim): `first_response`, clock started now;
- when the customer writes (a message, or a repeat request coalesced into the lead) while the owned
  lead has no deadline running: `reply` (`first_response` for a repeat request). A deadline already
  running is kept: the customer's first unanswered word starts the clock, as `awaiting_since` does.
It is met by the owner's first human answer at or after it was set (domain/records.human_response:
an outbound message that is not automated, a call, a logged activity, an appointment, "responded"),
strictly before `due_at`; an answer at or after `due_at` is a miss. `warn_before_seconds` of clock
time before `due_at` the owner is warned; at `due_at` the miss is decided by `on_miss`.

Every deadline has its own `version` (the lead's `response_version` when it was set): a timer
names the version it was set for, so a late, repeated or superseded timer changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from chalicelib.clock import iso, parse_time
from chalicelib.domain.business_hours import BusinessHours
from chalicelib.domain.response_clock import ResponseClock
from chalicelib.model import BaseModel

if TYPE_CHECKING:
    from chalicelib.domain.leads import Lead

OnMiss = Literal["notify_managers", "reoffer"]
DeadlineKind = Literal["first_response", "reply"]
ResponseState = Literal["on_time", "due_soon", "missed"]
TimerStep = Literal["warning", "deadline"]
MIN_TARGET_SECONDS = 30


class ResponseTargets(BaseModel):
    first_response_seconds: int
    reply_seconds: int
    warn_before_seconds: int = 0
    on_miss: OnMiss = "notify_managers"
    business_hours_only: bool = False
    updated_at: str | None = None
    updated_by: str | None = None


def target_problems(targets: ResponseTargets) -> list[dict[str, str]]:
    """What the field limits of the request cannot say alone: a warning must come before the deadline."""
    shortest = min(targets.first_response_seconds, targets.reply_seconds)
    if targets.warn_before_seconds >= shortest:
        return [{"field": "warn_before_seconds",
                 "message": f"must be shorter than every target (the shortest is {shortest} s)"}]
    return []


class ResponsePolicy(BaseModel):
    """A store's targets as they were when the lead got its owner, with what its deadlines and alerts
    need of the store: its name and timezone, and (only with `business_hours_only`) the hours the
    clock runs in."""

    targets: ResponseTargets
    store: str = ""
    timezone: str = "UTC"
    weekly: dict[str, list[list[str]]] | None = None
    holidays: list[str] = Field(default_factory=list)

    def clock(self) -> ResponseClock:
        if self.targets.business_hours_only and self.weekly is not None:
            return ResponseClock(BusinessHours(self.timezone, self.weekly, frozenset(self.holidays)))
        return ResponseClock()

    def seconds(self, kind: DeadlineKind) -> int:
        return self.targets.first_response_seconds if kind == "first_response" else self.targets.reply_seconds


def policy_for(targets: ResponseTargets | None, hours: BusinessHours, store: str = "") -> ResponsePolicy | None:
    if targets is None:
        return None
    if not targets.business_hours_only:
        return ResponsePolicy(targets=targets, store=store, timezone=hours.timezone)
    return ResponsePolicy(targets=targets, store=store, timezone=hours.timezone,
                          weekly={k: [list(i) for i in v] for k, v in hours.weekly.items()},
                          holidays=sorted(hours.holidays))


class Deadline(BaseModel):
    version: int
    kind: DeadlineKind
    owner: str
    set_at: str       # when it was set (an answer before this is not an answer to it)
    started_at: str   # when its clock started (the next opening, on business hours)
    due_at: str
    warn_at: str | None = None
    warned: bool = False
    missed: bool = False

    def next_at(self) -> str | None:
        """When something is next due for it (the due index's time): the warning, then the deadline."""
        if self.missed:
            return None
        if self.warn_at and not self.warned:
            return self.warn_at
        return self.due_at

    def next_step(self) -> TimerStep | None:
        if self.missed:
            return None
        return "warning" if self.warn_at and not self.warned else "deadline"


def new_deadline(lead: Lead, policy: ResponsePolicy, kind: DeadlineKind, owner: str, now: datetime) -> Deadline:
    clock = policy.clock()
    start = clock.start(now)
    seconds = policy.seconds(kind)
    warn_before = policy.targets.warn_before_seconds
    warn = clock.add(start, seconds - warn_before) if 0 < warn_before < seconds else None
    return Deadline(version=lead.response_version + 1, kind=kind, owner=owner, set_at=iso(now),
                    started_at=iso(start), due_at=iso(clock.add(start, seconds)),
                    warn_at=iso(warn) if warn is not None else None)


def _with(deadline: Deadline | None, version: int) -> dict[str, Any]:
    return {"deadline": deadline, "response_version": version}


# -- what changes a lead's deadline ---------------------------------------------------------------

def owner_changed(lead: Lead, owner: str | None, policy: ResponsePolicy | None, now: datetime) -> dict[str, Any]:
    """The lead's follow-through fields once `owner` holds it (None: nobody does). A new owner's
    first-response deadline replaces whatever ran (its timers become stale)."""
    kept_policy = policy if owner is not None else None
    if owner is None or policy is None or not lead.is_open:
        updates: dict[str, Any] = {} if lead.response_policy == kept_policy else {"response_policy": kept_policy}
        if lead.deadline is not None:
            updates.update(_with(None, lead.response_version + 1))
        return updates
    deadline = new_deadline(lead, policy, "first_response", owner, now)
    return {"response_policy": policy, **_with(deadline, deadline.version)}


def customer_wrote(lead: Lead, now: datetime, kind: DeadlineKind = "reply") -> dict[str, Any]:
    """The customer's message (or repeat request) on an owned lead starts a deadline unless one runs."""
    policy = lead.response_policy
    if lead.assigned_to is None or policy is None or lead.deadline is not None or not lead.is_open:
        return {}
    deadline = new_deadline(lead, policy, kind, lead.assigned_to, now)
    return _with(deadline, deadline.version)


@dataclass(frozen=True)
class Answer:
    """An owner's answer to a running deadline: met or not, and whether it is the first word on it
    (a deadline already decided as missed is only cleared)."""

    deadline: Deadline
    met: bool
    counts: bool


def answered(lead: Lead, user_id: str | None, at: datetime) -> Answer | None:
    """The answer `user_id` gave at `at`, if it answers the lead's deadline: the owner's, given at or
    after the deadline was set. Met when strictly before `due_at`."""
    deadline = lead.deadline
    if deadline is None or user_id != deadline.owner or iso(at) < deadline.set_at:
        return None
    return Answer(deadline, met=not deadline.missed and at < parse_time(deadline.due_at), counts=not deadline.missed)


def cleared(lead: Lead) -> dict[str, Any]:
    return _with(None, lead.response_version + 1)


# -- what the passing of time does -----------------------------------------------------------------

Due = Literal["warn", "miss", "drop"]


def time_passed(lead: Lead, now: datetime, version: int | None = None) -> Due | None:
    """What is due on the lead's deadline at `now`: `warn` the owner, decide the `miss`, or `drop` a
    deadline of a lead that closed (sold, dead, opted out); None when nothing is (early, answered,
    superseded: `version` is not the running deadline's, or decided already)."""
    deadline = lead.deadline
    if deadline is None or deadline.missed or (version is not None and version != deadline.version):
        return None
    if not lead.is_open or lead.assigned_to != deadline.owner:
        return "drop"
    if now >= parse_time(deadline.due_at):
        return "miss"
    if deadline.warn_at and not deadline.warned and now >= parse_time(deadline.warn_at):
        return "warn"
    return None


def warned(lead: Lead) -> dict[str, Any]:
    assert lead.deadline is not None
    return {"deadline": lead.deadline.model_copy(update={"warned": True})}


def missed_kept(lead: Lead) -> dict[str, Any]:
    """`notify_managers`: the owner keeps the lead; its deadline stays, missed, until they answer."""
    assert lead.deadline is not None
    return {"deadline": lead.deadline.model_copy(update={"missed": True})}


def response_state(lead: Lead, now: datetime) -> ResponseState | None:
    deadline = lead.deadline
    if deadline is None or not lead.is_open:
        return None
    if deadline.missed or now >= parse_time(deadline.due_at):
        return "missed"
    if deadline.warn_at and now >= parse_time(deadline.warn_at):
        return "due_soon"
    return "on_time"


def response_due_at(lead: Lead) -> str | None:
    return lead.deadline.due_at if lead.deadline is not None and lead.is_open else None


def miss_data(deadline: Deadline) -> dict[str, Any]:
    """What a report event or timeline event says of a deadline."""
    return {"deadline_kind": deadline.kind, "due_at": deadline.due_at, "started_at": deadline.started_at,
            "version": deadline.version}
