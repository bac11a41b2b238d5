"""Routing a lead again after it was settled: taken from an owner who missed a response target
(`on_miss: reoffer`), or a delinquent lead offered again when an agent becomes available or the
store opens. Pure: each returns a routing `Outcome` (domain/routing.py) that the service saves as
one conditional transition, with the usual offer machinery after it (next agent, then catch-all
users, then `delinquent`)."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain import routing
from chalicelib.domain.business_hours import BusinessHours
from chalicelib.domain.leads import Lead
from chalicelib.domain.routing import Context, Outcome, Progress, Record
from chalicelib.domain.targets import miss_data
from chalicelib.model import BaseModel

REOFFER_REASON = "target_missed"


def reoffer(lead: Lead, ctx: Context, now: datetime) -> Outcome | None:
    """The owner missed the deadline: the lead is theirs no more and goes to the next agent of its
    pool — never back to them (they count as offered, in the pool and among the catch-all users).
    None when there is no running deadline or no owner (answered, or taken meanwhile)."""
    deadline, owner = lead.deadline, lead.assigned_to
    if deadline is None or owner is None or deadline.owner != owner:
        return None
    data = miss_data(deadline)
    outcome = Outcome(
        lead_updates={"assigned_to": None},
        reports=[Record("target_missed", owner, {**data, "on_miss": "reoffer"}),
                 Record("lead_reoffered", owner, {"reason": REOFFER_REASON})],
        timeline=[Record("reassigned", None, {"reason": REOFFER_REASON, "from": owner, **data})],
        # The managers first: their alert is the miss's own (the owner's tells them the lead is gone).
        notices=[Record("target_missed", None, {"owner": owner}), Record("reoffered", owner)],
    )
    progress = Progress(tried=[owner], catchall_tried=[owner])
    return routing.advance(lead, outcome, routing.next_step(lead, ctx, progress, now))


def offer_again(lead: Lead, ctx: Context, now: datetime, reason: str) -> Outcome | None:
    """A delinquent lead gets a fresh routing run (everyone may be offered it again). None when it is
    no longer delinquent, is closed, or nobody can take an offer now (it stays delinquent as it is:
    no second `delinquent` record, no second alert)."""
    if lead.routing_state != "delinquent" or lead.assigned_to or not lead.is_open:
        return None
    step = routing.next_step(lead, ctx, Progress(), now)
    if step.kind == "delinquent":
        return None
    outcome = Outcome(lead_updates={}, timeline=[Record("routing", None, {"action": "offered_again",
                                                                          "reason": reason})])
    return routing.advance(lead, outcome, step)


class Revival(BaseModel):
    """A store's delinquent leads are to be offered again when it opens next (a due-index marker, one
    per store and opening: the leads going delinquent before that opening share it)."""

    account_id: str
    opens_at: str


def next_store_opening(hours: BusinessHours, now: datetime) -> datetime | None:
    """When the store next opens after `now`: past the interval it is open in now (and any interval
    that starts where one ends: that is no opening). None when it stays closed for weeks."""
    at = hours.next_closing(now) if hours.is_open(now) else now
    for _ in range(14):
        if at is None:
            return None
        opening = hours.next_opening(at)
        if opening is None or opening > at:
            return opening
        at = hours.next_closing(opening)
    return None
