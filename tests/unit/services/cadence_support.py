"""Cadences on the fake store of shop.py: make one through the use case, run the timers that are due
(the timers queue as the fakes keep it) and hand queued messages to the fake sender."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from chalicelib.clock import parse_time
from chalicelib.domain.cadences import Cadence
from chalicelib.schemas.queues import Timer
from chalicelib.services import cadences, due, outbox
from tests.unit.services.shop import Shop

TIMERS = TypeAdapter(Timer)


def make_cadence(s: Shop, *steps: tuple[int, str], **fields: Any) -> Cadence:
    assert s.manager is not None
    body = {"name": "New leads", "enroll": "new_lead", "assistant_name": "Ava",
            "steps": [{"after_seconds": after, "phase": phase, "channel": "auto",
                       "body": f"Step {i}: hi {{{{lead.first_name}}}}, {{{{assistant.name}}}} here"}
                      for i, (after, phase) in enumerate(steps)], **fields}
    return cadences.create_cadence(s.deps, s.principal(s.manager), s.account.account_id, body)


def due_timers(s: Shop, kind: str = "cadence_step") -> list[Any]:
    """Take the timers of `kind` due by now off the fake queue (later ones and other kinds stay on it)."""
    queue = s.deps.queues
    now = s.clock.now()
    due_now, kept = [], []
    for entry in queue.sent:  # type: ignore[attr-defined]
        name, body, _delay = entry
        if name == "timers" and body["kind"] == kind and (not body.get("due_at") or parse_time(body["due_at"]) <= now):
            due_now.append(TIMERS.validate_python(body))
        else:
            kept.append(entry)
    queue.sent = kept  # type: ignore[attr-defined]
    return due_now


def run_timers(s: Shop) -> list[str]:
    """Every due cadence step timer through the timers consumer's use case, as SQS would hand them over."""
    return [due.handle_timer(s.deps, timer) for timer in due_timers(s)]


def deliver_all(s: Shop) -> int:
    """The outbox consumer for every queued send job; how many reached the sender."""
    before = len(s.deps.sender.sent)  # type: ignore[attr-defined]
    for body in s.queued("outbox"):
        if body.get("kind") == "message":
            outbox.deliver(s.deps, body["message_id"])
    return len(s.deps.sender.sent) - before  # type: ignore[attr-defined]


def step_messages(s: Shop, lead_id: str) -> list[dict[str, Any]]:
    """The lead's cadence messages (timeline data), oldest first."""
    return [e.data for e in s.deps.leads.timeline(lead_id) if e.type == "message" and e.data.get("cadence_id")]
