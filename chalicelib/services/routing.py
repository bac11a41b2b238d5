"""Routing use cases: start routing a new lead, accept / decline an offer, time offers out,
offer waiting leads at opening, claim delinquent leads, feedback, the score ledger and
the store's routing config.

Every routing transition is ONE transaction (services/lead_changes.change_lead): the lead
(conditional on its version), the offer being answered (conditional on `state = pending`
and on its expiry), the next offer, the pool's rotation (conditional on its revision), and
the score, report and timeline records. Whatever loses a race is re-read and decided
again, so it ends as a 409 or a no-op — never a second owner. Notifications and timers
go out after the commit: a lost timer is caught by the due sweep, a repeated one is a
no-op."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.adapters.dynamodb.leads import LeadRepository
from chalicelib.adapters.dynamodb.routing import RoutingRepository
from chalicelib.adapters.dynamodb.table import TransactionCancelled
from chalicelib.clock import iso, parse_time
from chalicelib.deps import Deps
from chalicelib.domain import routing as rules
from chalicelib.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from chalicelib.domain.leads import Lead
from chalicelib.domain.routing import Context, Offer, Outcome, RoutingConfig, Waiting
from chalicelib.domain.scoring import BASE_SCORE, ScoreEvent, feedback_reasons
from chalicelib.domain.tenancy import Principal, Role
from chalicelib.domain.users import User, can_view_user
from chalicelib.ids import new_id
from chalicelib.observability import logger
from chalicelib.services.lead_changes import Change, change_lead, report_event, score_event, timeline_event

TIMERS = "timers"
MAX_TIMER_DELAY = 900
# Rotation and offer conditions can lose to a concurrent transition: decide again this often.
ATTEMPTS = 6
SWEEP_BATCH = 100


def _repo(deps: Deps) -> RoutingRepository:
    return RoutingRepository(deps.table)


# -- configuration -----------------------------------------------------------------------

def routing_config(deps: Deps, account_id: str) -> RoutingConfig:
    return _repo(deps).config(account_id) or RoutingConfig(account_id=account_id)


def get_config(deps: Deps, actor: Principal, account_id: str) -> RoutingConfig:
    account = deps.accounts.require(account_id)
    actor.require_account(account.group_id, account.account_id)
    return routing_config(deps, account_id)


def put_config(deps: Deps, actor: Principal, account_id: str, fields: dict[str, Any]) -> RoutingConfig:
    """Replace a store's routing config (admin). Every user it names must work in the store."""
    account = deps.accounts.require(account_id)
    actor.require_account(account.group_id, account.account_id)
    actor.require_role(Role.ADMIN)
    config = RoutingConfig.model_validate({**fields, "account_id": account_id,
                                           "updated_at": iso(deps.clock.now()), "updated_by": actor.user_id})
    users = {u.user_id: u for u in deps.users.list_for_group(account.group_id)}
    problems = []

    def known(user_id: str) -> bool:
        user = users.get(user_id)
        return user is not None and not user.deleted and rules.works_in(user, account_id)

    for i, user_id in enumerate(config.catchall_user_ids):
        if not known(user_id):
            problems.append({"field": f"catchall_user_ids[{i}]", "message": f"{user_id} is not a user of this store"})
    for i, rule in enumerate(config.rules):
        for user_id in rule.weights:
            if not known(user_id):
                problems.append({"field": f"rules[{i}].weights.{user_id}", "message": "is not a user of this store"})
    if problems:
        raise ValidationFailed("the routing config names unknown users", details=problems)
    _repo(deps).put_config(config)
    return config


# -- running one transition ---------------------------------------------------------------

@dataclass
class _Loaded:
    """What deciding needs besides the lead: read once per use case, not per retry."""

    config: RoutingConfig
    users: dict[str, User]
    hours: Any


def _load(deps: Deps, lead: Lead) -> _Loaded:
    config = routing_config(deps, lead.account_id)
    users = {u.user_id: u for u in deps.users.list_for_group(lead.group_id)}
    hours = None
    if config.respect_business_hours:
        account = deps.accounts.get(lead.account_id)
        hours = account.hours if account else None
    return _Loaded(config, users, hours)


