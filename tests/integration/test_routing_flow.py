"""Routing end to end through the HTTP contract and the timers consumer, under moto."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.adapters.dynamodb.leads import LeadRepository
from chalicelib.domain.changes import Change
from chalicelib.services.lead_changes import change_lead, timeline_event
from tests.integration.routing_support import (
    Store,
    add_user,
    configure,
    current_offer,
    deliver_timers,
    lead,
    new_lead,
    offers,
    record_queues,
    score_events,
    store,
    sweep,
)
from tests.support import World


def _report_kinds(world: World, s: Store) -> list[str]:
    day = world.clock.now().strftime("%Y-%m-%d")
    items = world.deps.table.query(f"ACCOUNT#{s.account_id}#REPORT#{day}")
    return [i["kind"] for i in items]


def _timeline(world: World, lead_id: str) -> list[dict[str, Any]]:
    return [e.view() for e in LeadRepository(world.deps.table).timeline(lead_id)]


# -- config -----------------------------------------------------------------------------------

def test_routing_config_round_trips_and_defaults(world: World) -> None:
    s = store(world, agents=1)
    default = world.get(f"/accounts/{s.account_id}/routing", s.admin_token)
    assert default.status == 200
    assert default.json["strategy"] == "round_robin" and default.json["rules"] == []
    saved = configure(world, s, offer_timeout_seconds=90, strategy="weighted",
                      rules=[{"match": {"source": "AutoTrader"}, "team": "used", "weights": {s.agent_ids[0]: 3}}],
                      catchall_user_ids=[s.tenant.admin_id], respect_business_hours=True)
    again = world.get(f"/accounts/{s.account_id}/routing", s.token(s.agent_ids[0])).json
    assert again == saved
    assert again["rules"][0]["weights"] == {s.agent_ids[0]: 3}


def test_routing_config_names_every_bad_field(world: World) -> None:
    s = store(world, agents=1)
    reply = world.put(f"/accounts/{s.account_id}/routing", s.admin_token,
                      {"offer_timeout_seconds": 0, "strategy": "random", "rules": [{"match": {"channel": "fax"}}]})
    assert reply.status == 400
    fields = {d["field"] for d in reply.json["error"]["details"]}
    assert {"offer_timeout_seconds", "strategy", "rules.0.match.channel"} <= fields
    unknown = world.put(f"/accounts/{s.account_id}/routing", s.admin_token,
                        {"catchall_user_ids": ["usr_nobody"], "rules": [{"weights": {"usr_ghost": 2}}]})
    assert unknown.status == 400
    fields = {d["field"] for d in unknown.json["error"]["details"]}
    assert fields == {"catchall_user_ids[0]", "rules[0].weights.usr_ghost"}


def test_routing_config_is_for_admins_of_the_store(world: World) -> None:
    s = store(world, agents=1)
    agent_token = s.token(s.agent_ids[0])
    assert world.put(f"/accounts/{s.account_id}/routing", agent_token, {}).status == 403
    other = world.tenant(name="Other Motors", email="boss@other.com")
    assert world.put(f"/accounts/{s.account_id}/routing", other.token, {}).status == 404
    assert world.get(f"/accounts/{s.account_id}/routing", other.token).status == 404


# -- offers, accept, decline ---------------------------------------------------------------------

def test_new_lead_is_offered_and_accepted_once(world: World) -> None:
    queues = record_queues(world)
    s = store(world, agents=2)
    configure(world, s, offer_timeout_seconds=120)
    created = new_lead(world, s)
    agent_id, offer = current_offer(world, s) or pytest.fail("no offer")
    assert offer["lead_id"] == created.lead_id
    assert offer["expires_at"] == "2026-11-02T15:02:00.000Z"
    assert lead(world, created.lead_id).routing_state == "offered"
    timers = queues.take("timers")
    assert timers == [{"kind": "offer_expiry", "offer_id": offer["offer_id"], "routing_version": 1,
                       "due_at": offer["expires_at"]}]
    assert [d for q, _, d in queues.sent if q == "timers"] == []
    # the agent was told, in-app
    notes = world.get("/me/notifications", s.token(agent_id)).json["items"]
    assert [n["kind"] for n in notes] == ["offer"] and notes[0]["lead_id"] == created.lead_id

    other_id = next(a for a in s.agent_ids if a != agent_id)
    assert world.post(f"/offers/{offer['offer_id']}/accept", s.token(other_id)).status == 404

    world.clock.advance(5)

    won = world.post(f"/offers/{offer['offer_id']}/accept", s.token(agent_id))
    assert won.status == 200, won.json
    assert won.json["assigned_to"] == agent_id and won.json["routing_state"] == "accepted"
    again = world.post(f"/offers/{offer['offer_id']}/accept", s.token(agent_id))
    assert again.status == 409 and again.error_code == "offer_closed"
    assert world.post(f"/offers/{offer['offer_id']}/decline", s.token(agent_id), {"reason": "x"}).status == 409
    assert offers(world, s.token(agent_id)) == []
    # decided offers expire from the table (DynamoDB TTL) 90 days after the decision
    stored = world.deps.table.get({"PK": f"OFFER#{offer['offer_id']}", "SK": "OFFER"})
    assert stored is not None and stored["ttl"] == int(world.clock.now().timestamp()) + 90 * 86400

    assert [(e["reason"], e["points"]) for e in score_events(world, agent_id)] == [("accept", 2)]
    timeline = _timeline(world, created.lead_id)
    assert [(e["type"], e.get("action")) for e in timeline] == [
        ("offer", "made"), ("offer", "accepted"), ("assignment", None)]
    assert timeline[0]["agent"] == agent_id and timeline[0]["offer_id"] == offer["offer_id"]
    assert _report_kinds(world, s) == ["offer_made", "offer_accepted"]
    kinds = [n["kind"] for n in world.get("/me/notifications", s.token(agent_id)).json["items"]]
    assert kinds == ["assigned", "offer"]


def test_accept_after_expiry_is_409_even_before_the_timer(world: World) -> None:
    record_queues(world)
    s = store(world, agents=1)
    configure(world, s, offer_timeout_seconds=60)
    new_lead(world, s)
    agent_id, offer = current_offer(world, s) or pytest.fail("no offer")
    world.clock.advance(60)
    late = world.post(f"/offers/{offer['offer_id']}/accept", s.token(agent_id))
    assert late.status == 409 and late.error_code == "offer_closed"
    # and it is no longer listed as pending
    assert offers(world, s.token(agent_id)) == []


def test_decline_moves_to_the_next_agent_then_catchall_then_delinquent(world: World) -> None:
    queues = record_queues(world)
    s = store(world, agents=2)
    boss = add_user(world, s, "boss@acme.com", role="manager")
    configure(world, s, catchall_user_ids=[boss["user_id"]])
    created = new_lead(world, s)
    seen = []
    for _ in range(3):
        world.clock.advance(1)
        agent_id, offer = current_offer(world, s) or pytest.fail("no offer")
        seen.append(agent_id)
        reply = world.post(f"/offers/{offer['offer_id']}/decline", s.token(agent_id), {"reason": "with a customer"})
        assert reply.status == 200 and reply.json["state"] == "declined"
    assert sorted(seen[:2]) == sorted(s.agent_ids) and seen[2] == boss["user_id"]
    assert current_offer(world, s) is None
    after = lead(world, created.lead_id)
    assert after.routing_state == "delinquent" and after.assigned_to is None
    assert [e["reason"] for e in score_events(world, seen[0])] == ["decline"]
    assert _report_kinds(world, s).count("offer_declined") == 3
    assert "lead_delinquent" in _report_kinds(world, s)
    made = [e for e in _timeline(world, created.lead_id) if e.get("action") == "made"]
    assert [e["catchall"] for e in made] == [False, False, True]
    # the manager hears that nobody took it
    assert "delinquent" in [n["kind"] for n in world.get("/me/notifications", s.token(boss["user_id"])).json["items"]]
    # three offers' expiries, and the store's next opening offers it again (follow-through)
    assert [t["kind"] for t in queues.take("timers")] == ["offer_expiry"] * 3 + ["offer_again"]


# -- timers ----------------------------------------------------------------------------------------

def test_timeout_moves_on_and_repeated_or_late_timers_change_nothing(world: World) -> None:
    queues = record_queues(world)
    s = store(world, agents=2)
    configure(world, s, offer_timeout_seconds=300)
    created = new_lead(world, s)
    first_agent, first = current_offer(world, s) or pytest.fail("no offer")
    timer = queues.take("timers")[0]

    # early delivery (SQS caps delays at 15 minutes; clocks drift): back on the queue for the rest
    world.clock.advance(100)
    result = deliver_timers(world, [timer])
    assert result == {"batchItemFailures": []}
    assert queues.sent == [("timers", timer, 200)]
    queues.take("timers")
    assert lead(world, created.lead_id).routing_version == 1

    world.clock.advance(200)
    deliver_timers(world, [timer, timer])  # a duplicate in the same batch
    second_agent, second = current_offer(world, s) or pytest.fail("no second offer")
    assert second_agent != first_agent
    after = lead(world, created.lead_id)
    assert after.routing_version == 2
    assert [(e["reason"], e["points"]) for e in score_events(world, first_agent)] == [("timeout", -5)]

    deliver_timers(world, [timer])  # late duplicate, after the next offer was made
    world.clock.advance(30)
    deliver_timers(world, [timer])
    assert lead(world, created.lead_id).version == after.version
    assert len(score_events(world, first_agent)) == 1
    assert world.post(f"/offers/{first['offer_id']}/accept", s.token(first_agent)).status == 409
    assert world.post(f"/offers/{second['offer_id']}/accept", s.token(second_agent)).status == 200
    timed_out = [e for e in _timeline(world, created.lead_id) if e.get("action") == "timed_out"]
    assert len(timed_out) == 1 and timed_out[0]["agent"] == first_agent


def test_due_sweep_catches_a_lost_timer(world: World) -> None:
    queues = record_queues(world)
    s = store(world, agents=2)
    configure(world, s, offer_timeout_seconds=60)
    created = new_lead(world, s)
    queues.take("timers")  # the timer message is lost
    world.clock.advance(30)
    assert sweep(world) == {"offers": 0, "openings": 0, "cadence_steps": 0, "deadlines": 0, "revivals": 0,
                            "failed": 0}
    world.clock.advance(31)
    assert sweep(world)["offers"] == 1
    assert lead(world, created.lead_id).routing_version == 2
    # the new offer's own timer went out; the next sweep finds nothing due
    assert len(queues.take("timers")) == 1
    assert sweep(world)["offers"] == 0


def test_due_sweep_pages_through_a_backlog_while_time_is_left(world: World) -> None:
    from chalicelib.services.due import sweep_due

    queues = record_queues(world)
    s = store(world, agents=2)
    configure(world, s, offer_timeout_seconds=60)
    created = [new_lead(world, s) for _ in range(5)]
    queues.take("timers")  # every timer message lost
    world.clock.advance(61)

    time_left = iter([True, False])  # asked after each page: room for a second page, not a third
    assert sweep_due(world.deps, lambda: next(time_left), page=2)["offers"] == 4
    assert sweep_due(world.deps, page=2)["offers"] == 1  # the rest, then nothing more is due
    assert all(lead(world, c.lead_id).routing_version == 2 for c in created)


def test_a_bad_timer_message_fails_alone(world: World) -> None:
    record_queues(world)
    s = store(world, agents=1)
    configure(world, s, offer_timeout_seconds=60)
    new_lead(world, s)
    world.clock.advance(61)
    event_bodies = [{"kind": "offer_expiry"}, {"kind": "offer_expiry", "offer_id": "ofr_missing", "routing_version": 1,
                                               "due_at": "2026-11-02T15:00:00.000Z"}]
    from tests.integration.routing_support import sqs_event

    event = sqs_event(event_bodies)
    result = world.client.lambda_.invoke("routing_timers", event).payload
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


# -- the pool ----------------------------------------------------------------------------------------

def test_unavailable_and_deleted_agents_and_other_stores_are_skipped(world: World) -> None:
    record_queues(world)
    s = store(world, agents=4)
    away, gone, elsewhere, active = s.agent_ids
    assert world.patch("/me", s.token(away), {"available": False}).status == 200
    assert world.delete(f"/users/{gone}", s.admin_token).status == 204
    s.tokens.pop(gone)  # its token stopped working
    second_store = world.account(s.tenant, "Second Store")
    assert world.patch(f"/users/{elsewhere}", s.admin_token,
                       {"account_ids": [second_store["account_id"]]}).status == 200
    for _ in range(3):
        created = new_lead(world, s)
        agent_id, offer = current_offer(world, s) or pytest.fail("no offer")
        assert agent_id == active
        world.post(f"/offers/{offer['offer_id']}/decline", s.token(agent_id), {"reason": "busy"})
        assert lead(world, created.lead_id).routing_state == "delinquent"


def test_rules_first_match_wins_and_route_to_their_team(world: World) -> None:
    record_queues(world)
    s = store(world, agents=0)
    used = add_user(world, s, "used@acme.com", teams=["used"])
    bdc = add_user(world, s, "bdc@acme.com", teams=["bdc"])
    plain = add_user(world, s, "plain@acme.com")
    configure(world, s, rules=[
        {"match": {"source": "autotrader", "channel": "web"}, "team": "used"},
        {"match": {"source_group": "Third Party"}, "team": "bdc"},
        {"match": {"source": "AutoTrader"}, "team": "bdc"},
    ])
    cases = [({"source": "AutoTrader", "channel": "web"}, used), ({"source": "AutoTrader", "channel": "sms"}, bdc),
             ({"source": "Cars.com", "source_group": "third party"}, bdc), ({"source": "Walk-in"}, plain)]
    for fields, expected in cases:
        new_lead(world, s, **fields)
        agent_id, offer = current_offer(world, s) or pytest.fail("no offer")
        assert agent_id == expected["user_id"], fields
        assert world.post(f"/offers/{offer['offer_id']}/accept", s.token(agent_id)).status == 200


# -- business hours ------------------------------------------------------------------------------------

def test_a_lead_arriving_while_closed_waits_for_the_opening(world: World) -> None:
    queues = record_queues(world)
    # 15:00Z is 10:00 in New York on Monday 2 Nov 2026; the store opens at 11:00 and 13:00.
    hours = {d: [["11:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    s = store(world, agents=1, hours=hours)
    configure(world, s, respect_business_hours=True, offer_timeout_seconds=600)
    created = new_lead(world, s)
    assert current_offer(world, s) is None
    assert lead(world, created.lead_id).routing_state == "routing"
    timer = queues.take("timers")
    assert timer == [{"kind": "opening", "lead_id": created.lead_id, "routing_version": 1,
                      "due_at": "2026-11-02T16:00:00.000Z"}]
    assert queues.sent == []

    world.clock.set("2026-11-02T15:59:59Z")
    assert sweep(world)["openings"] == 0
    world.clock.set("2026-11-02T16:00:00Z")
    deliver_timers(world, timer)
    _, offer = current_offer(world, s) or pytest.fail("no offer at opening")
    assert offer["lead_id"] == created.lead_id
    # the offer expires at 16:10; it times out to delinquent (one agent), and a repeated opening does nothing
    deliver_timers(world, timer)
    assert sweep(world) == {"offers": 0, "openings": 0, "cadence_steps": 0, "deadlines": 0, "revivals": 0,
                            "failed": 0}
    world.clock.set("2026-11-02T16:10:00Z")
    assert sweep(world)["offers"] == 1
    assert lead(world, created.lead_id).routing_state == "delinquent"


def test_an_overnight_store_offers_at_once(world: World) -> None:
    record_queues(world)
    # Sunday 1 Nov 2026 22:00 -> Monday 02:00 local; now is Monday 01:30 in New York
    s = store(world, agents=1, hours={"sun": [["22:00", "02:00"]]})
    configure(world, s, respect_business_hours=True)
    world.clock.set("2026-11-02T06:30:00Z")
    new_lead(world, s)
    assert current_offer(world, s) is not None


# -- requeue, direct assignment, feedback, score --------------------------------------------------------

def test_two_agents_claim_a_delinquent_lead_one_wins(world: World) -> None:
    record_queues(world)
    s = store(world, agents=2)
    for a in s.agent_ids:
        world.patch("/me", s.token(a), {"available": False})
    created = new_lead(world, s)
    assert lead(world, created.lead_id).routing_state == "delinquent"
    first, second = s.agent_ids
    won = world.post(f"/leads/{created.lead_id}/requeue", s.token(first))
    assert won.status == 200 and won.json["assigned_to"] == first and won.json["routing_state"] == "accepted"
    lost = world.post(f"/leads/{created.lead_id}/requeue", s.token(second))
    assert lost.status == 409 and lost.error_code == "not_delinquent"
    assert sorted((e["reason"], e["points"]) for e in score_events(world, first)) == [("accept", 1), ("requeue", 4)]
    assert "lead_requeued" in _report_kinds(world, s)
    other = world.tenant(name="Other Motors", email="boss@other.com")
    assert world.post(f"/leads/{created.lead_id}/requeue", other.token).status == 404


def _assign_directly(world: World, lead_id: str, user_id: str) -> None:
    """What POST /leads/{id}/assign does to routing: a new routing_version, state `assigned`."""

    def decide(current: Any) -> Change:
        return Change(updates={"assigned_to": user_id, "routing_state": "assigned",
                               "routing_version": current.routing_version + 1},
                      events=[timeline_event(world.deps, current, "assignment", None, assigned_to=user_id)])

    change_lead(world.deps, lead_id, decide)


def test_direct_assignment_supersedes_the_pending_offer(world: World) -> None:
    queues = record_queues(world)
    s = store(world, agents=2)
    configure(world, s, offer_timeout_seconds=60)
    created = new_lead(world, s)
    agent_id, offer = current_offer(world, s) or pytest.fail("no offer")
    other = next(a for a in s.agent_ids if a != agent_id)
    _assign_directly(world, created.lead_id, other)
    assert offers(world, s.token(agent_id)) == []
    refused = world.post(f"/offers/{offer['offer_id']}/accept", s.token(agent_id))
    assert refused.status == 409 and refused.error_code == "offer_closed"
    before = lead(world, created.lead_id)
    world.clock.advance(61)
    deliver_timers(world, queues.take("timers"))
    after = lead(world, created.lead_id)
    assert after == before and after.assigned_to == other
    assert score_events(world, agent_id) == []
    assert sweep(world)["offers"] == 0


def test_feedback_earns_each_part_once(world: World) -> None:
    record_queues(world)
    s = store(world, agents=2)
    created = new_lead(world, s)
    agent_id, offer = current_offer(world, s) or pytest.fail("no offer")
    world.post(f"/offers/{offer['offer_id']}/accept", s.token(agent_id))
    token = s.token(agent_id)
    bad = world.post(f"/leads/{created.lead_id}/feedback", token, {"contact_status": "maybe"})
    assert bad.status == 400 and bad.json["error"]["details"][0]["field"] == "contact_status"
    assert world.post(f"/leads/{created.lead_id}/feedback", token, {}).status == 400
    first = world.post(f"/leads/{created.lead_id}/feedback", token, {"contact_status": "contacted", "comment": "hi"})
    assert first.status == 200 and first.json["points"] == 2
    long_comment = "Customer came in for a test drive, liked the trim, will bring the trade-in on Friday."
    second = world.post(f"/leads/{created.lead_id}/feedback", token,
                        {"contact_status": "closed_won", "comment": long_comment})
    assert second.json["earned"] == ["feedback_long_comment", "feedback_closed"] and second.json["points"] == 2
    third = world.post(f"/leads/{created.lead_id}/feedback", token, {"contact_status": "closed_won", "comment": "x"})
    assert third.json["points"] == 0
    # someone who does not own the lead records feedback but earns nothing
    other = next(a for a in s.agent_ids if a != agent_id)
    by_admin = world.post(f"/leads/{created.lead_id}/feedback", s.admin_token, {"comment": "called too"})
    assert by_admin.json["points"] == 0
    assert score_events(world, s.tenant.admin_id) == []
    assert world.post(f"/leads/{created.lead_id}/feedback", s.token(other), {"comment": "x"}).json["points"] == 0
    reasons = [e["reason"] for e in score_events(world, agent_id)]
    assert sorted(reasons) == sorted(["accept", "feedback_status", "feedback_comment", "feedback_long_comment",
                                      "feedback_closed"])
    feedback_reports = [k for k in _report_kinds(world, s) if k == "feedback"]
    assert len(feedback_reports) == 5


def test_score_over_a_date_range_with_its_events(world: World) -> None:
    record_queues(world)
    s = store(world, agents=1)
    configure(world, s, offer_timeout_seconds=60)
    agent_id = s.agent_ids[0]
    new_lead(world, s)
    world.clock.advance(61)
    sweep(world)  # timeout on 2 Nov: -5
    world.clock.set("2026-11-03T15:00:00Z")
    new_lead(world, s)
    _, offer = current_offer(world, s) or pytest.fail("no offer")
    world.post(f"/offers/{offer['offer_id']}/accept", s.token(agent_id))  # +2 on 3 Nov

    mine = world.get(f"/users/{agent_id}/score", s.token(agent_id))
    assert mine.status == 200
    assert mine.json["score"] == 97 and [e["reason"] for e in mine.json["events"]] == ["timeout", "accept"]
    # Dates are the store's days (New York, as the dashboard counts them), or of an explicit zone.
    day = world.get(f"/users/{agent_id}/score?from=2026-11-03&to=2026-11-03", s.admin_token).json
    assert day["score"] == 102 and day["timezone"] == "America/New_York"
    assert day["from"] == "2026-11-03T05:00:00.000Z" and day["to"] == "2026-11-04T04:59:59.999Z"
    utc_day = world.get(f"/users/{agent_id}/score?from=2026-11-03&to=2026-11-03&timezone=UTC", s.admin_token).json
    assert utc_day["from"] == "2026-11-03T00:00:00.000Z" and utc_day["to"] == "2026-11-03T23:59:59.999Z"
    bad_zone = world.get(f"/users/{agent_id}/score?timezone=Mars/Olympus", s.admin_token)
    assert bad_zone.status == 400 and bad_zone.json["error"]["details"][0]["field"] == "timezone"
    assert world.get(f"/users/{agent_id}/score?from=yesterday", s.admin_token).status == 400
    assert world.get(f"/users/{agent_id}/score?from=2026-11-04&to=2026-11-03", s.admin_token).status == 400
    colleague = add_user(world, s, "colleague@acme.com")
    assert world.get(f"/users/{agent_id}/score", s.token(colleague["user_id"])).status == 403
    other = world.tenant(name="Other Motors", email="boss@other.com")
    assert world.get(f"/users/{agent_id}/score", other.token).status == 404


def test_intake_and_direct_assignment_through_the_contract(world: World) -> None:
    """The real paths: POST /accounts/{id}/leads starts routing; POST /leads/{id}/assign ends it."""
    queues = record_queues(world)
    s = store(world, agents=2)
    configure(world, s, offer_timeout_seconds=60)
    created = world.post(f"/accounts/{s.account_id}/leads", s.admin_token,
                         {"first_name": "Pat", "email": "pat@buyer.com", "source": "Web", "channel": "web"})
    assert created.status == 201, created.json
    lead_id = created.json["lead_id"]
    agent_id, offer = current_offer(world, s) or pytest.fail("intake did not start routing")
    assert offer["lead_id"] == lead_id
    # a repeat request coalesces: no second routing
    again = world.post(f"/accounts/{s.account_id}/leads", s.admin_token,
                       {"first_name": "Pat", "email": "pat@buyer.com", "source": "Web", "channel": "web"})
    assert again.json.get("coalesced_into") == lead_id
    assert len(queues.take("timers")) == 1

    other = next(a for a in s.agent_ids if a != agent_id)
    world.clock.advance(5)
    assert world.post(f"/leads/{lead_id}/assign", s.admin_token, {"user_id": other}).status == 200
    refused = world.post(f"/offers/{offer['offer_id']}/accept", s.token(agent_id))
    assert refused.status == 409 and refused.error_code == "offer_closed"
    assert offers(world, s.token(agent_id)) == []
    world.clock.advance(60)
    assert sweep(world)["offers"] == 1  # the superseded offer is closed, nothing else moves
    assert sweep(world)["offers"] == 0
    final = world.get(f"/leads/{lead_id}", s.admin_token).json
    assert final["assigned_to"] == other and final["routing_state"] == "assigned"
    assert score_events(world, agent_id) == []


def test_offers_and_assignments_notify_per_preference(world: World) -> None:
    queues = record_queues(world)
    s = store(world, agents=0)
    by_mail = add_user(world, s, "mail@acme.com", phone="+13125550177",
                       notify={"in_app": False, "email": True, "sms": True})
    configure(world, s, offer_timeout_seconds=60)
    new_lead(world, s)
    agent_id, offer = current_offer(world, s) or pytest.fail("no offer")
    assert agent_id == by_mail["user_id"]
    jobs = queues.take("outbox")
    assert [(j["kind"], j["channel"], j["to"]) for j in jobs] == [
        ("notification", "email", "mail@acme.com"), ("notification", "sms", "+13125550177")]
    assert "Time left: 1 min (due " in jobs[0]["text"] and "Time left: 1 min" in jobs[1]["text"]
    assert jobs[0]["html"].startswith("<!DOCTYPE html>") and "html" not in jobs[1]
    assert world.get("/me/notifications", s.token(agent_id)).json["items"] == []
    world.post(f"/offers/{offer['offer_id']}/accept", s.token(agent_id))
    subjects = [j["subject"] for j in queues.take("outbox") if j["channel"] == "email"]
    assert len(subjects) == 1 and subjects[0].endswith("is your lead now")


def test_score_and_dashboard_count_the_same_store_days(world: World) -> None:
    s = store(world, agents=1)
    configure(world, s, offer_timeout_seconds=600)
    agent_id = s.agent_ids[0]
    world.clock.set("2026-11-03T03:00:00Z")  # 22:00 on 2 November in New York
    new_lead(world, s)
    _, offer = current_offer(world, s) or pytest.fail("no offer")
    assert world.post(f"/offers/{offer['offer_id']}/accept", s.token(agent_id)).status == 200

    for day, expected in (("2026-11-02", 102), ("2026-11-03", 100)):
        score = world.get(f"/users/{agent_id}/score?from={day}&to={day}", s.admin_token).json["score"]
        board = world.get(f"/reports/dashboard?account_id={s.account_id}&from={day}&to={day}", s.admin_token).json
        row = next(a for a in board["agents"] if a["user_id"] == agent_id)
        assert score == row["score"] == expected, day


@pytest.mark.parametrize("zone", ["a" * 5000, "../../etc/passwd", "x\x00y", "Mars/Olympus"])
def test_a_bad_score_timezone_is_400(world: World, zone: str) -> None:
    s = store(world, agents=1)
    from urllib.parse import quote

    reply = world.get(f"/users/{s.agent_ids[0]}/score?timezone={quote(zone)}", s.admin_token)
    assert reply.status == 400 and reply.json["error"]["details"][0]["field"] == "timezone"


def test_an_offers_cursor_that_expired_meanwhile_starts_the_list_over(world: World,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # Real DynamoDB refuses an ExclusiveStartKey outside the key condition (moto does not): the
    # adapter must never send one.
    table = world.deps.table
    query_page = table.query_page

    def strict_query_page(pk_value: str, **kw: Any) -> Any:
        start, values = kw.get("start_key"), kw.get("sk_values") or {}
        if start and "GSI6SK" in start:
            assert start["GSI6SK"] > values[":now"], "a start key outside the key condition"
        return query_page(pk_value, **kw)

    monkeypatch.setattr(table, "query_page", strict_query_page)
    record_queues(world)
    s = store(world, agents=1)
    configure(world, s, offer_timeout_seconds=60)
    agent_token = s.token(s.agent_ids[0])
    new_lead(world, s)
    world.clock.advance(30)
    second = new_lead(world, s)
    page = world.get("/me/offers?limit=1", agent_token).json
    assert page["next_cursor"]

    world.clock.advance(40)  # the first page's offer has expired; the second has 20 s left
    rest = world.get(f"/me/offers?limit=1&cursor={page['next_cursor']}", agent_token)

    assert rest.status == 200 and [o["lead_id"] for o in rest.json["items"]] == [second.lead_id]
