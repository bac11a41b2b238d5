"""A hypothesis property over the assistant on fakes: random interleavings of step timers (late,
early, repeated), the every-minute sweep, customer replies, STOP / START, stop / resume messaging,
skip to follow-up, an appointment, status changes, the outbox handing messages over, and the clock.

Whatever the order: no step is written after a stop condition (until resume-messaging undoes the
only one it may), no step is written twice, and nothing reaches the sender while the lead is opted
out."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import DomainError
from chalicelib.domain.inbound import InboundMessage
from chalicelib.schemas.leads import UpdateLeadRequest
from chalicelib.schemas.queues import Timer
from chalicelib.services import appointments, due, inbound, lead_actions, lead_edits, outbox
from tests.unit.services.cadence_support import TIMERS, make_cadence, step_messages
from tests.unit.services.shop import STORE_NUMBER, Shop, shop

STEPS = ((0, "first_touch"), (30, "first_touch"), (600, "follow_up"), (3600, "follow_up"))

OPS = st.one_of(
    st.tuples(st.just("advance"), st.integers(1, 7200)),
    st.tuples(st.just("timer"), st.integers(0, 50), st.booleans()),  # which pending timer; keep it (a repeat)
    st.tuples(st.just("sweep"), st.none()),
    st.tuples(st.just("deliver"), st.none()),
    st.tuples(st.just("reply"), st.sampled_from(["Is it still there?", "STOP", "START", "HELP"])),
    st.tuples(st.just("stop_messaging"), st.none()),
    st.tuples(st.just("resume_messaging"), st.none()),
    st.tuples(st.just("skip"), st.none()),
    st.tuples(st.just("appointment"), st.none()),
    st.tuples(st.just("status"), st.sampled_from(["hot", "sold", "dead", "follow_up", "cold"])),
)


class Oracle:
    """What must hold the enrolment back, as the operations say (not as the code decides)."""

    def __init__(self) -> None:
        self.causes: set[str] = set()

    @property
    def halted(self) -> bool:
        return bool(self.causes)


def _harvest(s: Shop, pool: list[Timer]) -> None:
    queue = s.deps.queues
    pool += [TIMERS.validate_python(body) for name, body, _ in queue.sent if name == "timers"]  # type: ignore[attr-defined]
    queue.sent = [m for m in queue.sent if m[0] != "timers"]  # type: ignore[attr-defined]


def _sent(s: Shop) -> int:
    return len(s.deps.sender.sent)  # type: ignore[attr-defined]


def _apply(s: Shop, lead_id: str, op: tuple[Any, ...], pool: list[Timer], oracle: Oracle, n: int) -> None:
    kind, arg = op[0], op[1]
    assert s.manager is not None
    manager = s.principal(s.manager)
    lead = s.current(lead_id)
    if kind == "advance":
        s.clock.advance(arg)
    elif kind == "timer" and pool:
        timer = pool[arg % len(pool)]
        if not op[2]:
            pool.remove(timer)
        due.handle_timer(s.deps, timer)
    elif kind == "sweep":
        due.sweep_due(s.deps)
        outbox.sweep_due(s.deps)
    elif kind == "deliver":
        for body in s.queued("outbox"):
            if body.get("kind") == "message":
                outbox.deliver(s.deps, body["message_id"])
    elif kind == "reply":
        inbound.receive(s.deps, s.account.account_id, InboundMessage(
            provider="twilio", provider_id=f"SM{n:032d}", channel="sms", sender="+13125550177",
            recipient=STORE_NUMBER, body=arg, received_at=s.clock.now().isoformat()))
        oracle.causes.add("opted_out" if arg == "STOP" else "replied")
    elif kind == "stop_messaging":
        lead_actions.stop_messaging(s.deps, manager, lead_id)
        oracle.causes.add("staff")
    elif kind == "resume_messaging":
        lead_actions.resume_messaging(s.deps, manager, lead_id)
        oracle.causes.discard("staff")
    elif kind == "skip":
        with contextlib.suppress(DomainError):  # no follow-up step left, or a status that cannot move
            lead_actions.skip_to_follow_up(s.deps, manager, lead_id)
    elif kind == "appointment":
        appointments.create_appointment(s.deps, manager, lead_id, "2027-01-05T16:00:00Z", None)
        oracle.causes.add("appointment")
    elif kind == "status":
        try:
            lead_edits.update_lead(s.deps, manager, lead_id, UpdateLeadRequest(status=arg))
        except DomainError:
            return  # a move the status rules refuse
        if arg in ("sold", "dead") and lead.status_folder != arg:
            oracle.causes.add(arg)


@settings(max_examples=int(os.environ.get("CADENCE_EXAMPLES", "120")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPS, min_size=1, max_size=40))
def test_no_step_after_a_stop_none_twice_and_nothing_to_an_opted_out_lead(ops: list[tuple[Any, ...]]) -> None:
    s = shop()
    make_cadence(s, *STEPS)
    lead_id = s.lead().lead_id
    pool: list[Timer] = []
    oracle = Oracle()
    _harvest(s, pool)
    for n, op in enumerate(ops):
        steps_before = len(step_messages(s, lead_id))
        halted_before = oracle.halted
        opted_out_before = s.current(lead_id).opted_out
        sent_before = _sent(s)
        _apply(s, lead_id, op, pool, oracle, n)
        _harvest(s, pool)
        if halted_before:
            assert len(step_messages(s, lead_id)) == steps_before, f"a step after a stop condition: {op}"
        if opted_out_before:
            assert _sent(s) == sent_before, f"a message reached the sender of an opted-out lead: {op}"
        steps = [m["step"] for m in step_messages(s, lead_id)]
        assert len(steps) == len(set(steps)), f"a step written twice: {steps}"
        enrolment = s.current(lead_id).cadence
        assert enrolment is not None
        if oracle.halted:
            assert not enrolment.active, f"still active after {sorted(oracle.causes)}"
