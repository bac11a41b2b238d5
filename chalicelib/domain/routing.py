"""Routing: who is offered a lead next, and what every routing event does to it. Pure.

A lead is offered to one agent at a time. The pool of agents comes from the store's
routing config: the first rule whose `match` fits the lead (source, source group,
channel) names a team; no rules, or no rule that fits, means every active agent of
the store. From the pool, an agent not yet offered this lead is picked by the
strategy:

- `round_robin`: the agent offered least recently (a per-pool sequence number, not
  wall time, so two offers in the same millisecond still order) — over any run of
  leads every agent gets the same number of first offers, give or take one.
- `weighted`: smooth weighted round robin (as nginx balances upstreams): each pick
  adds every candidate's weight to its credit, takes the highest credit and charges it
  the total. Over any window the picks follow the weights within one round, with no
  streaks by luck.

Unavailable, deleted and agents without the store are skipped. When the pool is used
up the catch-all users are offered one at a time in the order configured; after them
the lead is `delinquent` (any agent may then claim it: `requeue`). With
`respect_business_hours`, a lead that would be offered while the store is closed waits
for the next opening.

Every transition returns an `Outcome`: the lead's new routing fields (always with a new
`routing_version`), the decision on the offer it answers, the next step, and the score,
report, timeline and notification records. The service layer saves an Outcome as one
transaction; the conditions that make it race-free (offer still pending, lead still at
the offer's routing version) are stated here as `OfferDecision.requires`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field

from chalicelib.clock import iso, parse_time
from chalicelib.domain.accounts import Account
from chalicelib.domain.business_hours import BusinessHours
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.leads import Lead
from chalicelib.domain.scoring import POINTS
from chalicelib.domain.tenancy import Role
from chalicelib.domain.users import User
from chalicelib.model import BaseModel

Strategy = Literal["round_robin", "weighted"]
OfferState = Literal["pending", "accepted", "declined", "timed_out", "superseded"]

DEFAULT_OFFER_TIMEOUT_SECONDS = 300
# The rotation of the pool used when no rule fits (or there are no rules).
DEFAULT_POOL = -1
# Claiming a delinquent lead earns `requeue` plus this much for the accept (contract's score table).
REQUEUE_ACCEPT_POINTS = 1


class RuleMatch(BaseModel):
    source: str | None = None
    source_group: str | None = None
    channel: str | None = None

    def fits(self, lead: Lead) -> bool:
        for name in ("source", "source_group", "channel"):
            wanted = getattr(self, name)
            if wanted is not None and _norm(wanted) != _norm(getattr(lead, name)):
                return False
        return True


def _norm(value: str | None) -> str:
    return (value or "").strip().casefold()


class RoutingRule(BaseModel):
    match: RuleMatch = Field(default_factory=RuleMatch)
    team: str | None = None
    weights: dict[str, int] = Field(default_factory=dict)


class RoutingConfig(BaseModel):
    account_id: str
    offer_timeout_seconds: int = DEFAULT_OFFER_TIMEOUT_SECONDS
    strategy: Strategy = "round_robin"
    rules: list[RoutingRule] = Field(default_factory=list)
    catchall_user_ids: list[str] = Field(default_factory=list)
    respect_business_hours: bool = False
    updated_at: str | None = None
    updated_by: str | None = None

    def rule_for(self, lead: Lead) -> tuple[int, RoutingRule | None]:
        """First match wins; (DEFAULT_POOL, None) when no rule fits."""
        for index, rule in enumerate(self.rules):
            if rule.match.fits(lead):
                return index, rule
        return DEFAULT_POOL, None


class Rotation(BaseModel):
    """Where a store's rotation stands: who was offered a lead when (store-wide, so an agent in
    several pools is not offered more for it), and the weighted credits of each rule's pool.
    `rev` is for the store's optimistic write."""

    seq: int = 0
    last_offered: dict[str, int] = Field(default_factory=dict)
    credit: dict[str, dict[str, int]] = Field(default_factory=dict)
    rev: int = 0


@dataclass(frozen=True)
class StoreRouting:
    """What routing a store's lead starts from, read together (one BatchGetItem of the store's
    partition): the store's record, its routing config (None: the defaults) and its rotation."""

    account: Account | None
    config: RoutingConfig | None
    rotation: Rotation
    # The ids of the store's new-lead cadences (Cadence.on_arrival), kept by every cadence write;
    # None: not known (a store whose cadences were last written before the list was kept).
    arrival_cadences: tuple[str, ...] | None = None


