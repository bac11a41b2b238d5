"""Delinquent leads come back: when an agent of the store becomes available (PATCH /me) or the store
opens, its delinquent leads are offered again, oldest first, one routing transition each.

The trigger is an `OfferAgain` message on the timers queue — sent when an agent turns available, and
set for the store's next opening when a lead goes delinquent (with a due-index marker the sweep
reads, so a lost timer is a late one). Its handler reads the store's delinquent folder (one Query
per page, the flag index: oldest first) and gives each lead a fresh routing run
(domain/rerouting.offer_again): a lead that moved on meanwhile, or that nobody can take now, stays
as it is. A long folder is worked through a page per message."""

from __future__ import annotations

from chalicelib.deps import Deps
from chalicelib.domain import rerouting
from chalicelib.domain.lead_query import ListPlan, Position
from chalicelib.domain.leads import Lead
from chalicelib.domain.rerouting import Revival
from chalicelib.domain.users import User
from chalicelib.observability import logger
from chalicelib.schemas.queues import OfferAgain
from chalicelib.services.routing_transition import Decided, Pool, after_commit, load_pool, transition
from chalicelib.services.timers import send_timer

PAGE = 25
DELINQUENT_FOLDER = ListPlan("flag", "delinquent", ascending=True)


def agent_available(deps: Deps, before: User, after: User) -> None:
    """Someone turned available: each store they work in offers its delinquent leads again."""
    if before.available or not after.available or after.deleted:
        return
    for account_id in sorted(after.account_ids):
        send_timer(deps, OfferAgain(account_id=account_id, reason="agent_available"))


def offer_again(deps: Deps, job: OfferAgain) -> str:
    """One page of the store's delinquent leads, oldest first; the rest in another message."""
    batch = deps.leads.list_batch(job.account_id, DELINQUENT_FOLDER, Position(after=job.after), PAGE)
    first_pool = load_pool(deps, job.account_id, None) if batch.items else None
    offered = 0
    for index, (_key, listed) in enumerate(batch.items):
        assert first_pool is not None
        # The rotation read with the pool is the first lead's; each later one reads the store's again.
        pool = first_pool if index == 0 else first_pool.read_again()

        def decide(lead: Lead, attempt: int, pool: Pool = pool) -> Decided:
            ctx = pool.context(deps, lead.account_id, attempt)
            return Decided(rerouting.offer_again(lead, ctx, deps.clock.now(), job.reason), ctx)

        try:
            applied = transition(deps, listed.lead_id, decide, people=pool.users, store=pool.account)
        except Exception:
            # One lead that cannot move must not keep the others delinquent.
            logger.exception("delinquent lead not offered again", extra={"lead_id": listed.lead_id})
            continue
        if applied is not None:
            after_commit(deps, applied)
            offered += 1
    if not batch.exhausted and batch.examined_to is not None:
        send_timer(deps, job.model_copy(update={"after": batch.examined_to, "due_at": None}))
    elif job.opens_at is not None:
        deps.routing.drop_revival(Revival(account_id=job.account_id, opens_at=job.opens_at))
    logger.info("delinquent leads offered again", extra={"account_id": job.account_id, "reason": job.reason,
                                                         "offered": offered})
    return "offered" if offered else "noop"
