"""Random routing histories through the real services and DynamoDB conditions (moto): accept,
decline, timeout, duplicate and late timers, requeue, availability changes and direct assignment.

The pure state machine gets hundreds of histories in tests/unit/test_routing_state_machine.py;
these fewer, longer ones check that the stored items (offers, rotation, lead versions) and their
conditions keep the same invariants: never two owners, never an offer to an away or
non-matching agent, one live offer exactly while `offered`, and every lead ending accepted,
assigned or delinquent."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from chalicelib.adapters.dynamodb.leads import LeadRepository
from chalicelib.adapters.dynamodb.routing import RoutingRepository
from chalicelib.clock import iso, parse_time
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.services import due, lead_edits
from chalicelib.services import routing as service
from tests.fakes import FakeQueues
from tests.integration.routing_support import add_user, configure, new_lead, store
from tests.support import World

_stores = itertools.count()

ACTION = st.one_of(
    st.tuples(st.just("accept"), st.integers(0, 3)),
    st.tuples(st.just("decline"), st.integers(0, 3)),
    st.tuples(st.just("timeout")),
    st.tuples(st.just("duplicate_timer")),
    st.tuples(st.just("late_timer"), st.integers(0, 9)),
    st.tuples(st.just("requeue"), st.integers(0, 3)),
    st.tuples(st.just("availability"), st.integers(0, 3), st.booleans()),
    st.tuples(st.just("assign"), st.integers(0, 3)),
    st.tuples(st.just("wait"), st.integers(1, 200)),
)


# No shrinking: under moto a shrink can take many minutes; a failure prints its unshrunk history.
@settings(max_examples=10, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(actions=st.lists(ACTION, max_size=14), source=st.sampled_from(["AutoTrader", "Web"]),
       away=st.sets(st.integers(0, 3), max_size=2))
def test_random_histories_through_the_services(world: World, actions: list[tuple[Any, ...]], source: str,
                                               away: set[int]) -> None:
    queues = FakeQueues()
    world.deps.queues = queues  # type: ignore[assignment]
    domain = f"prop{next(_stores)}.com"
    s = store(world, agents=0, domain=domain)
    people = [add_user(world, s, f"used{i}@{domain}", teams=["used"]) for i in range(2)]
    people.append(add_user(world, s, f"plain@{domain}"))
    people.append(add_user(world, s, f"boss@{domain}", role="manager"))
    ids = [p["user_id"] for p in people]
    configure(world, s, offer_timeout_seconds=120,
              rules=[{"match": {"source": "AutoTrader"}, "team": "used"}], catchall_user_ids=[ids[3]])
    available = {uid: True for uid in ids}
    for i in away:
        _set_available(world, ids[i], False, available)

    history = History(world, s.account_id, ids, available)
    created = new_lead(world, s, source=source)
    history.lead_id = created.lead_id
    history.check()
    timers: list[dict[str, Any]] = []

    for action in actions:
        world.clock.advance(1)
        timers += queues.take("timers")
        verb = action[0]
        if verb in ("accept", "decline"):
            history.answer(verb, ids[action[1]])
        elif verb == "timeout":
            live = history.live_offer()
            if live is not None:
                world.clock.set(max(world.clock.now(), parse_time(live.expires_at)))
                service.expire_offer(world.deps, live.offer_id)
        elif verb == "duplicate_timer" and timers:
            due.handle_timer(world.deps, _timer(timers[-1]))
        elif verb == "late_timer" and timers:
            due.handle_timer(world.deps, _timer(timers[action[1] % len(timers)]))
        elif verb == "requeue":
            history.claim(lambda uid=ids[action[1]]: service.requeue_lead(world.deps, _principal(world, uid),
                                                                           created.lead_id))
        elif verb == "availability":
            _set_available(world, ids[action[1]], action[2], available)
        elif verb == "assign":
            history.assign(lambda uid=ids[action[1]]: lead_edits.assign(
                world.deps, _principal(world, s.tenant.admin_id), created.lead_id, uid))
        elif verb == "wait":
            world.clock.advance(action[1])
        history.check()

    for _ in range(len(ids) * 2 + 1):
        live = history.live_offer()
        if live is None:
            break
        world.clock.set(max(world.clock.now(), parse_time(live.expires_at)))
        due.sweep_due(world.deps)
        history.check()
    final = LeadRepository(world.deps.table).require(created.lead_id)
    assert final.routing_state in ("accepted", "assigned", "delinquent")
    assert history.live_offer() is None


def _timer(body: dict[str, Any]) -> Any:
    """A timers-queue body as the consumer parses it."""
    from pydantic import TypeAdapter

    from chalicelib.schemas.queues import Timer

    return TypeAdapter(Timer).validate_python(body)


def _principal(world: World, user_id: str) -> Any:
    user = world.deps.users.get(user_id)
    assert user is not None
    return user.principal()


def _set_available(world: World, user_id: str, value: bool, available: dict[str, bool]) -> None:
    world.deps.users.set_available(user_id, value, iso(world.clock.now()))
    available[user_id] = value


class History:
    """What the test saw happen, and the invariants checked after every step."""

    def __init__(self, world: World, account_id: str, ids: list[str], available: dict[str, bool]) -> None:
        self.world, self.account_id, self.ids, self.available = world, account_id, ids, available
        self.lead_id = ""
        self.claims: list[str] = []
        self.offers_seen = 0

    def claim(self, action: Any) -> None:
        try:
            lead = action()
        except (Conflict, NotFound):
            return
        self.claims.append(lead.assigned_to)

    def assign(self, action: Any) -> None:
        """A manager gives the lead to someone: its one owner from now on, whoever had it before."""
        try:
            lead = action()
        except (Conflict, NotFound):
            return
        self.claims = [lead.assigned_to]

    def answer(self, verb: str, user_id: str) -> None:
        mine = service.my_offers(self.world.deps, _principal(self.world, user_id), 50, None)[0]
        offer_id = mine[0].offer_id if mine else self._any_offer_of(user_id)
        if offer_id is None:
            return
        principal = _principal(self.world, user_id)
        if verb == "accept":
            self.claim(lambda: service.accept_offer(self.world.deps, principal.record.caller(), offer_id))
        else:
            try:
                service.decline_offer(self.world.deps, principal.record.caller(), offer_id, "busy")
            except (Conflict, NotFound):
                return

    def _any_offer_of(self, user_id: str) -> str | None:
        """A decided or superseded offer of this agent (answering it must be refused)."""
        for event in LeadRepository(self.world.deps.table).timeline(self.lead_id):
            if event.data.get("action") == "made" and event.data.get("agent") == user_id:
                return str(event.data["offer_id"])
        return None

    def live_offer(self) -> Any:
        """The lead's open offer: the latest one made, still pending at the lead's routing version
        (it may have expired and be waiting for its timer)."""
        lead = LeadRepository(self.world.deps.table).require(self.lead_id)
        made = [e for e in LeadRepository(self.world.deps.table).timeline(self.lead_id)
                if e.type == "offer" and e.data.get("action") == "made"]
        if not made:
            return None
        offer = RoutingRepository(self.world.deps.table).offer(str(made[-1].data["offer_id"]))
        if offer is None or offer.state != "pending" or offer.routing_version != lead.routing_version:
            return None
        return offer

    def listed_offers(self) -> list[Any]:
        return [o for uid in self.ids
                for o in service.my_offers(self.world.deps, _principal(self.world, uid), 50, None)[0]
                if o.lead_id == self.lead_id]

    def check(self) -> None:
        lead = LeadRepository(self.world.deps.table).require(self.lead_id)
        assert len(self.claims) <= 1, self.claims  # never two owners
        assert (lead.assigned_to is not None) == (lead.routing_state in ("accepted", "assigned"))
        if self.claims:
            assert lead.assigned_to == self.claims[0]
        live = self.live_offer()
        assert (live is not None) == (lead.routing_state == "offered")
        listed = self.listed_offers()
        # listed to its agent while not expired; never an older or a superseded one
        expected = [live.offer_id] if live is not None and not live.expired(self.world.clock.now()) else []
        assert [o.offer_id for o in listed] == expected
        made = [e for e in LeadRepository(self.world.deps.table).timeline(self.lead_id)
                if e.type == "offer" and e.data.get("action") == "made"]
        for event in made[self.offers_seen:]:
            agent = event.data["agent"]
            assert self.available[agent], "offered to an away agent"
            if event.data["catchall"]:
                assert agent == self.ids[3]
            else:
                source = lead.source
                pool = self.ids[:2] if source == "AutoTrader" else self.ids[:3]
                assert agent in pool, "offered to an agent the rules do not route to"
        self.offers_seen = len(made)
        pairs = [(e.data["agent"], e.data["catchall"]) for e in made]
        assert len(pairs) == len(set(pairs)), "offered to the same agent twice in one run"
