"""The routing state machine, pure: fairness of the strategies, and random sequences of accept /
decline / timeout / duplicate and late timers / requeue / availability changes / direct assignment
played against an in-memory store that applies each outcome under the same conditions the
DynamoDB transaction states (lead version, offer pending, offer live or expired)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.clock import iso, parse_time
from chalicelib.domain import routing as rules
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.leads import Lead
from chalicelib.domain.routing import Context, Offer, Outcome, Rotation, RoutingConfig, RoutingRule
from chalicelib.domain.tenancy import Role
from chalicelib.domain.users import User

T0 = parse_time("2026-11-02T15:00:00Z")
STORE = "acc_1"


def _user(user_id: str, role: Role = Role.AGENT, teams: tuple[str, ...] = (), stores: tuple[str, ...] = (STORE,),
          available: bool = True) -> User:
    return User(user_id=user_id, group_id="grp_1", email=f"{user_id}@acme.com", name=user_id, role=role,
                account_ids=list(stores), teams=list(teams), available=available, created_at=iso(T0),
                updated_at=iso(T0))


def _lead(n: int = 0, source: str = "Web") -> Lead:
    return Lead(lead_id=f"lead_{n}", account_id=STORE, group_id="grp_1", source=source, created_at=iso(T0),
                received_at=iso(T0), last_activity_at=iso(T0))


# -- fairness --------------------------------------------------------------------------------------

def _first_offers(config: RoutingConfig, users: dict[str, User], leads: int) -> Counter[str]:
    """Route `leads` leads one after another (each accepted at once); count who got each first offer."""
    rotation = Rotation()
    firsts: Counter[str] = Counter()
    for n in range(leads):
        step = rules.next_step(_lead(n), Context(config, users, rotation), rules.Progress(), T0)
        assert step.kind == "offer" and step.agent_id and step.rotation
        firsts[step.agent_id] += 1
        rotation = step.rotation
    return firsts


def test_round_robin_gives_three_agents_a_hundred_first_offers_each_of_300() -> None:
    users = {u: _user(u) for u in ("usr_a", "usr_b", "usr_c")}
    firsts = _first_offers(RoutingConfig(account_id=STORE), users, 300)
    assert firsts == {"usr_a": 100, "usr_b": 100, "usr_c": 100}


def test_weights_three_to_one_over_400_leads_give_300_and_100() -> None:
    users = {u: _user(u, teams=("sales",)) for u in ("usr_a", "usr_b")}
    config = RoutingConfig(account_id=STORE, strategy="weighted",
                           rules=[RoutingRule(team="sales", weights={"usr_a": 3, "usr_b": 1})])
    firsts = _first_offers(config, users, 400)
    assert abs(firsts["usr_a"] - 300) <= 20 and firsts["usr_a"] + firsts["usr_b"] == 400
    # smooth: never more than three in a row for the heavy agent, never two in a row for the light one
    rotation, run, previous = Rotation(), 0, ""
    for n in range(400):
        step = rules.next_step(_lead(n), Context(config, users, rotation), rules.Progress(), T0)
        assert step.rotation and step.agent_id
        rotation = step.rotation
        run = run + 1 if step.agent_id == previous else 1
        previous = step.agent_id
        assert run <= (3 if previous == "usr_a" else 1)


# Up to 300 routing decisions an example: on a shared 2-core machine one took 251 ms (the default
# deadline is 200 ms); the property is about the weights, not the time.
@settings(deadline=None)
@given(weights=st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=6),
       leads=st.integers(min_value=1, max_value=300))
def test_weighted_picks_follow_the_weights_within_one_round(weights: list[int], leads: int) -> None:
    ids = [f"usr_{i}" for i in range(len(weights))]
    users = {u: _user(u, teams=("t",)) for u in ids}
    config = RoutingConfig(account_id=STORE, strategy="weighted",
                           rules=[RoutingRule(team="t", weights=dict(zip(ids, weights, strict=True)))])
    firsts = _first_offers(config, users, leads)
    total = sum(weights)
    for user_id, weight in zip(ids, weights, strict=True):
        assert abs(firsts[user_id] - leads * weight / total) <= len(ids)


@given(st.lists(st.tuples(st.integers(0, 4), st.booleans()), max_size=200))
def test_round_robin_stays_even_for_agents_always_available(toggles: list[tuple[int, bool]]) -> None:
    """Others come and go; agents who stay available differ by at most one first offer."""
    steady = {"usr_s1", "usr_s2"}
    users = {u: _user(u) for u in [*steady, "usr_x0", "usr_x1", "usr_x2", "usr_x3", "usr_x4"]}
    rotation = Rotation()
    firsts: Counter[str] = Counter()
    for n, (who, available) in enumerate(toggles):
        users[f"usr_x{who}"] = users[f"usr_x{who}"].model_copy(update={"available": available})
        step = rules.next_step(_lead(n), Context(RoutingConfig(account_id=STORE), users, rotation), rules.Progress(),
                               T0)
        assert step.agent_id is not None and step.rotation is not None
        assert users[step.agent_id].available
        rotation = step.rotation
        firsts[step.agent_id] += 1
    assert abs(firsts["usr_s1"] - firsts["usr_s2"]) <= 1


# -- the state machine against an in-memory store ------------------------------------------------------

USERS = ("usr_a", "usr_b", "usr_c", "usr_d")  # a, b on team "used"
CATCHALL = ("usr_boss", "usr_bdc")


@dataclass
class Store:
    """The lead, its offers and the rotation, changed only under the transaction's conditions."""

    config: RoutingConfig
    users: dict[str, User]
    lead: Lead
    now: datetime = T0
    rotation: Rotation = field(default_factory=Rotation)
    offers: dict[str, Offer] = field(default_factory=dict)
    timers: list[str] = field(default_factory=list)
    claims: list[tuple[str, str]] = field(default_factory=list)
    made: list[Offer] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)

    def ctx(self) -> Context:
        return Context(self.config, dict(self.users), self.rotation)

    def commit(self, read: Lead, outcome: Outcome | None, rotation_read: Rotation | None = None) -> bool:
        """Apply an outcome decided on `read`, as the transaction would: all or nothing."""
        if outcome is None:
            return False
        if read.version != self.lead.version:
            return False  # the lead item's condition
        decision = outcome.decision
        if decision is not None:
            offer = self.offers[decision.offer_id]
            expired = self.now >= parse_time(offer.expires_at)
            if offer.state != "pending" or expired != (decision.requires == "expired"):
                return False  # the offer item's condition
        step = outcome.step
        if step is not None and step.rotation is not None and rotation_read is not None \
                and rotation_read.rev != self.rotation.rev:
            return False  # the rotation item's condition
        if not outcome.lead_updates and step is None:
            # bookkeeping only (a superseded offer): the service closes it without touching the lead
            if decision is not None:
                self.offers[decision.offer_id] = self.offers[decision.offer_id].model_copy(
                    update={"state": decision.state})
            return False
        if decision is not None:
            self.offers[decision.offer_id] = self.offers[decision.offer_id].model_copy(update={"state": decision.state})
        self.lead = self.lead.model_copy(update={**outcome.lead_updates, "version": self.lead.version + 1})
        if step is not None and step.kind == "offer":
            assert step.agent_id and step.expires_at
            self._check_offer_target(step)
            offer = Offer(offer_id=f"ofr_{len(self.made)}", lead_id=self.lead.lead_id, account_id=STORE,
                          group_id="grp_1", agent_id=step.agent_id, routing_version=self.lead.routing_version,
                          made_at=iso(self.now), expires_at=iso(step.expires_at), catchall=step.catchall,
                          progress=step.progress)
            self.offers[offer.offer_id] = offer
            self.made.append(offer)
            self.timers.append(offer.offer_id)
            if step.rotation is not None:
                self.rotation = step.rotation.model_copy(update={"rev": self.rotation.rev + 1})
        if self.lead.routing_state in ("accepted", "assigned"):
            self.claims.append((self.lead.routing_state, self.lead.assigned_to or ""))
        return True

    def _check_offer_target(self, step: rules.Step) -> None:
        """Never an offer to an away, deleted, other-store or non-matching agent."""
        user = self.users[step.agent_id or ""]
        assert user.available and not user.deleted and STORE in user.account_ids
        if step.catchall:
            assert user.user_id in self.config.catchall_user_ids
        else:
            _, rule = self.config.rule_for(self.lead)
            assert user.user_id in {u.user_id for u in rules.pool(rule, list(self.users.values()), STORE)}

    def live_offers(self) -> list[Offer]:
        return [o for o in self.offers.values() if o.state == "pending"
                and o.routing_version == self.lead.routing_version and self.lead.routing_state == "offered"]

    def current(self) -> Offer | None:
        live = self.live_offers()
        return live[0] if live else None

    # -- what happens to it --------------------------------------------------------------------------

    def agent_answers(self, verb: str, agent: str, stale: Lead | None) -> None:
        read = stale or self.lead
        mine = [o for o in self.offers.values() if o.agent_id == agent]
        if not mine:
            return
        offer = mine[-1]
        try:
            if verb == "accept":
                outcome = rules.accept(read, self.offers[offer.offer_id], agent, self.now)
                rotation_read = None
            else:
                rotation_read = self.rotation
                outcome = rules.decline(read, self.offers[offer.offer_id], agent, "busy", self.ctx(), self.now)
        except (Conflict, NotFound):
            self.refused[verb] += 1
            return
        self.commit(read, outcome, rotation_read)

    def deliver_timer(self, offer_id: str) -> None:
        read, rotation_read = self.lead, self.rotation
        self.commit(read, rules.time_out(read, self.offers[offer_id], self.ctx(), self.now), rotation_read)

    def requeue(self, agent: str) -> None:
        try:
            outcome = rules.requeue(self.lead, self.users[agent])
        except (Conflict, NotFound):
            self.refused["requeue"] += 1
            return
        self.commit(self.lead, outcome)

    def assign(self, agent: str) -> None:
        """POST /leads/{id}/assign as the leads work does it: new routing_version, state assigned."""
        self.lead = self.lead.model_copy(update={
            "assigned_to": agent, "routing_state": "assigned", "routing_version": self.lead.routing_version + 1,
            "version": self.lead.version + 1})
        self.claims.append(("assigned", agent))


