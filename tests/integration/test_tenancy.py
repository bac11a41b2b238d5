"""Auth and tenancy through the HTTP surface: 401 / 403 / 404 rules of the contract."""

from __future__ import annotations

import base64
import json

import jwt

from tests.support import World


def test_health_needs_no_token(world: World) -> None:
    reply = world.get("/health")
    assert reply.status == 200 and reply.json == {"status": "ok"}


def test_me_shows_role_and_accounts(world: World) -> None:
    t = world.tenant(stores=2)
    me = world.get("/me", t.token).json
    assert me["role"] == "group_admin"
    assert sorted(me["account_ids"]) == sorted(a["account_id"] for a in t.accounts)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_bad_tokens_are_401(world: World) -> None:
    t = world.tenant()
    now = int(world.clock.now().timestamp())
    none_alg = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64({'sub': t.admin_id, 'exp': now + 60})}."
    forged = jwt.encode({"sub": t.admin_id, "exp": now + 60}, "not-the-secret-0123456789abcdef01", algorithm="HS256")
    expired = jwt.encode({"sub": t.admin_id, "exp": now - 1}, world.deps.settings.jwt_secret, algorithm="HS256")
    unknown = world.token("usr_nobody")
    hs512 = jwt.encode({"sub": t.admin_id, "exp": now + 60}, world.deps.settings.jwt_secret, algorithm="HS512")
    for token in (none_alg, forged, expired, unknown, hs512, "garbage"):
        reply = world.get("/me", token)
        assert reply.status == 401, token
        assert reply.error_code == "unauthorized"
    assert world.get("/me").status == 401
    assert world.call("GET", "/me", headers={"Authorization": "Basic abc"}).status == 401


def test_token_expiry_follows_the_clock(world: World) -> None:
    t = world.tenant()
    assert world.get("/me", t.token).status == 200
    world.clock.advance(hours=13)
    assert world.get("/me", t.token).status == 401


def test_deleted_user_token_stops_working_at_once(world: World) -> None:
    t = world.tenant()
    agent, agent_token = world.user(t, "agent@acme.com")
    assert world.get("/me", agent_token).status == 200
    assert world.delete(f"/users/{agent['user_id']}", t.token).status == 204
    assert world.get("/me", agent_token).status == 401
    # the email is free again
    again, _ = world.user(t, "agent@acme.com")
    assert again["user_id"] != agent["user_id"]


def test_another_group_sees_nothing(world: World) -> None:
    a = world.tenant("Alpha", "a@alpha.com")
    b = world.tenant("Beta", "b@beta.com")
    a_account = a.accounts[0]["account_id"]
    agent_a, _ = world.user(a, "agent@alpha.com")
    assert world.get(f"/accounts/{a_account}", b.token).status == 404
    assert world.patch(f"/accounts/{a_account}", b.token, {"name": "mine"}).status == 404
    assert world.get(f"/users/{agent_a['user_id']}", b.token).status == 404
    assert world.patch(f"/users/{agent_a['user_id']}", b.token, {"name": "x"}).status == 404
    assert world.delete(f"/users/{agent_a['user_id']}", b.token).status == 404
    assert [x["account_id"] for x in world.get("/accounts", b.token).json["items"]] == [b.accounts[0]["account_id"]]
    assert all(u["group_id"] == b.group_id for u in world.get("/users", b.token).json["items"])
    # granting another group's store is 404 too, and nothing is created
    reply = world.post("/users", b.token, {"email": "x@beta.com", "name": "X", "role": "agent",
                                           "account_ids": [a_account]})
    assert reply.status == 404


