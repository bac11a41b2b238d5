"""Restricted agents see and act only on the leads assigned to them — lists in every folder and
mode, search, detail, timeline, notes, labels, locks, notifications — and another group sees nothing."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.leads import FOLDERS
from tests.support import World


def _setup(world: World) -> dict[str, Any]:
    t = world.tenant(stores=2)
    a, b = (x["account_id"] for x in t.accounts)
    agent, token = world.user(t, "restricted@acme.com", account_ids=[a, b], restricted=True)
    colleague, _ = world.user(t, "colleague@acme.com", account_ids=[a, b])
    mine_a = world.post(f"/accounts/{a}/leads", t.token, {"first_name": "Mine", "phone": "2125550101",
                                                          "email": "mine@gmail.com"}).json
    mine_b = world.post(f"/accounts/{b}/leads", t.token, {"first_name": "Mine", "phone": "2125550102"}).json
    theirs = world.post(f"/accounts/{a}/leads", t.token, {"first_name": "Theirs", "phone": "2125550103"}).json
    unassigned = world.post(f"/accounts/{a}/leads", t.token, {"first_name": "Nobody", "phone": "2125550104"}).json
    for lead, owner in ((mine_a, agent), (mine_b, agent), (theirs, colleague)):
        assert world.post(f"/leads/{lead['lead_id']}/assign", t.token, {"user_id": owner["user_id"]}).status == 200
    return {"t": t, "a": a, "b": b, "agent": agent, "token": token, "colleague": colleague,
            "mine": {mine_a["lead_id"], mine_b["lead_id"]}, "theirs": theirs["lead_id"],
            "unassigned": unassigned["lead_id"]}


def test_lists_show_only_their_leads_in_every_folder_and_mode(world: World) -> None:
    s = _setup(world)
    token = s["token"]
    for folder in FOLDERS:
        for scope in ("", f"&account_id={s['a']}"):
            ids = {r["lead_id"] for r in world.get(f"/leads?folder={folder}{scope}", token).json["items"]}
            assert ids <= s["mine"], (folder, scope)
    assert {r["lead_id"] for r in world.get("/leads", token).json["items"]} == s["mine"]
    assert {r["lead_id"] for r in world.get("/leads?folder=awaiting", token).json["items"]} == s["mine"]
    # search and filters cannot reach past the restriction
    assert world.get("/leads?q=theirs", token).json["items"] == []
    assert world.get("/leads?q=nobody", token).json["items"] == []
    assert world.get(f"/leads?assigned_to={s['colleague']['user_id']}", token).json["items"] == []
    assert world.get("/leads?assigned_to=none", token).json["items"] == []
    assert [r["first_name"] for r in world.get("/leads?q=mine%40gmail", token).json["items"]] == ["Mine"]


def test_detail_and_every_action_on_other_leads_is_404(world: World) -> None:
    s = _setup(world)
    token = s["token"]
    for other in (s["theirs"], s["unassigned"]):
        assert world.get(f"/leads/{other}", token).status == 404
        assert world.get(f"/leads/{other}/timeline", token).status == 404
        assert world.patch(f"/leads/{other}", token, {"status": "hot"}).status == 404
        assert world.post(f"/leads/{other}/notes", token, {"text": "x"}).status == 404
        assert world.post(f"/leads/{other}/labels", token, {"label": "x"}).status == 404
        assert world.delete(f"/leads/{other}/labels/x", token).status == 404
        assert world.post(f"/leads/{other}/lock", token).status == 404
        assert world.delete(f"/leads/{other}/lock", token).status == 404
        assert world.post(f"/leads/{other}/assign", token, {"user_id": s["agent"]["user_id"]}).status == 404
    mine = sorted(s["mine"])[0]
    assert world.get(f"/leads/{mine}", token).status == 200
    assert world.get(f"/leads/{mine}/timeline", token).status == 200
    assert world.patch(f"/leads/{mine}", token, {"status": "hot"}).status == 200
    assert world.post(f"/leads/{mine}/notes", token, {"text": "called"}).status == 201
    assert world.post(f"/leads/{mine}/lock", token).status == 200
    # their own lead, but assigning is for managers
    assert world.post(f"/leads/{mine}/assign", token, {"user_id": s["agent"]["user_id"]}).status == 403


def test_losing_the_assignment_hides_the_lead(world: World) -> None:
    s = _setup(world)
    mine = sorted(s["mine"])[0]
    assert world.post(f"/leads/{mine}/assign", s["t"].token, {"user_id": s["colleague"]["user_id"]}).status == 200
    assert world.get(f"/leads/{mine}", s["token"]).status == 404
    assert mine not in {r["lead_id"] for r in world.get("/leads", s["token"]).json["items"]}


def test_another_group_sees_nothing(world: World) -> None:
    s = _setup(world)
    other = world.tenant("Beta", "b@beta.com")
    lead = sorted(s["mine"])[0]
    assert world.get(f"/leads/{lead}", other.token).status == 404
    assert world.get(f"/leads/{lead}/timeline", other.token).status == 404
    assert world.patch(f"/leads/{lead}", other.token, {"status": "hot"}).status == 404
    assert world.post(f"/leads/{lead}/assign", other.token, {"user_id": other.admin_id}).status == 404
    assert world.get("/leads", other.token).json["items"] == []
    assert world.get(f"/leads?account_id={s['a']}", other.token).status == 404


def test_a_manager_sees_only_their_stores(world: World) -> None:
    s = _setup(world)
    _, manager_token = world.user(s["t"], "mgr@acme.com", role="manager", account_ids=[s["b"]])
    ids = {r["lead_id"] for r in world.get("/leads", manager_token).json["items"]}
    assert len(ids) == 1 and ids <= s["mine"]
    assert world.get(f"/leads/{s['theirs']}", manager_token).status == 404
    assert world.get(f"/leads?account_id={s['a']}", manager_token).status == 404