def _context(deps: Deps, loaded: _Loaded, lead: Lead) -> Context:
    rotation = _repo(deps).rotation(lead.account_id)
    return Context(config=loaded.config, users=loaded.users, rotation=rotation, hours=loaded.hours)


@dataclass
class _Applied:
    lead: Lead
    outcome: Outcome
    offer: Offer | None = None
    waiting: Waiting | None = None


def _to_change(deps: Deps, lead: Lead, outcome: Outcome, ctx: Context | None, now: datetime,
               waiting_before: Waiting | None = None) -> tuple[Change, Offer | None, Waiting | None]:
    """An Outcome as the records and conditional writes of one transaction."""
    repo = _repo(deps)
    at = iso(now)
    extra: list[dict[str, Any]] = []
    new_offer: Offer | None = None
    new_waiting: Waiting | None = None
    step = outcome.step
    offer_id = new_id("ofr", now) if step is not None and step.kind == "offer" else None
    if outcome.decision is not None:
        extra.append(repo.offer_decide_op(outcome.decision, at))
    if outcome.waiting_done and waiting_before is not None:
        extra.append(repo.waiting_delete_op(waiting_before))
    if step is not None and step.kind == "offer" and step.agent_id and step.expires_at:
        new_offer = Offer(offer_id=offer_id or "", lead_id=lead.lead_id, account_id=lead.account_id,
                          group_id=lead.group_id, agent_id=step.agent_id,
                          routing_version=outcome.lead_updates["routing_version"], made_at=at,
                          expires_at=iso(step.expires_at), catchall=step.catchall, rule_index=step.rule_index,
                          progress=step.progress)
        extra.append(repo.offer_put_op(new_offer))
        if step.rotation is not None and ctx is not None:
            extra.append(repo.rotation_op(lead.account_id, ctx.rotation, step.rotation))
    if step is not None and step.kind == "wait" and step.opens_at:
        new_waiting = Waiting(lead_id=lead.lead_id, account_id=lead.account_id,
                              routing_version=outcome.lead_updates["routing_version"], opens_at=iso(step.opens_at),
                              progress=step.progress)
        extra.append(repo.waiting_put_op(new_waiting))

    def with_offer_id(data: dict[str, Any], made: bool) -> dict[str, Any]:
        return {**data, "offer_id": offer_id} if made and offer_id else data

    # Ids sort the timeline: events of one transition share a millisecond, so keep their order.
    event_ids = sorted(new_id("evt", now) for _ in outcome.timeline)
    events = [timeline_event(deps, lead, r.kind, r.user_id, event_id=event_id,
                             **with_offer_id({k: v for k, v in r.data.items() if v is not None},
                                             r.data.get("action") == "made"))
              for r, event_id in zip(outcome.timeline, event_ids, strict=True)]
    scores = []
    for r in outcome.scores:
        entry = score_event(deps, lead, r.user_id or "", r.kind)
        scores.append(entry.model_copy(update={"points": rules.points_of(r)}))
    reports = [report_event(deps, lead, r.kind, r.user_id, **with_offer_id(r.data, r.kind == "offer_made"))
               for r in outcome.reports]
    change = Change(updates=dict(outcome.lead_updates), events=events, scores=scores, reports=reports,
                    extra_ops=extra)
    return change, new_offer, new_waiting


def _transition(deps: Deps, lead_id: str,
                decide: Callable[[Lead], tuple[Outcome | None, Context | None, Waiting | None]]) -> _Applied | None:
    """Decide and save one transition; retry it from fresh reads when any condition lost a race."""
    applied: dict[str, Any] = {}

    def as_change(lead: Lead) -> Change | None:
        applied.clear()
        outcome, ctx, waiting_before = decide(lead)
        if outcome is None or (not outcome.lead_updates and outcome.step is None):
            applied["bookkeeping"] = outcome
            return None
        now = deps.clock.now()
        change, offer, waiting = _to_change(deps, lead, outcome, ctx, now, waiting_before)
        applied.update(outcome=outcome, offer=offer, waiting=waiting)
        return change

    for _ in range(ATTEMPTS):
        try:
            lead, change = change_lead(deps, lead_id, as_change)
        except TransactionCancelled:
            continue  # the offer, the rotation or the waiting marker moved: decide again from fresh reads
        if change is None:
            return None
        return _Applied(lead=lead, outcome=applied["outcome"], offer=applied.get("offer"),
                        waiting=applied.get("waiting"))
    raise Conflict("routing is busy for this lead; try again", code="busy")


