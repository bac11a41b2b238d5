"""What happens because a time came: one timer from the timers queue (services/timers.py sets them),
and the every-minute sweep of the due index that catches any timer that was lost.

A timer kind is a schemas/queues model, a branch of `handle_timer`, and a due index the sweep
reads; every handler is decided by the clock and by the version the timer carries, so a late,
repeated or superseded timer is a no-op."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from chalicelib.clock import iso, parse_time
from chalicelib.deps import Deps
from chalicelib.domain.leads import Lead
from chalicelib.observability import logger
from chalicelib.schemas.queues import CadenceStep, OfferAgain, OfferExpiry, Opening, ResponseDeadline, RouteLead, Timer
from chalicelib.services import cadence_steps, delinquent, follow_through, routing
from chalicelib.services.timers import delay_until, send_timer

SWEEP_BATCH = 100


def handle_timer(deps: Deps, timer: Timer) -> str:
    """One timers-queue message. Early ones (a delay longer than SQS allows, or a clock behind)
    go back on the queue for the rest; due ones are decided by the clock, idempotently."""
    if timer.due_at and deps.clock.now() < parse_time(timer.due_at):
        send_timer(deps, timer, delay_seconds=max(1, delay_until(deps, timer.due_at)))
        return "requeued"
    if isinstance(timer, OfferExpiry):
        return routing.expire_offer(deps, timer.offer_id)
    if isinstance(timer, Opening):
        return routing.open_for_lead(deps, timer.lead_id)
    if isinstance(timer, RouteLead):
        applied = routing.start_routing(deps, deps.leads.require(timer.lead_id))
        return "routed" if applied else "noop"
    if isinstance(timer, CadenceStep):
        return cadence_steps.run_step(deps, timer.lead_id, timer.version, timer.step)
    if isinstance(timer, ResponseDeadline):
        return follow_through.deadline_due(deps, timer.lead_id, timer.response_version)
    if isinstance(timer, OfferAgain):
        return delinquent.offer_again(deps, timer)
    raise TypeError(f"no handler for timer {timer!r}")


def sweep_due(deps: Deps, time_left: Callable[[], bool] = lambda: True, page: int = SWEEP_BATCH) -> dict[str, int]:
    """The every-minute safety net: expired offers, due openings, due cadence steps, response deadlines
    and store openings (delinquent leads offered again) whose timer was lost.

    Pages through everything due while `time_left()` (the Lambda's remaining time) allows; the
    pages follow the index's order, so an item that keeps failing is passed over, not retried
    forever within one run."""
    now = iso(deps.clock.now())
    counts = {"offers": 0, "openings": 0, "cadence_steps": 0, "deadlines": 0, "revivals": 0, "failed": 0}

    def each_due(fetch: Callable[..., tuple[list[Any], dict[str, Any] | None]]) -> Iterator[Any]:
        start: dict[str, Any] | None = None
        while True:
            items, start = fetch(now, page, start)
            yield from items
            if start is None or not time_left():
                return

    def work_off(counted: str, fetch: Callable[..., Any], act: Callable[[Any], str], failure: str,
                 named_by: str) -> None:
        for item in each_due(fetch):
            try:
                if act(item) != "noop":
                    counts[counted] += 1
            except Exception:
                counts["failed"] += 1
                logger.exception(failure, extra={named_by: getattr(item, named_by)})

    work_off("offers", deps.routing.due_offers, lambda offer: routing.expire_offer(deps, offer.offer_id),
             "sweep could not expire an offer", "offer_id")
    work_off("openings", deps.routing.due_openings, lambda waiting: routing.open_for_lead(deps, waiting.lead_id),
             "sweep could not open for a lead", "lead_id")
    work_off("cadence_steps", deps.cadences.due_steps, lambda lead: _due_step(deps, lead),
             "sweep could not run a cadence step", "lead_id")
    work_off("deadlines", deps.leads.due_deadlines, lambda lead: follow_through.deadline_due(deps, lead.lead_id),
             "sweep could not decide a response deadline", "lead_id")
    work_off("revivals", deps.routing.due_revivals,
             lambda r: delinquent.offer_again(deps, OfferAgain(account_id=r.account_id, reason="store_opened",
                                                               opens_at=r.opens_at)),
             "sweep could not offer a store's delinquent leads again", "account_id")
    return counts


def _due_step(deps: Deps, lead: Lead) -> str:
    enrolment = lead.cadence
    if enrolment is None or enrolment.next_step is None:
        return "noop"
    return cadence_steps.run_step(deps, lead.lead_id, enrolment.version, enrolment.next_step)