AGENT = st.sampled_from(USERS + CATCHALL)
ACTIONS = st.lists(st.one_of(
    st.tuples(st.just("accept"), AGENT, st.booleans()),
    st.tuples(st.just("decline"), AGENT, st.booleans()),
    st.tuples(st.just("timeout")),
    st.tuples(st.just("duplicate_timer")),
    st.tuples(st.just("late_timer"), st.integers(0, 20)),
    st.tuples(st.just("wait"), st.integers(1, 400)),
    st.tuples(st.just("requeue"), AGENT),
    st.tuples(st.just("availability"), AGENT, st.booleans()),
    st.tuples(st.just("assign"), AGENT),
), max_size=40)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=ACTIONS, strategy=st.sampled_from(["round_robin", "weighted"]),
       source=st.sampled_from(["AutoTrader", "Web"]), away=st.sets(AGENT, max_size=3))
def test_random_routing_histories_keep_the_invariants(actions: list[tuple], strategy: str, source: str,
                                                      away: set[str]) -> None:
    users = {u: _user(u, teams=("used",) if u in ("usr_a", "usr_b") else (), available=u not in away)
             for u in USERS}
    users |= {u: _user(u, role=Role.MANAGER, available=u not in away) for u in CATCHALL}
    users["usr_elsewhere"] = _user("usr_elsewhere", stores=("acc_2",))
    config = RoutingConfig(account_id=STORE, offer_timeout_seconds=300, strategy=strategy,  # type: ignore[arg-type]
                           rules=[RoutingRule(match=rules.RuleMatch(source="autotrader"), team="used",
                                              weights={"usr_a": 3})],
                           catchall_user_ids=list(CATCHALL))
    store = Store(config, users, _lead(source=source))
    start = rules.start(store.lead, store.ctx(), store.now)
    assert start is not None
    store.commit(store.lead, start, store.rotation)
    snapshots = [store.lead]

    for action in actions:
        verb = action[0]
        if verb in ("accept", "decline"):
            stale = snapshots[0] if action[2] else None  # answering from a lead read long ago
            store.agent_answers(verb, action[1], stale)
        elif verb == "timeout":
            live = store.current()
            if live is not None:
                store.now = max(store.now, parse_time(live.expires_at))
                store.deliver_timer(live.offer_id)
        elif verb == "duplicate_timer" and store.timers:
            store.deliver_timer(store.timers[-1])
        elif verb == "late_timer" and store.timers:
            store.deliver_timer(store.timers[action[1] % len(store.timers)])
        elif verb == "wait":
            store.now += timedelta(seconds=action[1])
        elif verb == "requeue":
            store.requeue(action[1])
        elif verb == "availability":
            store.users[action[1]] = store.users[action[1]].model_copy(update={"available": action[2]})
        elif verb == "assign" and store.lead.routing_state not in ("accepted", "assigned"):
            store.assign(action[1])
        snapshots.append(store.lead)
        _check(store)

    # Whatever happened, the lead ends accepted, assigned or delinquent once the timers have run.
    for _ in range(len(USERS) + len(CATCHALL) + 1):
        live = store.current()
        if live is None:
            break
        store.now = max(store.now, parse_time(live.expires_at))
        store.deliver_timer(live.offer_id)
        _check(store)
    assert store.lead.routing_state in ("accepted", "assigned", "delinquent")
    assert store.current() is None