def test_a_group_admin_enters_leads_only_into_their_own_groups_stores(world: World) -> None:
    """A group_admin's single-store writes are authorised on the store's own record (its group), not
    by reading every store of their group on each request: another group's store stays a 404."""
    from typing import Any

    from chalicelib.adapters.aws import client

    a = world.tenant("Alpha", "a@alpha.com", stores=2)
    b = world.tenant("Beta", "b@beta.com")
    a_store, b_store = a.accounts[1]["account_id"], b.accounts[0]["account_id"]
    lead = {"first_name": "Pat", "phone": "+13125550177", "source": "Web", "channel": "web"}
    adf = "<?xml version='1.0'?><adf><prospect><customer><contact><name part='full'>Pat</name>" \
          "<phone>3125550178</phone></contact></customer></prospect></adf>"
    for token, store in ((b.token, a_store), (a.token, b_store), (a.token, "acc_" + "x" * 300)):
        refused = world.post(f"/accounts/{store}/leads", token, lead)
        assert refused.status == 404 and refused.error_code == "not_found", refused.json
        as_adf = world.call("POST", f"/accounts/{store}/leads/adf", token, raw=adf,
                            headers={"Content-Type": "application/xml"})
        assert as_adf.status == 404
    assert world.get("/leads", b.token).json["items"] == []
    queried: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        queried.append(params["ExpressionAttributeValues"][":pk"]["S"])

    dynamodb = client("dynamodb")
    dynamodb.meta.events.register("before-parameter-build.dynamodb.Query", record)
    try:
        made = world.post(f"/accounts/{a_store}/leads", a.token, lead)
        during_intake, queried[:] = list(queried), []
        listed = world.get("/leads", a.token)
    finally:
        dynamodb.meta.events.unregister("before-parameter-build.dynamodb.Query", record)
    assert made.status == 201 and made.json["account_id"] == a_store
    # Entering the lead read no list of the group's stores; listing every store does.
    stores_of_a = f"GROUP#{a.group_id}#ACCOUNTS"
    assert stores_of_a not in during_intake, during_intake
    assert stores_of_a in queried, queried
    assert [x["lead_id"] for x in listed.json["items"]] == [made.json["lead_id"]]
    assert world.get(f"/leads?account_id={a_store}", a.token).json["items"][0]["lead_id"] == made.json["lead_id"]


def test_role_rules(world: World) -> None:
    t = world.tenant(stores=2)
    s1, s2 = (a["account_id"] for a in t.accounts)
    admin, admin_token = world.user(t, "admin@acme.com", role="admin", account_ids=[s1])
    manager, manager_token = world.user(t, "manager@acme.com", role="manager", account_ids=[s1])
    agent, agent_token = world.user(t, "agent@acme.com", role="agent", account_ids=[s1])

    # an admin cannot mint a group_admin, nor grant a store they do not manage
    assert world.post("/users", admin_token, {"email": "ga@acme.com", "name": "G", "role": "group_admin"}).status == 403
    assert world.post("/users", admin_token, {"email": "x@acme.com", "name": "X", "role": "agent",
                                              "account_ids": [s2]}).status == 404
    assert world.post("/users", admin_token, {"email": "y@acme.com", "name": "Y", "role": "agent",
                                              "account_ids": [s1]}).status == 201
    # managers and agents cannot invite
    assert world.post("/users", manager_token, {"email": "z@acme.com", "name": "Z", "role": "agent",
                                                "account_ids": [s1]}).status == 403
    # nobody raises their own role
    assert world.patch(f"/users/{admin['user_id']}", admin_token, {"role": "group_admin"}).status == 403
    assert world.patch(f"/users/{agent['user_id']}", agent_token, {"role": "manager"}).status == 403
    assert world.patch(f"/users/{manager['user_id']}", admin_token, {"role": "admin"}).status == 200
    # an admin cannot touch a group admin
    assert world.patch(f"/users/{t.admin_id}", admin_token, {"name": "Nope"}).status == 403
    # only a group_admin opens stores; an agent cannot change store settings
    assert world.post("/accounts", admin_token, {"name": "N", "timezone": "UTC"}).status == 403
    assert world.patch(f"/accounts/{s1}", agent_token, {"name": "N"}).status == 403
    assert world.patch(f"/accounts/{s1}", admin_token, {"name": "Renamed"}).json["name"] == "Renamed"
    # the api key is for admins only
    assert world.get(f"/accounts/{s1}", admin_token).json["api_key"]
    assert world.get(f"/accounts/{s1}", agent_token).json["api_key"] is None
    # an agent of store 1 cannot see store 2
    assert world.get(f"/accounts/{s2}", agent_token).status == 404


def test_unavailable_flag(world: World) -> None:
    t = world.tenant()
    _, agent_token = world.user(t, "agent@acme.com")
    assert world.patch("/me", agent_token, {"available": False}).json["available"] is False
    assert world.get("/me", agent_token).json["available"] is False


def test_token_times_follow_the_injected_clock_not_the_wall_clock(world: World) -> None:
    world.clock.set("2027-03-01T12:00:00Z")  # months after the real date
    t = world.tenant()
    assert world.get("/me", t.token).status == 200
    now = int(world.clock.now().timestamp())
    early = jwt.encode({"sub": t.admin_id, "exp": now + 600, "nbf": now + 300}, world.deps.settings.jwt_secret,
                       algorithm="HS256")
    assert world.get("/me", early).status == 401