def _after_commit(deps: Deps, applied: _Applied) -> None:
    """Timers and notifications: outside the transaction, repeatable, and backed by the sweep."""
    if applied.offer is not None:
        schedule_offer_timer(deps, applied.offer)
    if applied.waiting is not None:
        schedule_opening_timer(deps, applied.waiting)
    _send_notices(deps, applied)


def _send_notices(deps: Deps, applied: _Applied) -> None:
    from chalicelib.services.notifications import notify

    lead = applied.lead
    label = lead.name or "a customer"
    for notice in applied.outcome.notices:
        try:
            if notice.kind == "delinquent":
                managers = [u for u in deps.users.list_for_group(lead.group_id)
                            if not u.deleted and u.role in (Role.MANAGER, Role.ADMIN)
                            and lead.account_id in u.account_ids]
                notify(deps, managers, "delinquent", f"Nobody accepted the {lead.source} lead from {label}",
                       lead.lead_id, lead.account_id)
                continue
            user = deps.users.get(notice.user_id or "")
            if user is None:
                continue
            if notice.kind == "offer" and applied.offer is not None:
                seconds = max(0, int((parse_time(applied.offer.expires_at) - deps.clock.now()).total_seconds()))
                text = f"New {lead.source} lead from {label}: accept within {seconds // 60}m{seconds % 60:02d}s"
            else:
                text = f"The {lead.source} lead from {label} is yours"
            notify(deps, [user], notice.kind, text, lead.lead_id, lead.account_id)
        except Exception:
            # The transition is saved; a lost notification must not turn it into an error.
            logger.exception("routing notification failed", extra={"lead_id": lead.lead_id, "kind": notice.kind})


# -- timers --------------------------------------------------------------------------------

def _delay_until(deps: Deps, due: str) -> int:
    return max(0, min(MAX_TIMER_DELAY, math.ceil((parse_time(due) - deps.clock.now()).total_seconds())))


def schedule_offer_timer(deps: Deps, offer: Offer) -> None:
    body = {"kind": "offer_expiry", "offer_id": offer.offer_id, "routing_version": offer.routing_version,
            "due_at": offer.expires_at}
    _send_timer(deps, body)


def schedule_opening_timer(deps: Deps, waiting: Waiting) -> None:
    body = {"kind": "opening", "lead_id": waiting.lead_id, "routing_version": waiting.routing_version,
            "due_at": waiting.opens_at}
    _send_timer(deps, body)


def _send_timer(deps: Deps, body: dict[str, Any]) -> None:
    try:
        deps.queues.send(TIMERS, body, delay_seconds=_delay_until(deps, body["due_at"]))
    except Exception:
        # The due sweep finds every pending offer and waiting lead within a minute anyway.
        logger.exception("timer not enqueued; the sweep will catch it", extra={"kind": body["kind"]})


def handle_timer(deps: Deps, body: dict[str, Any]) -> str:
    """One timers-queue message. Early ones (a delay longer than SQS allows, or a clock behind)
    go back on the queue for the rest; due ones are decided by the clock, idempotently."""
    kind = body.get("kind")
    due = body.get("due_at")
    if due and deps.clock.now() < parse_time(due):
        deps.queues.send(TIMERS, body, delay_seconds=max(1, _delay_until(deps, due)))
        return "requeued"
    if kind == "offer_expiry":
        return expire_offer(deps, str(body["offer_id"]))
    if kind == "opening":
        return open_for_lead(deps, str(body["lead_id"]))
    if kind == "route":
        applied = _start(deps, str(body["lead_id"]))
        return "routed" if applied else "noop"
    logger.warning("unknown timer kind", extra={"kind": kind})
    return "ignored"


