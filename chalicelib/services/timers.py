"""The timers queue: a timer is a typed message (schemas/queues.py) due at a time, put on the queue
with as much delay as SQS allows; a timer that arrives early goes back for the rest (services/due.py).

A timer carries the version of what it was set for (a lead's `routing_version`...), so a late,
repeated or superseded one changes nothing. Timers are a fast path only: every kind has a due
index that the every-minute sweep reads, so a lost timer is a late one, never a lost action."""

from __future__ import annotations

import math

from chalicelib.clock import parse_time
from chalicelib.deps import Deps
from chalicelib.domain.leads import Lead
from chalicelib.observability import logger
from chalicelib.schemas.queues import ResponseDeadline, Timer

TIMERS = "timers"
# SQS's longest delay; a timer due later is re-enqueued when it arrives early.
MAX_TIMER_DELAY = 900


def delay_until(deps: Deps, due: str) -> int:
    return max(0, min(MAX_TIMER_DELAY, math.ceil((parse_time(due) - deps.clock.now()).total_seconds())))


def send_timer(deps: Deps, timer: Timer, delay_seconds: int | None = None) -> None:
    """Put a timer on the queue, delayed until it is due (or by `delay_seconds`)."""
    delay = delay_seconds if delay_seconds is not None else delay_until(deps, timer.due_at) if timer.due_at else 0
    deps.queues.send(TIMERS, timer.model_dump(mode="json", exclude_none=True), delay_seconds=delay)


def set_timer(deps: Deps, timer: Timer) -> None:
    """`send_timer` for a timer whose due index is saved already: a failure is logged, not raised
    (the sweep finds what it was set for within a minute)."""
    try:
        send_timer(deps, timer)
    except Exception:
        logger.exception("timer not enqueued; the sweep will catch it", extra={"kind": timer.kind})


def follow_deadline(deps: Deps, before: Lead, after: Lead) -> None:
    """After any saved lead change: when it set a response deadline (a new version) or passed its
    warning, the timer of what is due next — the warning, else the deadline. Set for the deadline's
    version, so once it is answered or replaced the timer changes nothing; the lead item sits in the
    due index at the same time (adapters/dynamodb/leads.py), so a lost timer is a late one."""
    deadline = after.deadline
    step = deadline.next_step() if deadline is not None else None
    if deadline is None or step is None:
        return
    earlier = before.deadline
    if earlier is not None and earlier.version == deadline.version and earlier.next_step() == step:
        return
    due_at = deadline.warn_at if step == "warning" and deadline.warn_at else deadline.due_at
    set_timer(deps, ResponseDeadline(lead_id=after.lead_id, response_version=deadline.version, step=step,
                                     due_at=due_at))
