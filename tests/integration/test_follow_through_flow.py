"""Follow-through through the HTTP contract, the timers consumer and the due sweep, under moto: a
store's response targets (validated, admins only), an owned lead's `response_due_at` /
`response_state` and the `due` folder, the warning and the miss by timer and by sweep, `reoffer`
to the next agent, a delinquent lead offered again when an agent turns available."""

from __future__ import annotations

from typing import Any

from tests.integration.routing_support import (
    Store,
    add_user,
    current_offer,
    deliver_timers,
    lead,
    new_lead,
    record_queues,
    store,
    sweep,
)
from tests.support import World

TARGETS = {"first_response_seconds": 300, "reply_seconds": 120, "warn_before_seconds": 60,
           "on_miss": "notify_managers", "business_hours_only": False}


def _targets(world: World, s: Store, **fields: Any) -> dict[str, Any]:
    reply = world.put(f"/accounts/{s.account_id}/response-targets", s.admin_token, {**TARGETS, **fields})
    assert reply.status == 200, reply.json
    return dict(reply.json)


def _accepted(world: World, s: Store) -> tuple[str, str]:
    made = new_lead(world, s)
    found = current_offer(world, s)
    assert found is not None
    agent_id, offer = found
    assert world.post(f"/offers/{offer['offer_id']}/accept", s.token(agent_id)).status == 200
    return made.lead_id, agent_id


def _kinds(world: World, token: str) -> list[str]:
    return [n["kind"] for n in world.get("/me/notifications", token).json["items"]]


def test_targets_round_trip_and_every_bad_field_is_named(world: World) -> None:
    s = store(world, agents=1)
    none = world.get(f"/accounts/{s.account_id}/response-targets", s.admin_token)
    assert none.status == 200 and none.json["enabled"] is False and none.json["first_response_seconds"] is None
    saved = _targets(world, s, on_miss="reoffer", business_hours_only=True)
    again = world.get(f"/accounts/{s.account_id}/response-targets", s.token(s.agent_ids[0])).json
    assert again == saved and again["enabled"] and again["on_miss"] == "reoffer"
    bad = world.put(f"/accounts/{s.account_id}/response-targets", s.admin_token,
                    {"first_response_seconds": 10, "reply_seconds": "soon", "on_miss": "shrug", "extra": 1})
    assert bad.status == 400
    assert {d["field"] for d in bad.json["error"]["details"]} == {
        "first_response_seconds", "reply_seconds", "on_miss", "extra"}
    late = world.put(f"/accounts/{s.account_id}/response-targets", s.admin_token,
                     {**TARGETS, "warn_before_seconds": 120})
    assert late.status == 400 and [d["field"] for d in late.json["error"]["details"]] == ["warn_before_seconds"]
    assert world.put(f"/accounts/{s.account_id}/response-targets", s.token(s.agent_ids[0]), TARGETS).status == 403
    other = world.tenant(name="Other Motors", email="boss@other.com")
    assert world.get(f"/accounts/{s.account_id}/response-targets", other.token).status == 404
    assert world.get(f"/accounts/{s.account_id}/response-targets", s.admin_token).json == saved


def test_the_owner_is_warned_the_managers_told_and_the_lead_shows_it(world: World) -> None:
    queues = record_queues(world)
    s = store(world, agents=2)
    manager = add_user(world, s, "manager@acme.com", role="manager")
    _targets(world, s)
    lead_id, owner = _accepted(world, s)
    view = world.get(f"/leads/{lead_id}", s.admin_token).json
    assert (view["response_due_at"], view["response_state"]) == (lead(world, lead_id).deadline.due_at, "on_time")  # type: ignore[union-attr]
    due = world.get(f"/leads?account_id={s.account_id}&folder=due", s.admin_token).json["items"]
    assert [row["lead_id"] for row in due] == [lead_id] and due[0]["response_state"] == "on_time"
    timers = [t for t in queues.take("timers") if t["kind"] == "response_deadline"]
    assert [t["step"] for t in timers] == ["warning"]
    world.clock.advance(240)
    deliver_timers(world, timers)
    assert world.get(f"/leads/{lead_id}", s.admin_token).json["response_state"] == "due_soon"
    assert "target_warning" in _kinds(world, s.token(owner))
    deadline = [t for t in queues.take("timers") if t["kind"] == "response_deadline"]
    assert [t["step"] for t in deadline] == ["deadline"]
    world.clock.advance(60)
    deliver_timers(world, deadline + deadline + timers)  # duplicates and a late warning: decided once
    assert _kinds(world, s.token(manager["user_id"])).count("target_missed") == 1
    assert world.get(f"/leads/{lead_id}", s.admin_token).json["response_state"] == "missed"
    assert _kinds(world, s.token(owner)).count("target_warning") == 1
    # The owner's answer clears it: out of the due folder, no state.
    assert world.post(f"/leads/{lead_id}/responded", s.token(owner)).status == 200
    view = world.get(f"/leads/{lead_id}", s.admin_token).json
    assert (view["response_due_at"], view["response_state"]) == (None, None)
    assert world.get(f"/leads?account_id={s.account_id}&folder=due", s.admin_token).json["items"] == []


def test_reoffer_by_the_sweep_when_the_timer_was_lost(world: World) -> None:
    queues = record_queues(world)
    s = store(world, agents=2)
    manager = add_user(world, s, "manager@acme.com", role="manager")
    _targets(world, s, on_miss="reoffer", warn_before_seconds=0)
    lead_id, owner = _accepted(world, s)
    queues.take("timers")  # lost
    world.clock.advance(301)
    sweep(world)
    sweep(world)
    moved = lead(world, lead_id)
    assert moved.assigned_to is None and moved.routing_state == "offered"
    found = current_offer(world, s)
    assert found is not None and found[0] != owner
    timeline = world.get(f"/leads/{lead_id}/timeline", s.admin_token).json["items"]
    reassigned = [e for e in timeline if e["type"] == "reassigned"]
    assert len(reassigned) == 1 and reassigned[0]["reason"] == "target_missed"
    assert "reoffered" in _kinds(world, s.token(owner))
    assert _kinds(world, s.token(manager["user_id"])).count("target_missed") == 1


def test_a_delinquent_lead_is_offered_again_when_an_agent_turns_available(world: World) -> None:
    queues = record_queues(world)
    s = store(world, agents=1)
    agent = s.agent_ids[0]
    assert world.patch("/me", s.token(agent), {"available": False}).status == 200
    made = new_lead(world, s)
    assert lead(world, made.lead_id).routing_state == "delinquent"
    folder = world.get(f"/leads?account_id={s.account_id}&folder=delinquent", s.admin_token).json["items"]
    assert [row["lead_id"] for row in folder] == [made.lead_id]
    queues.take("timers")
    assert world.patch("/me", s.token(agent), {"available": True}).status == 200
    again = queues.take("timers")
    assert [t["kind"] for t in again] == ["offer_again"]
    deliver_timers(world, again + again)
    found = current_offer(world, s)
    assert found is not None and found[0] == agent
    assert world.get(f"/leads?account_id={s.account_id}&folder=delinquent", s.admin_token).json["items"] == []