def expire_offer(deps: Deps, offer_id: str) -> str:
    """Time out one offer if it is still pending and expired; otherwise change nothing."""
    repo = _repo(deps)
    offer = repo.offer(offer_id)
    if offer is None:
        return "noop"
    now = deps.clock.now()
    if offer.state != "pending" or not offer.expired(now):
        return "noop"
    loaded: list[_Loaded] = []

    def decide(lead: Lead) -> tuple[Outcome | None, Context | None, Waiting | None]:
        current = repo.offer(offer_id) if loaded else offer
        if current is None:
            return None, None, None
        if not loaded:
            loaded.append(_load(deps, lead))
        ctx = _context(deps, loaded[0], lead)
        return rules.time_out(lead, current, ctx, deps.clock.now()), ctx, None

    try:
        applied = _transition(deps, offer.lead_id, decide)
    except NotFound:
        repo.decide_offer(rules.OfferDecision(offer_id, "superseded", "expired"), iso(now))
        return "superseded"
    if applied is None:
        # Not ours to move any more (the lead was assigned or rerouted): just close the offer.
        closed = repo.decide_offer(rules.OfferDecision(offer_id, "superseded", "expired"), iso(deps.clock.now()))
        return "superseded" if closed else "noop"
    _after_commit(deps, applied)
    return "timed_out"


def open_for_lead(deps: Deps, lead_id: str) -> str:
    """The store opened: offer a lead that waited for it (no-op unless it still waits and is due)."""
    repo = _repo(deps)
    waiting = repo.waiting(lead_id)
    if waiting is None or deps.clock.now() < parse_time(waiting.opens_at):
        return "noop"
    loaded: list[_Loaded] = []

    def decide(lead: Lead) -> tuple[Outcome | None, Context | None, Waiting | None]:
        current = repo.waiting(lead_id) if loaded else waiting
        if current is None:
            return None, None, None
        if not loaded:
            loaded.append(_load(deps, lead))
        ctx = _context(deps, loaded[0], lead)
        return rules.resume(lead, current, ctx, deps.clock.now()), ctx, current

    try:
        applied = _transition(deps, lead_id, decide)
    except NotFound:
        repo.drop_waiting(waiting)
        return "dropped"
    if applied is None:
        repo.drop_waiting(waiting)
        return "dropped"
    _after_commit(deps, applied)
    return "offered" if applied.offer else applied.outcome.lead_updates.get("routing_state", "noop")


def sweep_due(deps: Deps, time_left: Callable[[], bool] = lambda: True, page: int = SWEEP_BATCH) -> dict[str, int]:
    """The every-minute safety net: expired offers and due openings whose timer was lost.

    Pages through everything due while `time_left()` (the Lambda's remaining time) allows; the
    pages follow the index's order, so an item that keeps failing is passed over, not retried
    forever within one run."""
    repo = _repo(deps)
    now = iso(deps.clock.now())
    counts = {"offers": 0, "openings": 0, "failed": 0}

    def each_due(fetch: Callable[..., tuple[list[Any], dict[str, Any] | None]]) -> Iterator[Any]:
        start: dict[str, Any] | None = None
        while True:
            items, start = fetch(now, page, start)
            yield from items
            if start is None or not time_left():
                return

    for offer in each_due(repo.due_offers):
        try:
            if expire_offer(deps, offer.offer_id) != "noop":
                counts["offers"] += 1
        except Exception:
            counts["failed"] += 1
            logger.exception("sweep could not expire an offer", extra={"offer_id": offer.offer_id})
    for waiting in each_due(repo.due_openings):
        try:
            if open_for_lead(deps, waiting.lead_id) != "noop":
                counts["openings"] += 1
        except Exception:
            counts["failed"] += 1
            logger.exception("sweep could not open for a lead", extra={"lead_id": waiting.lead_id})
    return counts


# -- starting ------------------------------------------------------------------------------

def route_new_lead(deps: Deps, lead: Lead) -> None:
    """Start routing a lead that was just created (not for coalesced requests).

    A failure here must not lose the lead: it is retried through the timers queue."""
    try:
        _start(deps, lead.lead_id)
    except Exception:
        logger.exception("routing did not start; retrying through the timers queue", extra={"lead_id": lead.lead_id})
        deps.queues.send(TIMERS, {"kind": "route", "lead_id": lead.lead_id}, delay_seconds=5)


