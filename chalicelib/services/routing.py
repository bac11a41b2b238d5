"""Routing use cases: start routing a new lead, time an offer out, offer a waiting lead when its
store opens, accept / decline an offer, claim a delinquent lead; an agent's live offers.

Each is one routing transition (services/routing_transition.py): read what the decision needs
once, decide on the lead as it is now, save it in one conditional transaction (deciding again
after a lost race), then set timers and tell people. Timers arrive through services/due.py."""

from __future__ import annotations

from chalicelib.clock import iso, parse_time
from chalicelib.deps import Deps
from chalicelib.domain import routing as rules
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.leads import Lead
from chalicelib.domain.routing import Offer, StoreRouting
from chalicelib.domain.tenancy import Caller, Principal
from chalicelib.domain.users import User
from chalicelib.observability import logger
from chalicelib.schemas.queues import RouteLead
from chalicelib.services.auth import caller_record
from chalicelib.services.routing_transition import Applied, Decided, after_commit, load_pool, transition
from chalicelib.services.timers import send_timer

ROUTE_RETRY_SECONDS = 5


# -- starting, timing out, opening -------------------------------------------------------------

def route_new_lead(deps: Deps, lead: Lead, routing: StoreRouting | None = None) -> None:
    """Start routing a lead that was just created (not for coalesced requests), given as it was last
    written: it is not read again (a stale one costs a retry of the conditional save, never a lost write).
    `routing`: the store's record, config and rotation if intake read them already.

    A failure here must not lose the lead: it is retried through the timers queue."""
    try:
        start_routing(deps, lead, just_created=True, routing=routing)
    except Exception:
        logger.exception("routing did not start; retrying through the timers queue", extra={"lead_id": lead.lead_id})
        send_timer(deps, RouteLead(lead_id=lead.lead_id), delay_seconds=ROUTE_RETRY_SECONDS)


def start_routing(deps: Deps, lead: Lead, *, just_created: bool = False,
                  routing: StoreRouting | None = None) -> Applied | None:
    """`just_created`: `lead` is as intake wrote it a moment ago, so it is not read again."""
    pool = load_pool(deps, lead.account_id, lead.group_id, routing)

    def decide(current: Lead, attempt: int) -> Decided:
        ctx = pool.context(deps, current.account_id, attempt)
        return Decided(rules.start(current, ctx, deps.clock.now()), ctx)

    applied = transition(deps, lead.lead_id, decide, known=lead if just_created else None, people=pool.users,
                         store=pool.account)
    if applied is not None:
        after_commit(deps, applied)
    return applied


def expire_offer(deps: Deps, offer_id: str) -> str:
    """Time out one offer if it is still pending and expired; otherwise change nothing."""
    offer = deps.routing.offer(offer_id)
    now = deps.clock.now()
    if offer is None or offer.state != "pending" or not offer.expired(now):
        return "noop"
    pool = load_pool(deps, offer.account_id, offer.group_id)

    def decide(lead: Lead, attempt: int) -> Decided:
        current = offer if attempt == 0 else deps.routing.offer(offer_id)
        if current is None:
            return Decided(None)
        ctx = pool.context(deps, lead.account_id, attempt)
        return Decided(rules.time_out(lead, current, ctx, deps.clock.now()), ctx)

    try:
        applied = transition(deps, offer.lead_id, decide, people=pool.users, store=pool.account)
    except NotFound:
        deps.routing.decide_offer(rules.OfferDecision(offer_id, "superseded", "expired"), iso(now))
        return "superseded"
    if applied is None:
        # Not ours to move any more (the lead was assigned or rerouted): just close the offer.
        closed = deps.routing.decide_offer(rules.OfferDecision(offer_id, "superseded", "expired"),
                                           iso(deps.clock.now()))
        return "superseded" if closed else "noop"
    after_commit(deps, applied)
    return "timed_out"


def open_for_lead(deps: Deps, lead_id: str) -> str:
    """The store opened: offer a lead that waited for it (no-op unless it still waits and is due)."""
    waiting = deps.routing.waiting(lead_id)
    if waiting is None or deps.clock.now() < parse_time(waiting.opens_at):
        return "noop"
    pool = load_pool(deps, waiting.account_id, None)

    def decide(lead: Lead, attempt: int) -> Decided:
        current = waiting if attempt == 0 else deps.routing.waiting(lead_id)
        if current is None:
            return Decided(None)
        ctx = pool.context(deps, lead.account_id, attempt)
        return Decided(rules.resume(lead, current, ctx, deps.clock.now()), ctx, current)

    try:
        applied = transition(deps, lead_id, decide, people=pool.users, store=pool.account)
    except NotFound:
        deps.routing.drop_waiting(waiting)
        return "dropped"
    if applied is None:
        deps.routing.drop_waiting(waiting)
        return "dropped"
    after_commit(deps, applied)
    return "offered" if applied.offer else applied.outcome.lead_updates.get("routing_state", "noop")


