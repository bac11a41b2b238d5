"""Races against one offer through the real handlers: HTTP accepts and timers-queue deliveries in
50 threads at once. Exactly one wins; everything else is a 409 or a no-op.

Two shims make an in-process run faithful to Lambda + DynamoDB (both are test-only):
- chalice keeps the request being served on the app object (`app.current_request`), because
  a Lambda execution environment serves one request at a time. Concurrent requests get their
  own environment in Lambda; here each thread gets its own `current_request`.
- chalice's test client swaps `os.environ` around each call (not thread-safe): the fixture
  restores the real mapping afterwards.
- moto's in-process DynamoDB is not safe for concurrent calls (a cancelled transaction
  restores a deep copy of the whole table, which can undo another thread's write). Real
  DynamoDB applies each call atomically, so each AWS call is made atomic with a lock — the
  calls of different threads still interleave freely between one another, which is where
  the races of read-decide-write live.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from chalice import Chalice
from chalice.test import LambdaContext

from chalicelib.adapters.dynamodb.routing import RoutingRepository
from chalicelib.clock import FixedClock, parse_time
from tests.integration.routing_support import (
    configure,
    current_offer,
    lead,
    new_lead,
    record_queues,
    score_events,
    sqs_event,
    store,
)
from tests.support import World

THREADS = 50


class _PerThreadRequest:
    """`Chalice.current_request`, one per thread (as one Lambda environment per concurrent request)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        return getattr(self._local, "request", None)

    def __set__(self, obj: Any, value: Any) -> None:
        self._local.request = value


class _RaceClock(FixedClock):
    """A fixed clock that a thread may see shifted (accepting just before expiry, timing out just after)."""

    def __init__(self, base: FixedClock) -> None:
        super().__init__(base.now())
        self._shift = threading.local()

    def shift_this_thread(self, seconds: float) -> None:
        self._shift.seconds = seconds

    def now(self) -> datetime:
        return super().now() + timedelta(seconds=getattr(self._shift, "seconds", 0.0))


@pytest.fixture
def racing(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    from moto.core.botocore_stubber import BotocoreStubber

    monkeypatch.setattr(Chalice, "current_request", _PerThreadRequest(), raising=False)
    atomic = threading.RLock()
    original = BotocoreStubber.process_request

    def one_call_at_a_time(self: Any, request: Any) -> Any:
        with atomic:
            return original(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", one_call_at_a_time)
    clock = _RaceClock(world.clock)
    world.deps.clock = clock
    world.clock = clock
    # Built once before the threads start (cached properties).
    _ = (world.deps.table, world.deps.users, world.deps.accounts, world.deps.leads, world.deps.routing,
         world.deps.transactions, world.deps.notifications, world.deps.queues)
    # chalice's test client swaps os.environ for a copy around every call; concurrent swaps can leave a
    # copy in place after the test, so the real mapping is put back.
    environ = os.environ
    yield world
    os.environ = environ  # noqa: B003 - putting the original mapping object back is the point


def _run_all(jobs: list[Any]) -> list[Any]:
    start = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = jobs[i]()
        except Exception as exc:  # a crash is a result too: the assertions below show it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_fifty_accepts_race_to_one_winner(racing: World) -> None:
    world = racing
    record_queues(world)
    s = store(world, agents=3)
    configure(world, s, offer_timeout_seconds=120)
    created = new_lead(world, s)
    agent_id, offer = current_offer(world, s) or pytest.fail("no offer")
    token = s.token(agent_id)

    def accept() -> int:
        return world.post(f"/offers/{offer['offer_id']}/accept", token).status

    statuses = _run_all([accept] * THREADS)
    assert Counter(statuses) == {200: 1, 409: THREADS - 1}, Counter(map(str, statuses))
    after = lead(world, created.lead_id)
    assert after.assigned_to == agent_id and after.routing_state == "accepted"
    assert [e["reason"] for e in score_events(world, agent_id)] == ["accept"]


@pytest.mark.parametrize("timers_first", [False, True])
def test_accepts_and_timer_deliveries_race_to_one_winner(racing: World, timers_first: bool) -> None:
    world = racing
    clock = world.clock
    assert isinstance(clock, _RaceClock)
    queues = record_queues(world)
    s = store(world, agents=3)
    configure(world, s, offer_timeout_seconds=60)
    created = new_lead(world, s)
    agent_id, offer = current_offer(world, s) or pytest.fail("no offer")
    timer = queues.take("timers")[0]
    token = s.token(agent_id)
    # The shared clock sits at the expiry: accepting threads see it a moment before, timer threads a moment after.
    clock.set(parse_time(offer["expires_at"]))
    handler = _timers_handler()

    def accept() -> Any:
        clock.shift_this_thread(-0.5)
        if timers_first:
            # A head start for the timers (wall time, only to vary who gets there first).
            time.sleep(0.2)
        return world.post(f"/offers/{offer['offer_id']}/accept", token).status

    def deliver() -> Any:
        clock.shift_this_thread(+0.5)
        return handler(sqs_event([timer]), LambdaContext("routing_timers", memory_size=256))

    jobs = [accept if i % 2 == 0 else deliver for i in range(THREADS)]
    results = _run_all(jobs)
    accepts = [r for r, job in zip(results, jobs, strict=True) if job is accept]
    deliveries = [r for r, job in zip(results, jobs, strict=True) if job is deliver]
    assert set(map(type, accepts)) == {int}, accepts
    assert all(d == {"batchItemFailures": []} for d in deliveries), deliveries

    after = lead(world, created.lead_id)
    scores = [e["reason"] for e in score_events(world, agent_id)]
    closed = RoutingRepository(world.deps.table).offer(offer["offer_id"])
    assert closed is not None
    if accepts.count(200) == 1:
        assert Counter(accepts) == {200: 1, 409: len(accepts) - 1}
        assert (after.routing_state, after.assigned_to, scores, closed.state) == (
            "accepted", agent_id, ["accept"], "accepted")
    else:
        assert Counter(accepts) == {409: len(accepts)}
        assert (after.routing_state, after.assigned_to, scores, closed.state) == (
            "offered", None, ["timeout"], "timed_out")
        # exactly one next offer was made, to another agent
        clock.shift_this_thread(0)
        nxt = current_offer(world, s)
        assert nxt is not None and nxt[0] != agent_id
    assert after.routing_version == 2


def _timers_handler() -> Any:
    from app import app

    return app.handler_map["routing_timers"]