def _start(deps: Deps, lead_id: str) -> _Applied | None:
    loaded: list[_Loaded] = []

    def decide(lead: Lead) -> tuple[Outcome | None, Context | None, Waiting | None]:
        if not loaded:
            loaded.append(_load(deps, lead))
        ctx = _context(deps, loaded[0], lead)
        return rules.start(lead, ctx, deps.clock.now()), ctx, None

    applied = _transition(deps, lead_id, decide)
    if applied is not None:
        _after_commit(deps, applied)
    return applied


# -- agent actions ---------------------------------------------------------------------------

def _own_offer(deps: Deps, actor: Principal, offer_id: str) -> Offer:
    offer = _repo(deps).offer(offer_id)
    if offer is None or offer.agent_id != actor.user_id:
        raise NotFound("offer not found")
    return offer


def accept_offer(deps: Deps, actor: Principal, offer_id: str) -> Lead:
    offer = _own_offer(deps, actor, offer_id)
    repo = _repo(deps)
    attempt = [0]

    def decide(lead: Lead) -> tuple[Outcome | None, Context | None, Waiting | None]:
        current = repo.offer(offer_id) if attempt[0] else offer
        attempt[0] += 1
        if current is None:
            raise NotFound("offer not found")
        return rules.accept(lead, current, actor.user_id, deps.clock.now()), None, None

    applied = _transition(deps, offer.lead_id, decide)
    if applied is None:  # accept never returns a no-op outcome; kept for the type checker
        raise Conflict("the offer is closed", code="offer_closed")
    _after_commit(deps, applied)
    return applied.lead


def decline_offer(deps: Deps, actor: Principal, offer_id: str, reason: str) -> Offer:
    offer = _own_offer(deps, actor, offer_id)
    repo = _repo(deps)
    loaded: list[_Loaded] = []

    def decide(lead: Lead) -> tuple[Outcome | None, Context | None, Waiting | None]:
        current = repo.offer(offer_id) if loaded else offer
        if current is None:
            raise NotFound("offer not found")
        if not loaded:
            loaded.append(_load(deps, lead))
        ctx = _context(deps, loaded[0], lead)
        return rules.decline(lead, current, actor.user_id, reason, ctx, deps.clock.now()), ctx, None

    applied = _transition(deps, offer.lead_id, decide)
    if applied is None:
        raise Conflict("the offer is closed", code="offer_closed")
    _after_commit(deps, applied)
    return offer.model_copy(update={"state": "declined", "reason": reason, "decided_at": iso(deps.clock.now())})


def my_offers(deps: Deps, actor: Principal, limit: int, cursor: str | None) -> tuple[list[Offer], str | None]:
    """The caller's live offers; ones whose lead has moved on (a direct assignment) are left out."""
    now = deps.clock.now()
    offers, next_cursor = _repo(deps).pending_offers(actor.user_id, iso(now), limit, cursor)
    if not offers:
        return [], next_cursor
    leads = _repo(deps).leads({o.lead_id for o in offers})
    live = [o for o in offers
            if (lead := leads.get(o.lead_id)) is not None and lead.routing_version == o.routing_version
            and lead.routing_state == "offered"]
    return live, next_cursor


def requeue_lead(deps: Deps, actor: Principal, lead_id: str) -> Lead:
    """An agent of the store claims a delinquent lead; one claim wins, the rest get 409."""
    lead_repo = LeadRepository(deps.table)
    lead = lead_repo.require(lead_id)
    # A restricted agent sees only leads assigned to them, so an unowned delinquent lead is not theirs to claim.
    if not actor.can_see_lead(lead.group_id, lead.account_id, lead.assigned_to):
        raise NotFound("lead not found")
    user = deps.users.get(actor.user_id)
    if user is None:
        raise NotFound("lead not found")

    def decide(current: Lead) -> tuple[Outcome | None, Context | None, Waiting | None]:
        return rules.requeue(current, user), None, None

    applied = _transition(deps, lead_id, decide)
    if applied is None:
        raise Conflict("the lead was claimed meanwhile", code="not_delinquent")
    _after_commit(deps, applied)
    return applied.lead