class Progress(BaseModel):
    """Who has been offered this lead in the current routing run."""

    tried: list[str] = Field(default_factory=list)
    catchall_tried: list[str] = Field(default_factory=list)


class Offer(BaseModel):
    offer_id: str
    lead_id: str
    account_id: str
    group_id: str
    agent_id: str
    routing_version: int
    state: OfferState = "pending"
    made_at: str
    expires_at: str
    catchall: bool = False
    rule_index: int = DEFAULT_POOL
    progress: Progress = Field(default_factory=Progress)
    decided_at: str | None = None
    reason: str | None = None

    def expired(self, now: datetime) -> bool:
        return now >= parse_time(self.expires_at)


class Waiting(BaseModel):
    """A lead waiting for the store to open (routing_version is the lead's while it waits)."""

    lead_id: str
    account_id: str
    routing_version: int
    opens_at: str
    progress: Progress = Field(default_factory=Progress)


# -- who is eligible ------------------------------------------------------------------

def works_in(user: User, account_id: str) -> bool:
    return user.role is Role.GROUP_ADMIN or account_id in user.account_ids


def can_take_offers(user: User | None, account_id: str) -> bool:
    return user is not None and not user.deleted and user.available and works_in(user, account_id)


def pool(rule: RoutingRule | None, users: Sequence[User], account_id: str) -> list[User]:
    """The agents a rule routes to, right now (availability included), in a stable order."""
    if rule is not None and rule.team:
        members = [u for u in users if rule.team in u.teams]
    else:
        members = [u for u in users if u.role is Role.AGENT]
    return sorted((u for u in members if can_take_offers(u, account_id)), key=lambda u: u.user_id)


def pick(strategy: Strategy, candidates: Sequence[str], weights: Mapping[str, int], rotation: Rotation,
         pool_key: int = DEFAULT_POOL) -> tuple[str, Rotation] | None:
    """The next agent of `candidates` and the rotation after offering to them."""
    if not candidates:
        return None
    ordered = sorted(set(candidates))
    credits = {k: dict(v) for k, v in rotation.credit.items()}
    if strategy == "weighted":
        credit = credits.setdefault(str(pool_key), {})
        total = 0
        for user_id in ordered:
            weight = max(0, int(weights.get(user_id, 1)))
            credit[user_id] = credit.get(user_id, 0) + weight
            total += weight
        if total == 0:
            return None
        # Highest credit wins; ties go to the agent offered least recently, then the id.
        chosen = max(ordered, key=lambda u: (credit[u], -rotation.last_offered.get(u, -1), u))
        credit[chosen] -= total
    else:
        chosen = min(ordered, key=lambda u: (rotation.last_offered.get(u, -1), u))
    seq = rotation.seq + 1
    after = rotation.model_copy(update={"seq": seq, "last_offered": {**rotation.last_offered, chosen: seq},
                                        "credit": credits})
    return chosen, after


# -- what happens next ----------------------------------------------------------------

@dataclass(frozen=True)
class Context:
    """What deciding a lead's next step needs to know (read by the service)."""

    config: RoutingConfig
    users: Mapping[str, User]
    rotation: Rotation
    hours: BusinessHours | None = None


@dataclass(frozen=True)
class Step:
    kind: Literal["offer", "wait", "delinquent"]
    progress: Progress
    agent_id: str | None = None
    catchall: bool = False
    rule_index: int = DEFAULT_POOL
    rotation: Rotation | None = None
    expires_at: datetime | None = None
    opens_at: datetime | None = None


