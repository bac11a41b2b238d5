"""The timers queue: a timer is a typed message (schemas/queues.py) due at a time, put on the queue
with as much delay as SQS allows; a timer that arrives early goes back for the rest (services/due.py).

A timer carries the version of what it was set for (a lead's `routing_version`...), so a late,
repeated or superseded one changes nothing. Timers are a fast path only: every kind has a due
index that the every-minute sweep reads, so a lost timer is a late one, never a lost action."""

from __future__ import annotations

import math

from chalicelib.clock import parse_time
from chalicelib.deps import Deps
from chalicelib.observability import logger
from chalicelib.schemas.queues import Timer

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