# -- feedback and scores ------------------------------------------------------------------------

def give_feedback(deps: Deps, actor: Principal, lead_id: str, contact_status: str | None,
                  comment: str | None) -> dict[str, Any]:
    """Record what came of a lead. The lead's owner earns each feedback part once per lead."""
    if contact_status is None and not (comment or "").strip():
        raise ValidationFailed.field("contact_status", "give a contact_status, a comment or both")
    lead = LeadRepository(deps.table).require(lead_id)
    if not actor.can_see_lead(lead.group_id, lead.account_id, lead.assigned_to):
        raise NotFound("lead not found")
    repo = _repo(deps)
    earned_now: list[str] = []

    def decide(current: Lead) -> Change:
        earned_now.clear()
        now = iso(deps.clock.now())
        owner = current.assigned_to == actor.user_id
        already = repo.feedback_earned(lead_id, actor.user_id) if owner else set()
        reasons = feedback_reasons(contact_status, comment, already) if owner else []
        earned_now.extend(reasons)
        comment_text = (comment or "").strip()
        data: dict[str, Any] = {"contact_status": contact_status, "comment": comment_text or None}
        change = Change(
            events=[timeline_event(deps, current, "feedback", actor.user_id,
                                   **{k: v for k, v in data.items() if v is not None})],
            scores=[score_event(deps, current, actor.user_id, r) for r in reasons],
            reports=[report_event(deps, current, "feedback", actor.user_id, contact_status=contact_status,
                                  comment_chars=len(comment_text))],
        )
        if reasons:
            change.extra_ops.append(repo.feedback_put_op(lead_id, actor.user_id, already | set(reasons), now))
        return change

    change_lead(deps, lead_id, decide, touch=True)
    from chalicelib.domain.scoring import POINTS

    return {"lead_id": lead_id, "contact_status": contact_status, "comment_chars": len((comment or "").strip()),
            "earned": list(earned_now), "points": sum(POINTS[r] for r in earned_now)}


@dataclass(frozen=True)
class ScoreReport:
    user_id: str
    start: str
    end: str
    timezone: str
    score: int
    events: list[ScoreEvent]


def user_score(deps: Deps, actor: Principal, user_id: str, start: date | datetime | None,
               end: date | datetime | None, timezone: str | None = None) -> ScoreReport:
    """The score over [start, end] (default: the last 30 days) and every entry that makes it.

    Dates are whole days of `timezone`, by default the zone of the user's stores: the days the
    dashboard counts their score over, so the two agree."""
    user = deps.users.get(user_id)
    if user is None or not can_view_user(actor, user):
        raise NotFound("user not found")
    if user_id != actor.user_id and not actor.is_manager_or_above:
        raise Forbidden("agents see their own score only")
    zone_name = timezone or _home_zone(deps, user)
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a name too long for a file
        raise ValidationFailed.field("timezone", "is not an IANA timezone name") from exc

    def instant(bound: date | datetime | None, end_of_day: bool) -> datetime | None:
        if bound is None or isinstance(bound, datetime):
            return bound
        day = bound + timedelta(days=1) if end_of_day else bound
        midnight = datetime.combine(day, time(0), zone).astimezone(UTC)
        return midnight - timedelta(milliseconds=1) if end_of_day else midnight

    end_at = instant(end, True) or deps.clock.now()
    start_at = instant(start, False) or end_at - timedelta(days=30)
    if start_at > end_at:
        raise ValidationFailed.field("from", "must not be after to")
    events = _repo(deps).score_events(user_id, iso(start_at), iso(end_at))
    return ScoreReport(user_id=user_id, start=iso(start_at), end=iso(end_at), timezone=zone_name,
                       score=BASE_SCORE + sum(e.points for e in events), events=events)


def _home_zone(deps: Deps, user: User) -> str:
    stores = [a for a in deps.accounts.list_for_group(user.group_id)
              if user.role is Role.GROUP_ADMIN or a.account_id in user.account_ids]
    zones = {a.timezone for a in stores}
    return zones.pop() if len(zones) == 1 else "UTC"

