"""Routing use cases on fakes: a new lead's first offer, accept, decline, time-outs by timer and
by sweep, delinquency and the claim of a delinquent lead; stale and repeated timers change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from chalicelib.domain.errors import Conflict, NotFound, Unauthorized
from chalicelib.schemas.queues import Timer
from chalicelib.services import due, routing
from tests.unit.services.shop import Shop, shop


def _offer_of(s: Shop, lead_id: str) -> str:
    pending = [o for o in s.deps.state.offers.values() if o.lead_id == lead_id and o.state == "pending"]
    assert len(pending) == 1, pending
    return pending[0].offer_id


def test_a_new_lead_is_offered_to_one_agent_with_a_timer_and_a_notice() -> None:
    s = shop()
    lead = s.lead()
    current = s.current(lead.lead_id)
    assert current.routing_state == "offered"
    offer = s.deps.state.offers[_offer_of(s, lead.lead_id)]
    assert offer.agent_id == s.agents[0].user_id
    [timer] = s.queued("timers")
    assert timer == {"kind": "offer_expiry", "offer_id": offer.offer_id, "routing_version": offer.routing_version,
                     "due_at": offer.expires_at}
    assert [n.kind for n in s.deps.state.notifications[offer.agent_id].values()] == ["offer"]


def test_accept_makes_the_agent_the_owner_and_a_second_accept_is_refused() -> None:
    s = shop()
    lead = s.lead()
    offer_id = _offer_of(s, lead.lead_id)
    accepted = routing.accept_offer(s.deps, s.agents[0].caller(), offer_id)
    assert (accepted.assigned_to, accepted.routing_state) == (s.agents[0].user_id, "accepted")
    with pytest.raises(Conflict):
        routing.accept_offer(s.deps, s.agents[0].caller(), offer_id)
    with pytest.raises(NotFound):
        routing.accept_offer(s.deps, s.agents[1].caller(), offer_id)
    assert [e.reason for e in s.deps.state.scores] == ["accept"]


def _between_read_and_write(s: Shop, then: Any) -> None:
    """Run `then` when accept reads the lead: after it read the caller's record with the offer."""
    read = s.deps.leads.with_store

    def with_store(lead_id: str, account_id: str) -> Any:
        then()
        return read(lead_id, account_id)

    s.deps.leads.with_store = with_store  # type: ignore[method-assign]


def test_accept_holds_the_callers_record_until_its_transaction() -> None:
    s = shop()
    lead = s.lead()
    offer_id = _offer_of(s, lead.lead_id)
    agent = s.agents[0]
    # Removed between the read and the write (same instant: only `deleted` differs): refused, nothing saved.
    _between_read_and_write(s, lambda: s.deps.users.replace(agent, agent.model_copy(update={"deleted": True})))
    with pytest.raises(Unauthorized):
        routing.accept_offer(s.deps, agent.caller(), offer_id)
    assert s.current(lead.lead_id).assigned_to is None and s.deps.state.offers[offer_id].state == "pending"
    assert s.deps.state.scores == []


def test_accept_reads_and_authorises_a_changed_caller_again() -> None:
    s = shop()
    lead = s.lead()
    offer_id = _offer_of(s, lead.lead_id)
    agent = s.agents[0]
    reads: list[str] = []
    read = s.deps.routing.offer_with_user

    def counted(offer_id: str, user_id: str) -> Any:
        reads.append(user_id)
        return read(offer_id, user_id)

    s.deps.routing.offer_with_user = counted  # type: ignore[method-assign]
    _between_read_and_write(s, lambda: s.deps.users.set_available(agent.user_id, False, "2026-11-02T15:00:01.000Z"))
    accepted = routing.accept_offer(s.deps, agent.caller(), offer_id)
    assert accepted.assigned_to == agent.user_id and reads == [agent.user_id, agent.user_id]


def test_decline_offers_the_lead_to_the_next_agent() -> None:
    s = shop()
    lead = s.lead()
    first = _offer_of(s, lead.lead_id)
    routing.decline_offer(s.deps, s.agents[0].caller(), first, "busy")
    second = s.deps.state.offers[_offer_of(s, lead.lead_id)]
    assert second.agent_id == s.agents[1].user_id
    assert s.deps.state.offers[first].state == "declined"


def test_an_expired_offer_moves_on_once_however_often_its_timer_arrives() -> None:
    s = shop(agents=2, timeout_seconds=60)
    lead = s.lead()
    [body] = s.queued("timers")
    timer = TypeAdapter(Timer).validate_python(body)
    assert due.handle_timer(s.deps, timer) == "requeued"  # early: back on the queue for the rest
    s.queued("timers")
    s.clock.advance(61)
    assert due.handle_timer(s.deps, timer) == "timed_out"
    assert due.handle_timer(s.deps, timer) == "noop"
    assert s.deps.state.offers[_offer_of(s, lead.lead_id)].agent_id == s.agents[1].user_id
    assert [e.reason for e in s.deps.state.scores] == ["timeout"]


def test_the_sweep_times_out_what_no_timer_brought_and_a_lead_nobody_takes_goes_delinquent() -> None:
    s = shop(agents=2, timeout_seconds=60)
    lead = s.lead()
    for _ in range(2):
        s.clock.advance(61)
        assert due.sweep_due(s.deps)["offers"] == 1
    assert s.current(lead.lead_id).routing_state == "delinquent"
    assert due.sweep_due(s.deps) == {"offers": 0, "openings": 0, "cadence_steps": 0, "deadlines": 0, "revivals": 0,
                                     "failed": 0}
    notified = s.deps.state.notifications[s.manager.user_id].values() if s.manager else []
    assert [n.kind for n in notified] == ["delinquent"]


def test_one_claim_of_a_delinquent_lead_wins() -> None:
    s = shop(agents=1, timeout_seconds=60)
    lead = s.lead()
    s.clock.advance(61)
    due.sweep_due(s.deps)
    claimed = routing.requeue_lead(s.deps, s.principal(s.agents[0]), lead.lead_id)
    assert (claimed.assigned_to, claimed.routing_state) == (s.agents[0].user_id, "accepted")
    with pytest.raises(Conflict):
        routing.requeue_lead(s.deps, s.principal(s.agents[0]), lead.lead_id)


def test_my_offers_leaves_out_a_lead_that_moved_on() -> None:
    from chalicelib.services import lead_edits

    s = shop()
    lead = s.lead()
    agent = s.principal(s.agents[0])
    assert [o.lead_id for o in routing.my_offers(s.deps, agent, 50, None)[0]] == [lead.lead_id]
    assert s.manager is not None
    lead_edits.assign(s.deps, s.principal(s.manager), lead.lead_id, s.agents[1].user_id)
    assert routing.my_offers(s.deps, agent, 50, None)[0] == []
