"""A lead's detail and edits through HTTP: status transitions, opt back in, done, contact changes,
labels, notes with mentions, the timeline, locks, manual assignment."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.leads import LeadRepository
from chalicelib.domain.leads import next_version
from chalicelib.services import intake
from tests.support import Tenant, World


def new_lead(world: World, t: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"first_name": "Pat", "phone": "2125550100", **fields}
    reply = world.post(f"/accounts/{t.accounts[0]['account_id']}/leads", t.token, body)
    assert reply.status == 201, reply.json
    return dict(reply.json)


def mentions(world: World, token: str, kind: str = "mention") -> list[dict[str, Any]]:
    return [n for n in world.get("/me/notifications", token).json["items"] if n["kind"] == kind]


def types(world: World, t: Tenant, lead_id: str) -> list[str]:
    return [e["type"] for e in world.get(f"/leads/{lead_id}/timeline", t.token).json["items"]]


def test_get_and_patch_fields(world: World) -> None:
    t = world.tenant()
    lead = new_lead(world, t)
    got = world.get(f"/leads/{lead['lead_id']}", t.token)
    assert got.status == 200 and got.json["phone"] == "+12125550100"
    reply = world.patch(f"/leads/{lead['lead_id']}", t.token,
                        {"last_name": "Lee", "language": "es", "vehicle": {"year": 2024, "make": "Mazda"},
                         "financial": {"down_payment": 3000}, "email": "PAT@Example.com"})
    assert reply.status == 200, reply.json
    assert reply.json["last_name"] == "Lee" and reply.json["vehicle"]["make"] == "Mazda"
    assert reply.json["email"] == "pat@example.com" and reply.json["financial"] == {"down_payment": 3000}
    edit = [e for e in world.get(f"/leads/{lead['lead_id']}/timeline", t.token).json["items"] if e["type"] == "edit"]
    assert edit and edit[0]["fields"]["language"] == "es"
    bad = world.patch(f"/leads/{lead['lead_id']}", t.token, {"status": "lost", "phone": "12", "colour": "red"})
    assert bad.status == 400
    assert {d["field"] for d in bad.json["error"]["details"]} == {"status", "phone", "colour"}
    assert world.patch(f"/leads/{lead['lead_id']}", t.token, {"phone": "12"}).json["error"]["details"][0]["field"] \
        == "phone"
    assert world.get("/leads/lead_nope", t.token).status == 404


def test_changed_phone_moves_the_contact_key(world: World) -> None:
    t = world.tenant()
    account_id = t.accounts[0]["account_id"]
    lead = new_lead(world, t)
    assert world.patch(f"/leads/{lead['lead_id']}", t.token, {"phone": "646-555-0199"}).status == 200
    assert intake.find_open_lead(world.deps, account_id, "phone", "+16465550199").lead_id == lead["lead_id"]
    assert intake.find_open_lead(world.deps, account_id, "phone", "+12125550100") is None
    again = world.post(f"/accounts/{account_id}/leads", t.token, {"phone": "6465550199"}).json
    assert again["coalesced_into"] == lead["lead_id"]


def test_status_transitions_and_opting_back_in(world: World) -> None:
    t = world.tenant()
    lead = new_lead(world, t)
    path = f"/leads/{lead['lead_id']}"

    def patch(body: dict[str, Any]) -> Any:
        world.clock.advance(seconds=1)  # one change per second keeps the timeline's order readable
        return world.patch(path, t.token, body)

    assert patch({"status": "hot"}).json["status"] == "hot"
    assert patch({"status": "dead"}).json["status"] == "dead"
    refused = patch({"status": "warm"})
    assert refused.status == 400 and refused.json["error"]["details"][0]["field"] == "status"
    assert patch({"status": "hot"}).json["status"] == "hot"
    # an opted-out lead is dead for transitions; hot opts it back in
    repo = LeadRepository(world.deps.table)
    current = repo.require(lead["lead_id"])
    world.deps.transactions.commit(repo.save(current, next_version(current, opted_out=True)))
    assert patch({"status": "warm"}).status == 400
    reply = patch({"status": "hot"})
    assert reply.status == 200 and reply.json["opted_out"] is False
    assert "opt_in" in types(world, t, lead["lead_id"])
    statuses = [e for e in world.get(f"{path}/timeline", t.token).json["items"] if e["type"] == "status"]
    assert [(e["from"], e["to"]) for e in statuses] == [("new", "hot"), ("hot", "dead"), ("dead", "hot"),
                                                         ("dead", "hot")]
    assert world.patch(path, t.token, {"status": None}).status == 400


def test_done_flag_moves_the_lead_into_the_done_folder(world: World) -> None:
    t = world.tenant()
    lead = new_lead(world, t)
    assert world.get("/leads?folder=done", t.token).json["items"] == []
    assert world.patch(f"/leads/{lead['lead_id']}", t.token, {"done": True}).json["done"] is True
    assert [r["lead_id"] for r in world.get("/leads?folder=done", t.token).json["items"]] == [lead["lead_id"]]
    world.patch(f"/leads/{lead['lead_id']}", t.token, {"done": False})
    assert world.get("/leads?folder=done", t.token).json["items"] == []
    assert types(world, t, lead["lead_id"]).count("done") == 2


def test_labels(world: World) -> None:
    t = world.tenant()
    lead = new_lead(world, t)
    path = f"/leads/{lead['lead_id']}/labels"
    assert world.post(path, t.token, {"label": "vip"}).json["labels"] == ["vip"]
    assert world.post(path, t.token, {"label": "vip"}).json["labels"] == ["vip"]
    assert world.post(path, t.token, {"label": "trade in"}).json["labels"] == ["vip", "trade in"]
    assert [r["lead_id"] for r in world.get("/leads?label=trade%20in", t.token).json["items"]] == [lead["lead_id"]]
    assert world.delete(f"{path}/trade%20in", t.token).json["labels"] == ["vip"]
    assert world.post(path, t.token, {"label": ""}).status == 400


def test_notes_mention_users_who_can_see_the_lead(world: World) -> None:
    t = world.tenant(stores=2)
    a, b = (x["account_id"] for x in t.accounts)
    manager, manager_token = world.user(t, "mgr@acme.com", role="manager", account_ids=[a])
    _, other_store_token = world.user(t, "elsewhere@acme.com", account_ids=[b])
    _, restricted_token = world.user(t, "restricted@acme.com", account_ids=[a], restricted=True)
    lead = new_lead(world, t)
    reply = world.post(f"/leads/{lead['lead_id']}/notes", t.token,
                       {"text": "@mgr@acme.com please call. cc @elsewhere@acme.com @restricted@acme.com "
                                "@nobody@acme.com"})
    assert reply.status == 201
    assert reply.json["type"] == "note" and reply.json["mentions"] == [manager["user_id"]]
    assert len(mentions(world, manager_token)) == 1
    assert mentions(world, other_store_token) == []
    # (routing may have offered the new lead to agents; mentions are this test's business)
    assert mentions(world, restricted_token) == []
    assert world.get(f"/leads/{lead['lead_id']}", t.token).json["notes_excerpt"].startswith("@mgr@acme.com please")
    assert world.post(f"/leads/{lead['lead_id']}/notes", t.token, {"text": ""}).status == 400


def test_timeline_is_oldest_first_and_typed(world: World) -> None:
    t = world.tenant()
    lead = new_lead(world, t, message="Hi there")
    world.clock.advance(seconds=5)
    world.post(f"/leads/{lead['lead_id']}/notes", t.token, {"text": "first"})
    world.clock.advance(seconds=5)
    world.post(f"/accounts/{t.accounts[0]['account_id']}/leads", t.token, {"phone": "2125550100"})
    items = world.get(f"/leads/{lead['lead_id']}/timeline", t.token).json["items"]
    assert [e["at"] for e in items] == sorted(e["at"] for e in items)
    mine = [e["type"] for e in items if e["type"] in ("created", "message", "note", "coalesced")]
    assert mine[-2:] == ["note", "coalesced"] and sorted(mine[:2]) == ["created", "message"]
    message = next(e for e in items if e["type"] == "message")
    assert {"message_id", "direction", "channel", "body", "status", "automated", "attachments"} <= message.keys()
    assert all({"type", "at", "by"} <= e.keys() for e in items)


def test_locks(world: World) -> None:
    t = world.tenant()
    agent, agent_token = world.user(t, "rep@acme.com")
    lead = new_lead(world, t)
    path = f"/leads/{lead['lead_id']}/lock"
    assert world.post(path, t.token).json["locked_by"] == t.admin_id
    held = world.post(path, agent_token)
    assert held.status == 409 and held.error_code == "locked" and held.json["error"]["locked_by"] == t.admin_id
    # someone else's live lock refuses edits too, and cannot be released by them
    assert world.patch(f"/leads/{lead['lead_id']}", agent_token, {"status": "hot"}).error_code == "locked"
    assert world.delete(path, agent_token).status == 409
    # the holder's own activity keeps the lock alive
    world.clock.advance(minutes=4)
    assert world.patch(f"/leads/{lead['lead_id']}", t.token, {"status": "warm"}).status == 200
    world.clock.advance(minutes=4)
    assert world.post(path, agent_token).status == 409
    # idle for five minutes: gone
    world.clock.advance(minutes=1, seconds=1)
    taken = world.post(path, agent_token)
    assert taken.status == 200 and taken.json["locked_by"] == agent["user_id"]
    assert world.delete(path, agent_token).json["locked_by"] is None
    assert world.post(path, t.token).status == 200


def test_assign(world: World) -> None:
    t = world.tenant(stores=2)
    a, b = (x["account_id"] for x in t.accounts)
    agent, agent_token = world.user(t, "rep@acme.com", account_ids=[a])
    _, manager_token = world.user(t, "mgr@acme.com", role="manager", account_ids=[a])
    outsider, _ = world.user(t, "other@acme.com", account_ids=[b])
    lead = new_lead(world, t)
    path = f"/leads/{lead['lead_id']}/assign"
    before = LeadRepository(world.deps.table).require(lead["lead_id"])
    assert world.post(path, agent_token, {"user_id": agent["user_id"]}).status == 403
    assert world.post(path, manager_token, {"user_id": outsider["user_id"]}).json["error"]["details"][0]["field"] \
        == "user_id"
    reply = world.post(path, manager_token, {"user_id": agent["user_id"]})
    assert reply.status == 200
    assert reply.json["assigned_to"] == agent["user_id"] and reply.json["routing_state"] == "assigned"
    after = LeadRepository(world.deps.table).require(lead["lead_id"])
    assert after.routing_version > before.routing_version
    assert "assignment" in types(world, t, lead["lead_id"])
    scores = list(world.deps.table.query(f"USER#{agent['user_id']}", sk_condition="begins_with(#sk, :s)",
                                         sk_values={":s": "SCORE#"}))
    assert [s["reason"] for s in scores] == ["assigned"]
    assert len(mentions(world, agent_token, "assigned")) == 1
    day = world.clock.now().date().isoformat()
    reports = [i for i in world.deps.table.query(keys.report_day_pk(a, day)) if i["kind"] == "lead_assigned"]
    assert len(reports) == 1 and reports[0]["user_id"] == agent["user_id"]
    # assigning to the same owner again changes nothing and earns nothing
    assert world.post(path, manager_token, {"user_id": agent["user_id"]}).status == 200
    assert len(list(world.deps.table.query(f"USER#{agent['user_id']}", sk_condition="begins_with(#sk, :s)",
                                           sk_values={":s": "SCORE#"}))) == 1
    assert [r["lead_id"] for r in world.get(f"/leads?assigned_to={agent['user_id']}", t.token).json["items"]] \
        == [lead["lead_id"]]


def test_inputs_dynamodb_cannot_hold_are_400_or_404_never_500(world: World) -> None:
    t = world.tenant()
    lead = new_lead(world, t)
    path = f"/leads/{lead['lead_id']}"
    for financial in ({"apr": float("nan")}, {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {}}}}}}}}}},
                      {"blob": "x" * 20_000}, {"": 1}):
        reply = world.call("PATCH", path, t.token, raw=json_text({"financial": financial}))
        assert reply.status == 400 and reply.json["error"]["details"][0]["field"] == "financial", financial
    long_id = "lead_" + "x" * 3000
    assert world.get(f"/leads/{long_id}", t.token).status == 404
    assert world.post(f"/accounts/{'a' * 3000}/leads", t.token, {"phone": "2125550100"}).status == 404
    reply = world.get(f"/leads?assigned_to={'u' * 3000}&q={'q' * 300}", t.token)
    assert reply.status == 400 and {d["field"] for d in reply.json["error"]["details"]} == {"assigned_to", "q"}
    from chalicelib.domain.lead_query import LeadFilters, list_signature
    from chalicelib.domain.paging import encode_cursor

    signature = list_signature([t.accounts[0]["account_id"]], "inbox", LeadFilters(), None)
    forged = encode_cursor({"s": signature, "p": {t.accounts[0]["account_id"]: "z" * 5000}, "x": []})
    assert world.get(f"/leads?cursor={forged}", t.token).status == 400
    note = "@" + "a" * 3000 + "@acme.com hello"
    assert world.post(f"{path}/notes", t.token, {"text": note}).status == 201
    for i in range(50):
        assert world.post(f"{path}/labels", t.token, {"label": f"l{i}"}).status == 200
    assert world.post(f"{path}/labels", t.token, {"label": "one-too-many"}).status == 400


def json_text(body: Any) -> str:
    import json

    return json.dumps(body)  # NaN is written as the bare token NaN, which the API's parser reads


def test_patch_names_every_bad_field_and_keeps_a_way_to_reach_the_customer(world: World) -> None:
    t = world.tenant()
    lead = new_lead(world, t)
    bad = world.patch(f"/leads/{lead['lead_id']}", t.token, {"status": "lukewarm", "email": "x", "phone": "1"})
    assert bad.status == 400
    assert {d["field"] for d in bad.json["error"]["details"]} == {"status", "email", "phone"}

    stripped = world.patch(f"/leads/{lead['lead_id']}", t.token, {"phone": None, "email": None})
    assert stripped.status == 400
    assert {d["field"] for d in stripped.json["error"]["details"]} == {"phone", "email"}
    kept = world.get(f"/leads/{lead['lead_id']}", t.token).json
    assert (kept["phone"], kept["email"]) == (lead["phone"], lead["email"])
    # one of the two may go, as long as the other stays
    assert world.patch(f"/leads/{lead['lead_id']}", t.token, {"email": None}).status == 200
