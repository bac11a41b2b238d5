"""Accepting and declining an offer authorise the caller on their record read together with the offer
(no read of its own for authentication), and the transaction holds that record: a caller removed or
changed between the read and the write is refused exactly as the authenticator refuses them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from chalicelib.clock import iso
from chalicelib.services import users as user_service
from tests.integration.routing_support import Store, current_offer, lead, new_lead, record_queues, store
from tests.support import World, dynamodb_calls


def _offered(world: World, agents: int = 2) -> tuple[Store, str, dict[str, Any]]:
    record_queues(world)
    s = store(world, agents=agents)
    new_lead(world, s)
    agent_id, offer = current_offer(world, s) or pytest.fail("no offer")
    return s, agent_id, offer


def _accept(world: World, offer: dict[str, Any], token: str, **kw: Any) -> Any:
    return world.post(f"/offers/{offer['offer_id']}/accept", token, **kw)


def _still_open(world: World, offer: dict[str, Any]) -> None:
    """Nothing of a refused accept landed: the lead is still offered, the offer still pending."""
    current = lead(world, offer["lead_id"])
    assert (current.routing_state, current.assigned_to) == ("offered", None)
    stored = world.deps.routing.offer(offer["offer_id"])
    assert stored is not None and stored.state == "pending"


class _Meanwhile:
    """A port of deps doing `then` once when its `method` is called: for accept the lead's read
    (`leads.with_store`), for decline the pool's (`routing.store_routing`): after the caller's record
    was read with the offer, before the transaction."""

    def __init__(self, port: Any, method: str, then: Callable[[], None]) -> None:
        self.port, self.method = port, method
        self.then: Callable[[], None] | None = then

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.port, name)
        if name != self.method:
            return found

        def once(*args: Any, **kwargs: Any) -> Any:
            if self.then is not None:
                then, self.then = self.then, None
                then()
            return found(*args, **kwargs)

        return once


@contextmanager
def _meanwhile(world: World, then: Callable[[], None], port: str = "leads",
               method: str = "with_store") -> Iterator[_Meanwhile]:
    original = getattr(world.deps, port)
    hooked = _Meanwhile(original, method, then)
    setattr(world.deps, port, hooked)
    try:
        yield hooked
    finally:
        setattr(world.deps, port, original)


def _admin(world: World, s: Store) -> Any:
    admin = world.deps.users.get(s.tenant.admin_id)
    assert admin is not None
    return admin.principal()


def test_accept_is_three_aws_calls_with_the_callers_authorisation(world: World) -> None:
    s, agent_id, offer = _offered(world)
    assert _accept(world, offer, s.token(agent_id), raw=b"{not json").status == 400  # a known caller's bad body
    with dynamodb_calls() as calls:
        won = _accept(world, offer, s.token(agent_id))
    assert won.status == 200, won.json
    assert (won.json["assigned_to"], won.json["routing_state"]) == (agent_id, "accepted")
    # the caller's record + the offer; the lead + its store; the transaction
    assert calls == Counter({"BatchGetItem": 2, "TransactWriteItems": 1})


def test_a_deleted_caller_is_refused_as_the_authenticator_refuses_them(world: World) -> None:
    s, agent_id, offer = _offered(world)
    token = s.token(agent_id)
    assert world.delete(f"/users/{agent_id}", s.admin_token).status == 204
    refused = _accept(world, offer, token)
    assert refused.status == 401 and refused.error_code == "unauthorized"
    assert refused.json == world.get("/me", token).json  # the same body as any route's authentication
    _still_open(world, offer)
    # A body that is not JSON changes nothing: the caller is refused first, as on every route.
    malformed = _accept(world, offer, token, raw=b"{not json")
    assert malformed.status == 401 and malformed.json == refused.json
    # And a token that is no token at all is the same 401, before anything is read.
    assert _accept(world, offer, "not-a-token").status == 401
    assert world.post(f"/offers/{offer['offer_id']}/accept").status == 401


def test_a_caller_deleted_between_the_read_and_the_write_is_refused(world: World) -> None:
    s, agent_id, offer = _offered(world)
    token = s.token(agent_id)
    agent = world.deps.users.get(agent_id)
    assert agent is not None

    def delete_agent() -> None:
        # The same millisecond as the read (the clock does not move): the record's `deleted` decides.
        user_service.delete_user(world.deps, _admin(world, s), agent_id)

    with _meanwhile(world, delete_agent) as hook:
        refused = _accept(world, offer, token)
    assert hook.then is None  # the deletion did happen between the read and the write
    assert refused.status == 401 and refused.error_code == "unauthorized", refused.json
    _still_open(world, offer)


def test_a_caller_changed_meanwhile_is_read_and_authorised_again(world: World) -> None:
    s, agent_id, offer = _offered(world)
    reads: list[str] = []
    routing = world.deps.routing
    original = routing.offer_with_user

    def counted(offer_id: str, user_id: str) -> Any:
        reads.append(user_id)
        return original(offer_id, user_id)

    routing.offer_with_user = counted  # type: ignore[method-assign]
    world.clock.advance(1)

    def step_away() -> None:
        world.deps.users.set_available(agent_id, False, "2026-11-02T15:00:01.500Z")

    with _meanwhile(world, step_away):
        won = _accept(world, offer, s.token(agent_id))
    # The record changed (not in a way that refuses them): the transaction failed on it, the caller
    # and the offer were read again, and the accept went through on the fresh record.
    assert won.status == 200, won.json
    assert reads == [agent_id, agent_id]
    assert lead(world, offer["lead_id"]).assigned_to == agent_id


def test_a_group_the_caller_is_not_in_is_401_and_their_other_group_is_not_the_offers(world: World) -> None:
    s, agent_id, offer = _offered(world, agents=1)
    token = s.token(agent_id)
    agent = world.deps.users.get(agent_id)
    assert agent is not None
    other = world.tenant("Beta Cars", "owner@beta.com")
    # The same person joins another group: a record of theirs there, with its own id.
    joined = world.post("/users", other.token, {"email": agent.email, "name": "Pat", "role": "agent",
                                                "account_ids": [other.accounts[0]["account_id"]]})
    assert joined.status == 201
    stranger = world.tenant("Gamma Group", "owner@gamma.com")
    for group_id in (stranger.group_id, "grp_nonexistent", "grp#1"):
        refused = _accept(world, offer, token, headers={"X-Leadline-Group": group_id})
        assert refused.status == 401 and refused.error_code == "unauthorized"
    # Acting in the other group, the caller is that group's record: the offer is not theirs there.
    assert _accept(world, offer, token, headers={"X-Leadline-Group": other.group_id}).status == 404
    _still_open(world, offer)
    # Another group's admin cannot see it either; in the offer's own group it is theirs.
    assert _accept(world, offer, other.token).status == 404
    won = _accept(world, offer, token, headers={"X-Leadline-Group": s.tenant.group_id})
    assert won.status == 200 and won.json["assigned_to"] == agent_id


def test_acting_in_a_later_group_the_offers_agent_record_is_read_alone(world: World) -> None:
    """A person whose first group is another reads, besides accept's three calls, only the record the
    offer names (it stands for the membership when it is theirs in that group): four calls, not five."""
    beta = world.tenant("Beta Cars", "owner@beta.com")
    world.user(beta, "pat@people.com")  # Pat's first group: Beta
    s = store(world, agents=0)
    joined, token = world.user(s.tenant, "pat@people.com")  # then Acme's agent, a record of its own
    record_queues(world)
    made = new_lead(world, s)
    offers, _ = world.deps.routing.pending_offers(joined["user_id"], iso(world.clock.now()), 10, None)
    [offer] = [o for o in offers if o.lead_id == made.lead_id]
    as_acme = {"X-Leadline-Group": s.tenant.group_id}
    # Pat's first record is not the offer's: acting in Beta, or without naming a group, it is not theirs.
    assert world.post(f"/offers/{offer.offer_id}/accept", token).status == 404
    with dynamodb_calls() as calls:
        won = world.post(f"/offers/{offer.offer_id}/accept", token, headers=as_acme)
    assert won.status == 200 and won.json["assigned_to"] == joined["user_id"]
    assert calls == Counter({"BatchGetItem": 2, "GetItem": 1, "TransactWriteItems": 1})


def test_a_record_of_someone_else_never_stands_for_the_callers_membership(world: World) -> None:
    """The offer's agent is read first, but only the caller's own live record in that group counts."""
    s, _agent_id, offer = _offered(world, agents=1)
    _, token = world.user(world.tenant("Beta Cars", "owner@beta.com"), "eve@beta.com")
    assert _accept(world, offer, token, headers={"X-Leadline-Group": s.tenant.group_id}).status == 401
    _, joined = world.user(s.tenant, "eve@beta.com", account_ids=[])  # Eve joins Acme, the offer stays Pat's
    assert _accept(world, offer, joined, headers={"X-Leadline-Group": s.tenant.group_id}).status == 404
    _still_open(world, offer)


def _decline(world: World, offer: dict[str, Any], token: str, **kw: Any) -> Any:
    return world.post(f"/offers/{offer['offer_id']}/decline", token, kw.pop("body", {"reason": "busy"}), **kw)


def test_decline_reads_the_caller_with_the_offer(world: World) -> None:
    s, agent_id, offer = _offered(world)
    with dynamodb_calls() as calls:
        declined = _decline(world, offer, s.token(agent_id))
    assert declined.status == 200, declined.json
    assert declined.json["state"] == "declined"
    assert lead(world, offer["lead_id"]).routing_state == "offered"  # the next agent's offer
    # the caller's record + the offer; the store's routing; the group's agents; the lead; the transaction
    assert calls == Counter({"BatchGetItem": 2, "Query": 1, "GetItem": 1, "TransactWriteItems": 1})


def test_a_deleted_caller_is_refused_decline_as_the_authenticator_refuses_them(world: World) -> None:
    s, agent_id, offer = _offered(world)
    token = s.token(agent_id)
    assert world.delete(f"/users/{agent_id}", s.admin_token).status == 204
    refused = _decline(world, offer, token)
    assert refused.status == 401 and refused.json == world.get("/me", token).json
    for body in ({"reason": ""}, {"nothing": 1}):
        assert _decline(world, offer, token, body=body).json == refused.json
    assert _decline(world, offer, token, raw=b"{not json").json == refused.json
    _still_open(world, offer)


def test_a_caller_deleted_between_the_read_and_the_decline_is_refused(world: World) -> None:
    s, agent_id, offer = _offered(world)
    token = s.token(agent_id)

    def delete_agent() -> None:
        user_service.delete_user(world.deps, _admin(world, s), agent_id)

    with _meanwhile(world, delete_agent, "routing", "store_routing") as hook:
        refused = _decline(world, offer, token)
    assert hook.then is None
    assert refused.status == 401 and refused.error_code == "unauthorized", refused.json
    _still_open(world, offer)