# -- agent actions ---------------------------------------------------------------------------

def accept_offer(deps: Deps, caller: Caller, offer_id: str) -> Lead:
    """Three calls, the caller's authentication included: the caller's record with the offer (one
    read), the lead with its store (one read: the new owner's targets and the alert's words come from
    the store's record), then one transaction, which holds the caller's record as it was read. A caller
    deleted, moved or changed meanwhile fails it (CallerChanged); like any lost race that means
    deciding again, on the caller's record and the offer read again, so they are authorised again
    (401 as the authenticator answers) before anything is saved."""
    user, offer = _caller_and_offer(deps, caller, offer_id)
    lead, store = deps.leads.with_store(offer.lead_id, offer.account_id)
    if lead is None:
        raise NotFound("offer not found")

    def decide(lead: Lead, attempt: int) -> Decided:
        who, current = _caller_and_offer_now(deps, caller, offer_id, (user, offer), attempt)
        return Decided(rules.accept(lead, current, who.user_id, deps.clock.now()),
                       checks=(deps.users.unchanged(who),))

    applied = transition(deps, offer.lead_id, decide, known=lead, people={user.user_id: user}, store=store)
    if applied is None:  # accept never returns a no-op outcome; kept for the type checker
        raise Conflict("the offer is closed", code="offer_closed")
    after_commit(deps, applied)
    return applied.lead


def _caller_and_offer(deps: Deps, caller: Caller, offer_id: str) -> tuple[User, Offer]:
    """One read: the record the caller acts as (authorised as the authenticator would: 401) and the
    offer, which must be theirs (404 otherwise)."""
    offer, first = deps.routing.offer_with_user(offer_id, caller.identity)
    # Acting in another group than their first, the offer's agent is the record they most likely are.
    user = caller_record(deps, caller, first, offer.agent_id if offer else None)
    if offer is None or offer.agent_id != user.user_id:
        raise NotFound("offer not found")
    return user, offer


def _caller_and_offer_now(deps: Deps, caller: Caller, offer_id: str, first: tuple[User, Offer],
                          attempt: int) -> tuple[User, Offer]:
    """What a decision on the caller's offer is made on: as read first, else (after a lost race, the
    caller's record changed meanwhile included) read again, and the caller authorised again."""
    return first if attempt == 0 else _caller_and_offer(deps, caller, offer_id)


def decline_offer(deps: Deps, caller: Caller, offer_id: str, reason: str) -> Offer:
    """Accept's shape: the caller's record with the offer (one read, the caller's authentication), the
    pool, then one transition whose transaction holds the caller's record as it was read
    (CallerChanged: decided again on both read again)."""
    user, offer = _caller_and_offer(deps, caller, offer_id)
    pool = load_pool(deps, offer.account_id, offer.group_id)

    def decide(lead: Lead, attempt: int) -> Decided:
        who, current = _caller_and_offer_now(deps, caller, offer_id, (user, offer), attempt)
        ctx = pool.context(deps, lead.account_id, attempt)
        return Decided(rules.decline(lead, current, who.user_id, reason, ctx, deps.clock.now()), ctx,
                       checks=(deps.users.unchanged(who),))

    applied = transition(deps, offer.lead_id, decide, people=pool.users, store=pool.account)
    if applied is None:
        raise Conflict("the offer is closed", code="offer_closed")
    after_commit(deps, applied)
    return offer.model_copy(update={"state": "declined", "reason": reason, "decided_at": iso(deps.clock.now())})


def my_offers(deps: Deps, actor: Principal, limit: int, cursor: str | None) -> tuple[list[Offer], str | None]:
    """The caller's live offers; ones whose lead has moved on (a direct assignment) are left out."""
    now = deps.clock.now()
    offers, next_cursor = deps.routing.pending_offers(actor.user_id, iso(now), limit, cursor)
    if not offers:
        return [], next_cursor
    leads = deps.leads.many({o.lead_id for o in offers})
    live = [o for o in offers
            if (lead := leads.get(o.lead_id)) is not None and lead.routing_version == o.routing_version
            and lead.routing_state == "offered"]
    return live, next_cursor


def requeue_lead(deps: Deps, actor: Principal, lead_id: str) -> Lead:
    """An agent of the store claims a delinquent lead; one claim wins, the rest get 409."""
    lead = deps.leads.require(lead_id)
    # A restricted agent sees only leads assigned to them, so an unowned delinquent lead is not theirs to claim.
    if not actor.can_see_lead(lead.group_id, lead.account_id, lead.assigned_to):
        raise NotFound("lead not found")
    user = actor.record or deps.users.get(actor.user_id)
    if user is None:
        raise NotFound("lead not found")

    def decide(current: Lead, attempt: int) -> Decided:
        return Decided(rules.requeue(current, user))

    applied = transition(deps, lead_id, decide, people={user.user_id: user})
    if applied is None:
        raise Conflict("the lead was claimed meanwhile", code="not_delinquent")
    after_commit(deps, applied)
    return applied.lead