def next_step(lead: Lead, ctx: Context, progress: Progress, now: datetime, *, hours_checked: bool = False) -> Step:
    """Offer to the next agent of the pool, then the catch-all users, then give up (delinquent).

    With `respect_business_hours`, a closed store makes the lead wait for its next opening
    (`hours_checked` skips that when the opening has just come)."""
    config = ctx.config
    if config.respect_business_hours and ctx.hours is not None and not hours_checked \
            and not ctx.hours.is_open(now):
        opening = ctx.hours.next_opening(now)
        # Closed for weeks (a misconfigured calendar): route now rather than lose the lead.
        if opening is not None:
            return Step(kind="wait", progress=progress, opens_at=opening)
    rule_index, rule = config.rule_for(lead)
    expires = now + timedelta(seconds=config.offer_timeout_seconds)
    agents = [u.user_id for u in pool(rule, list(ctx.users.values()), lead.account_id)
              if u.user_id not in progress.tried]
    weights = rule.weights if rule is not None else {}
    picked = pick(config.strategy, agents, weights, ctx.rotation, rule_index)
    if picked is not None:
        agent_id, rotation = picked
        return Step(kind="offer", agent_id=agent_id, rule_index=rule_index, rotation=rotation, expires_at=expires,
                    progress=progress.model_copy(update={"tried": [*progress.tried, agent_id]}))
    for user_id in config.catchall_user_ids:
        if user_id not in progress.catchall_tried and can_take_offers(ctx.users.get(user_id), lead.account_id):
            return Step(kind="offer", agent_id=user_id, catchall=True, rule_index=rule_index, expires_at=expires,
                        progress=progress.model_copy(update={"catchall_tried": [*progress.catchall_tried, user_id]}))
    return Step(kind="delinquent", progress=progress, rule_index=rule_index)


@dataclass(frozen=True)
class OfferDecision:
    """How the answered offer is closed, and what must still hold when it is."""

    offer_id: str
    state: OfferState
    requires: Literal["live", "expired"]
    reason: str | None = None


@dataclass(frozen=True)
class Record:
    """A score, report, timeline or notification record of an outcome."""

    kind: str
    user_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    points: int | None = None


@dataclass
class Outcome:
    lead_updates: dict[str, Any]
    decision: OfferDecision | None = None
    step: Step | None = None
    waiting_done: bool = False
    scores: list[Record] = field(default_factory=list)
    reports: list[Record] = field(default_factory=list)
    timeline: list[Record] = field(default_factory=list)
    notices: list[Record] = field(default_factory=list)


def advance(lead: Lead, outcome: Outcome, step: Step) -> Outcome:
    """Fold the next step into an outcome: the lead's state and the step's records."""
    outcome.step = step
    updates = outcome.lead_updates
    updates["routing_version"] = lead.routing_version + 1
    if step.kind == "offer":
        updates["routing_state"] = "offered"
        outcome.reports.append(Record("offer_made", step.agent_id, {"catchall": step.catchall}))
        expires = iso(step.expires_at) if step.expires_at else None
        outcome.timeline.append(Record("offer", None, {"action": "made", "agent": step.agent_id,
                                                       "catchall": step.catchall, "expires_at": expires}))
        outcome.notices.append(Record("offer", step.agent_id))
    elif step.kind == "wait":
        updates["routing_state"] = "routing"
        outcome.timeline.append(Record("routing", None, {"action": "waiting_for_opening",
                                                         "opens_at": iso(step.opens_at) if step.opens_at else None}))
    else:
        updates["routing_state"] = "delinquent"
        outcome.reports.append(Record("lead_delinquent", None, {}))
        outcome.timeline.append(Record("routing", None, {"action": "delinquent"}))
        outcome.notices.append(Record("delinquent", None))
    return outcome


def start(lead: Lead, ctx: Context, now: datetime) -> Outcome | None:
    """Routing of a new lead; None when it has already started (a repeated call)."""
    if lead.routing_state != "routing" or lead.routing_version != 0 or lead.assigned_to:
        return None
    return advance(lead, Outcome(lead_updates={}), next_step(lead, ctx, Progress(), now))


def resume(lead: Lead, waiting: Waiting, ctx: Context, now: datetime) -> Outcome | None:
    """The store opened: offer the waiting lead. None when it is not due or no longer waiting."""
    if now < parse_time(waiting.opens_at):
        return None
    outcome = Outcome(lead_updates={}, waiting_done=True)
    if lead.routing_state != "routing" or lead.routing_version != waiting.routing_version:
        return outcome  # assigned or rerouted meanwhile: only the waiting marker goes
    return advance(lead, outcome, next_step(lead, ctx, waiting.progress, now, hours_checked=True))