def _check(store: Store) -> None:
    lead = store.lead
    # never two owners: one claim at most over the lead's whole life
    assert len(store.claims) <= 1, store.claims
    assert (lead.assigned_to is not None) == (lead.routing_state in ("accepted", "assigned"))
    if store.claims:
        assert lead.assigned_to == store.claims[0][1]
    # one live offer exactly while offered, none otherwise
    assert len(store.live_offers()) == (1 if lead.routing_state == "offered" else 0)
    # nobody is offered the same lead twice in one run (per phase)
    made = [(o.agent_id, o.catchall) for o in store.made]
    assert len(made) == len(set(made))


def test_a_timeout_after_closing_waits_for_the_opening_and_keeps_who_was_tried() -> None:
    from chalicelib.domain.business_hours import BusinessHours

    # New York, Monday 2 Nov 2026: open 09:00-10:05 local (14:00-15:05Z), then Tuesday 09:00.
    hours = BusinessHours("America/New_York", {"mon": [["09:00", "10:05"]], "tue": [["09:00", "18:00"]]})
    users = {u: _user(u) for u in ("usr_a", "usr_b")}
    config = RoutingConfig(account_id=STORE, offer_timeout_seconds=600, respect_business_hours=True)
    ctx = Context(config, users, Rotation(), hours)
    lead = _lead()
    first = rules.start(lead, ctx, T0)
    assert first is not None and first.step is not None and first.step.kind == "offer"
    lead = lead.model_copy(update={**first.lead_updates, "version": 1})
    offer = Offer(offer_id="ofr_1", lead_id=lead.lead_id, account_id=STORE, group_id="grp_1",
                  agent_id=first.step.agent_id or "", routing_version=lead.routing_version, made_at=iso(T0),
                  expires_at=iso(first.step.expires_at or T0), progress=first.step.progress)
    later = T0 + timedelta(minutes=10)  # 15:10Z: closed
    timed_out = rules.time_out(lead, offer, ctx, later)
    assert timed_out is not None and timed_out.step is not None
    assert timed_out.step.kind == "wait" and timed_out.step.opens_at == parse_time("2026-11-03T14:00:00Z")
    assert timed_out.lead_updates["routing_state"] == "routing"
    assert [r.kind for r in timed_out.scores] == ["timeout"]
    lead = lead.model_copy(update={**timed_out.lead_updates, "version": 2})
    waiting = rules.Waiting(lead_id=lead.lead_id, account_id=STORE, routing_version=lead.routing_version,
                            opens_at="2026-11-03T14:00:00.000Z", progress=timed_out.step.progress)
    assert rules.resume(lead, waiting, ctx, parse_time("2026-11-03T13:59:59Z")) is None
    resumed = rules.resume(lead, waiting, ctx, parse_time("2026-11-03T14:00:00Z"))
    assert resumed is not None and resumed.step is not None and resumed.waiting_done
    assert resumed.step.kind == "offer" and resumed.step.agent_id != offer.agent_id
