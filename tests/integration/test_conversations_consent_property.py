"""Property: for any interleaving of STOP / START / HELP / sends / schedules / cancels / sweeps /
outbox runs / time passing, no message is ever handed to a sender for a lead that is opted
out at that moment. The sender used here checks the lead's stored state at every hand-off."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.adapters.dynamodb.leads import LeadRepository
from chalicelib.clock import iso
from chalicelib.domain.messaging import OutboundMessage, SendResult
from tests.integration.conversations_support import Store, drain, lead, sms, store, sweep
from tests.support import World

STEPS = ["stop", "start", "help", "send", "schedule", "cancel", "sweep", "deliver", "advance", "agent_opt_out"]
_numbers = itertools.count(2000)


class CheckingSender:
    """Records every hand-off, and every one made to a lead that is opted out right then."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.handed: list[str] = []
        self.violations: list[str] = []

    def send(self, message: OutboundMessage) -> SendResult:
        outbox = self.world.deps.outbox.get(message.message_id or "")
        assert outbox is not None
        lead_now = LeadRepository(self.world.deps.table).require(outbox.lead_id)
        self.handed.append(outbox.message_id)
        if lead_now.opted_out:
            self.violations.append(outbox.message_id)
        return SendResult(provider_id=f"SBX{uuid.uuid4().hex}", status="delivered")


_cache: dict[str, Any] = {}


def _setup(world: World) -> tuple[Store, CheckingSender]:
    """One store per test run (hypothesis calls the test many times with the same fixture)."""
    if _cache.get("world") is not world:
        checking = CheckingSender(world)
        world.deps.__dict__["sender"] = checking
        _cache.update(world=world, store=store(world), sender=checking)
    return _cache["store"], _cache["sender"]


def _step(world: World, s: Store, lead_id: str, phone: str, step: str, scheduled: list[str]) -> None:
    token = world.token(s.agent["user_id"])
    if step in ("stop", "start", "help"):
        sms(world, step.upper(), sid=f"SM{uuid.uuid4().hex}", sender=phone)
    elif step == "send":
        world.post(f"/leads/{lead_id}/messages", token, {"body": "Hello"})
    elif step == "schedule":
        at = iso(world.clock.now() + timedelta(minutes=5))
        reply = world.post(f"/leads/{lead_id}/messages", token, {"body": "Later", "send_at": at})
        if reply.status == 202:
            scheduled.append(reply.json["message_id"])
    elif step == "cancel" and scheduled:
        world.delete(f"/leads/{lead_id}/messages/{scheduled.pop()}", token)
    elif step == "sweep":
        sweep(world)
    elif step == "deliver":
        drain(world, "outbox")
    elif step == "advance":
        world.clock.advance(minutes=10)
    elif step == "agent_opt_out":
        world.post(f"/leads/{lead_id}/opt-out", token)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(steps=st.lists(st.sampled_from(STEPS), min_size=1, max_size=12))
def test_no_message_is_ever_handed_over_for_an_opted_out_lead(world: World, steps: list[str]) -> None:
    s, checking = _setup(world)
    world.clock.set("2026-11-02T15:00:00Z")  # 09:00 in Chicago: outside quiet hours for the whole run
    phone = f"+1312555{next(_numbers):04d}"
    target: Any = lead(world, s, phone=phone)
    scheduled: list[str] = []
    for step in steps:
        _step(world, s, target.lead_id, phone, step, scheduled)
    # Let everything that is still pending run out.
    world.clock.advance(minutes=30)
    sweep(world)
    drain(world, "outbox")
    assert checking.violations == []