def _check_current(lead: Lead, offer: Offer) -> None:
    if offer.state != "pending":
        raise Conflict(f"the offer was already {offer.state.replace('_', ' ')}", code="offer_closed",
                       extra={"offer_state": offer.state})
    if lead.routing_version != offer.routing_version or lead.routing_state != "offered":
        raise Conflict("the lead has moved on since this offer", code="offer_closed",
                       extra={"offer_state": "superseded"})


def _check_agent(offer: Offer, actor_id: str) -> None:
    if offer.agent_id != actor_id:
        # Someone else's offer does not exist for the caller.
        raise NotFound("offer not found")


def accept(lead: Lead, offer: Offer, actor_id: str, now: datetime) -> Outcome:
    _check_agent(offer, actor_id)
    _check_current(lead, offer)
    if offer.expired(now):
        raise Conflict("the offer expired", code="offer_closed", extra={"offer_state": "expired"})
    data = {"offer_id": offer.offer_id, "catchall": offer.catchall}
    return Outcome(
        lead_updates={"routing_state": "accepted", "routing_version": lead.routing_version + 1,
                      "assigned_to": actor_id},
        decision=OfferDecision(offer.offer_id, "accepted", "live"),
        scores=[Record("accept", actor_id)],
        reports=[Record("offer_accepted", actor_id, data)],
        timeline=[Record("offer", actor_id, {"action": "accepted", "agent": actor_id, **data}),
                  Record("assignment", actor_id, {"user_id": actor_id, "via": "offer"})],
        notices=[Record("assigned", actor_id)],
    )


def decline(lead: Lead, offer: Offer, actor_id: str, reason: str, ctx: Context, now: datetime) -> Outcome:
    _check_agent(offer, actor_id)
    _check_current(lead, offer)
    if offer.expired(now):
        raise Conflict("the offer expired", code="offer_closed", extra={"offer_state": "expired"})
    data = {"offer_id": offer.offer_id, "catchall": offer.catchall}
    outcome = Outcome(
        lead_updates={},
        decision=OfferDecision(offer.offer_id, "declined", "live", reason),
        scores=[Record("decline", actor_id)],
        reports=[Record("offer_declined", actor_id, {**data, "reason": reason})],
        timeline=[Record("offer", actor_id, {"action": "declined", "agent": actor_id, "reason": reason, **data})],
    )
    return advance(lead, outcome, next_step(lead, ctx, offer.progress, now))


def time_out(lead: Lead, offer: Offer, ctx: Context, now: datetime) -> Outcome | None:
    """An expired pending offer moves on; anything else (early, decided, superseded) is a no-op."""
    if offer.state != "pending" or not offer.expired(now):
        return None
    if lead.routing_version != offer.routing_version or lead.routing_state != "offered":
        return Outcome(lead_updates={}, decision=OfferDecision(offer.offer_id, "superseded", "expired"))
    data = {"offer_id": offer.offer_id, "catchall": offer.catchall}
    outcome = Outcome(
        lead_updates={},
        decision=OfferDecision(offer.offer_id, "timed_out", "expired"),
        scores=[Record("timeout", offer.agent_id)],
        reports=[Record("offer_timed_out", offer.agent_id, data)],
        timeline=[Record("offer", None, {"action": "timed_out", "agent": offer.agent_id, **data})],
    )
    return advance(lead, outcome, next_step(lead, ctx, offer.progress, now))


def requeue(lead: Lead, actor: User) -> Outcome:
    """An agent of the store claims a delinquent lead: one winner (the lead's version decides)."""
    if not works_in(actor, lead.account_id) or actor.deleted:
        raise NotFound("lead not found")
    if lead.routing_state != "delinquent":
        raise Conflict("only a delinquent lead can be claimed", code="not_delinquent",
                       extra={"routing_state": lead.routing_state, "assigned_to": lead.assigned_to})
    return Outcome(
        lead_updates={"routing_state": "accepted", "routing_version": lead.routing_version + 1,
                      "assigned_to": actor.user_id},
        scores=[Record("requeue", actor.user_id), Record("accept", actor.user_id, points=REQUEUE_ACCEPT_POINTS)],
        reports=[Record("lead_requeued", actor.user_id, {})],
        timeline=[Record("assignment", actor.user_id, {"user_id": actor.user_id, "via": "requeue"})],
        notices=[Record("assigned", actor.user_id)],
    )


def points_of(record: Record) -> int:
    return record.points if record.points is not None else POINTS[record.kind]
