"""Follow-through under random play, on fakes: sequences of accept / decline / customer message /
the owner's answer / time passing / any timer ever sent delivered again (late, duplicate, out of
order) / the sweep / agents turning (un)available, under both `on_miss` settings. After every step
and at the end:
- never two owners: an owned lead has no pending offer, an unowned one at most one;
- a deadline answered in time is never reported missed, and it is reported met;
- every deadline is decided at most once (met or missed), and under `reoffer` every miss takes the
  lead from its owner exactly once (one `reassigned` / `lead_reoffered` per miss);
- once time has run out and the sweep has run, every deadline was decided."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from chalicelib.clock import parse_time
from chalicelib.domain.errors import Conflict
from chalicelib.domain.inbound import InboundMessage
from chalicelib.domain.targets import ResponseTargets
from chalicelib.schemas.queues import Timer
from chalicelib.schemas.tenancy import UpdateMeRequest
from chalicelib.services import due, inbound, messaging, routing, users
from tests.unit.services.shop import STORE_NUMBER, Shop, shop

TIMERS: TypeAdapter[Any] = TypeAdapter(Timer)

ACTIONS = st.one_of(
    st.tuples(st.just("accept"), st.integers(0, 2)),
    st.tuples(st.just("decline"), st.integers(0, 2)),
    st.tuples(st.just("customer"), st.integers(0, 0)),
    st.tuples(st.just("answer"), st.integers(0, 0)),
    st.tuples(st.just("wait"), st.integers(1, 200)),
    st.tuples(st.just("timer"), st.integers(0, 10_000)),
    st.tuples(st.just("sweep"), st.integers(0, 0)),
    st.tuples(st.just("availability"), st.integers(0, 2)),
)


@dataclass
class Play:
    s: Shop
    lead_id: str
    timers: list[Any] = field(default_factory=list)
    deadlines: dict[int, tuple[str, str]] = field(default_factory=dict)  # version -> (owner, due_at)
    in_time: set[int] = field(default_factory=set)
    sent: int = 0

    def collect(self) -> None:
        """Keep every timer ever sent (a queue may deliver any of them again, at any time)."""
        self.timers += [TIMERS.validate_python(t) for t in self.s.queued("timers")]
        lead = self.s.current(self.lead_id)
        if lead.deadline is not None:
            self.deadlines.setdefault(lead.deadline.version, (lead.deadline.owner, lead.deadline.due_at))

    def pending(self) -> list[Any]:
        return [o for o in self.s.deps.state.offers.values() if o.lead_id == self.lead_id and o.state == "pending"]


def _step(play: Play, action: str, n: int) -> None:
    s = play.s
    lead = s.current(play.lead_id)
    if action in ("accept", "decline"):
        for offer in play.pending():
            agent = next(a for a in s.agents if a.user_id == offer.agent_id)
            try:
                if action == "accept":
                    routing.accept_offer(s.deps, agent.caller(), offer.offer_id)
                else:
                    routing.decline_offer(s.deps, agent.caller(), offer.offer_id, "busy")
            except Conflict:
                pass  # expired meanwhile: the timer or the sweep moves it on
    elif action == "customer":
        play.sent += 1
        msg = InboundMessage(provider="twilio", provider_id=f"SM{play.sent:032d}", channel="sms",
                             sender="+13125550177", recipient=STORE_NUMBER, body=f"question {play.sent}",
                             received_at=s.clock.now().isoformat())
        inbound.receive(s.deps, s.account.account_id, msg)
    elif action == "answer" and lead.assigned_to is not None:
        owner = next(a for a in s.agents if a.user_id == lead.assigned_to)
        deadline = lead.deadline
        if deadline is not None and not deadline.missed and s.clock.now() < parse_time(deadline.due_at):
            play.in_time.add(deadline.version)
        messaging.send_message(s.deps, owner.principal(), play.lead_id, body="Happy to help")
    elif action == "wait":
        s.clock.advance(n)
    elif action == "timer" and play.timers:
        due.handle_timer(s.deps, play.timers[n % len(play.timers)])
    elif action == "sweep":
        due.sweep_due(s.deps)
    elif action == "availability":
        agent = s.deps.users.get(s.agents[n].user_id)
        assert agent is not None
        users.update_me(s.deps, agent.principal(), UpdateMeRequest(available=not agent.available))
    play.collect()


def _check(play: Play, finished: bool = False) -> None:
    s = play.s
    lead = s.current(play.lead_id)
    pending = play.pending()
    assert len(pending) <= (0 if lead.assigned_to else 1), (lead.assigned_to, pending)
    decided: dict[int, list[str]] = {}
    for event in s.deps.state.reports:
        if event.kind in ("target_met", "target_missed"):
            decided.setdefault(event.data["version"], []).append(event.kind)
    assert all(len(kinds) == 1 for kinds in decided.values()), decided
    for version in play.in_time:
        assert decided.get(version) == ["target_met"], (version, decided)
    missed = [e for e in s.deps.state.reports if e.kind == "target_missed" and e.data.get("on_miss") == "reoffer"]
    reoffered = [e for e in s.deps.state.reports if e.kind == "lead_reoffered"]
    moved = [e for e in s.deps.leads.timeline(play.lead_id) if e.type == "reassigned"]
    assert len(missed) == len(reoffered) == len(moved)
    if finished:
        assert set(decided) == set(play.deadlines), (decided, play.deadlines)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(on_miss=st.sampled_from(["notify_managers", "reoffer"]), warn=st.sampled_from([0, 30]),
       actions=st.lists(ACTIONS, min_size=1, max_size=40))
def test_random_play_keeps_one_owner_and_decides_each_deadline_once(on_miss: str, warn: int,
                                                                      actions: list[tuple[str, int]]) -> None:
    targets = ResponseTargets(first_response_seconds=120, reply_seconds=60, warn_before_seconds=warn,
                              on_miss=on_miss)  # type: ignore[arg-type]
    s = shop(agents=3, timeout_seconds=90, response_targets=targets)
    play = Play(s, s.lead().lead_id)
    play.collect()
    for action, n in actions:
        _step(play, action, n)
        _check(play)
    # Time runs out: whatever still runs is decided by the sweep (its timers may be long lost).
    for _ in range(3):
        s.clock.advance(3_600)
        due.sweep_due(s.deps)
        play.collect()
    lead = s.current(play.lead_id)
    if lead.deadline is not None and on_miss == "reoffer":
        raise AssertionError(f"a deadline still runs after the sweep: {lead.deadline}")
    _check(play, finished=True)
