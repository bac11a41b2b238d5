"""A person in several groups (#18 item 8): inviting an address another group uses answers exactly
as for a new person, the person picks a group with X-Leadline-Group, and no answer tells one group
about another's users."""

from __future__ import annotations

from tests.support import World, dynamodb_calls


def _invite(world: World, token: str, store: str, email: str, role: str = "agent") -> tuple[int, dict]:
    reply = world.post("/users", token, {"email": email, "name": "Pat Person", "role": role, "account_ids": [store]})
    return reply.status, reply.json


def _shape(view: dict) -> dict:
    """What a new user's answer shows, without the values that differ between any two users."""
    return {k: v for k, v in view.items() if k not in ("user_id", "group_id", "email", "created_at", "updated_at")}


def test_inviting_another_groups_user_answers_as_for_a_new_person(world: World) -> None:
    a = world.tenant("Alpha Motors", "owner@alpha.com")
    b = world.tenant("Beta Cars", "owner@beta.com")
    a_store, b_store = a.accounts[0]["account_id"], b.accounts[0]["account_id"]
    status_a, pat_a = _invite(world, a.token, a_store, "pat@example.com")
    status_new, fresh = _invite(world, b.token, b_store, "nobody-yet@example.com")
    status_b, pat_b = _invite(world, b.token, b_store, "Pat@Example.com")

    assert status_a == status_new == status_b == 201
    assert _shape(pat_b) == _shape(fresh) and set(pat_b) == set(fresh)
    assert pat_b["group_id"] == b.group_id and pat_b["user_id"] != pat_a["user_id"]
    # The same address twice in one group is that group's own conflict, named.
    again, body = _invite(world, b.token, b_store, "pat@example.com")
    assert again == 409 and body["error"]["details"] == [{"field": "email", "message": "is already in use"}]
    # Each group sees only its own record of the person.
    assert [u["user_id"] for u in world.get("/users", a.token).json["items"] if u["email"] == "pat@example.com"] \
        == [pat_a["user_id"]]
    assert world.get(f"/users/{pat_a['user_id']}", b.token).status == 404


def test_the_person_signs_in_once_and_picks_a_group(world: World) -> None:
    a = world.tenant("Alpha Motors", "owner@alpha.com")
    b = world.tenant("Beta Cars", "owner@beta.com")
    _, pat_a = _invite(world, a.token, a.accounts[0]["account_id"], "pat@example.com")
    _, pat_b = _invite(world, b.token, b.accounts[0]["account_id"], "pat@example.com", role="manager")
    token = world.token(world.deps.users.identity_of("pat@example.com") or "")

    me = world.get("/me", token).json
    assert me["user_id"] == pat_a["user_id"] and me["group_id"] == a.group_id and me["role"] == "agent"
    assert [(g["group_id"], g["group_name"], g["role"]) for g in me["groups"]] == [
        (a.group_id, "Alpha Motors", "agent"), (b.group_id, "Beta Cars", "manager")]
    in_b = world.call("GET", "/me", token, headers={"X-Leadline-Group": b.group_id})
    assert in_b.status == 200 and in_b.json["user_id"] == pat_b["user_id"] and in_b.json["role"] == "manager"
    assert world.call("GET", "/leads", token, headers={"X-Leadline-Group": b.group_id}).status == 200
    # A group the person does not belong to, real or not, is the same 401.
    other = world.tenant("Gamma Group", "owner@gamma.com")
    for group_id in (other.group_id, "grp_nonexistent", "x" * 2000, "grp#1", "grö"):
        reply = world.call("GET", "/me", token, headers={"X-Leadline-Group": group_id})
        assert reply.status == 401 and reply.error_code == "unauthorized"


def test_leaving_one_group_keeps_the_others_and_the_last_one_out_ends_the_sign_in(world: World) -> None:
    a = world.tenant("Alpha Motors", "owner@alpha.com")
    b = world.tenant("Beta Cars", "owner@beta.com")
    _, pat_a = _invite(world, a.token, a.accounts[0]["account_id"], "pat@example.com")
    _, pat_b = _invite(world, b.token, b.accounts[0]["account_id"], "pat@example.com")
    token = world.token(world.deps.users.identity_of("pat@example.com") or "")

    assert world.delete(f"/users/{pat_a['user_id']}", a.token).status == 204
    me = world.get("/me", token)
    assert me.status == 200 and me.json["user_id"] == pat_b["user_id"] and me.json["group_id"] == b.group_id
    assert world.call("GET", "/me", token, headers={"X-Leadline-Group": a.group_id}).status == 401
    # Group A may invite the person again: a new membership of the same person.
    status, back = _invite(world, a.token, a.accounts[0]["account_id"], "pat@example.com")
    assert status == 201 and back["user_id"] != pat_a["user_id"]
    assert world.delete(f"/users/{back['user_id']}", a.token).status == 204
    assert world.delete(f"/users/{pat_b['user_id']}", b.token).status == 204
    assert world.get("/me", token).status == 401
    assert world.deps.users.identity_of("pat@example.com") is None


def test_an_address_change_never_moves_another_groups_sign_in(world: World) -> None:
    a = world.tenant("Alpha Motors", "owner@alpha.com")
    b = world.tenant("Beta Cars", "owner@beta.com")
    _, pat_a = _invite(world, a.token, a.accounts[0]["account_id"], "pat@example.com")
    _invite(world, b.token, b.accounts[0]["account_id"], "pat@example.com")
    _, sam_b = _invite(world, b.token, b.accounts[0]["account_id"], "sam@example.com")
    pat = world.token(world.deps.users.identity_of("pat@example.com") or "")

    # Group A corrects its record of Pat to a new address: Pat keeps signing in to B as before,
    # and A's record now belongs to whoever signs in with the new address.
    fixed = world.patch(f"/users/{pat_a['user_id']}", a.token, {"email": "pat.new@example.com"})
    assert fixed.status == 200 and fixed.json["email"] == "pat.new@example.com"
    me = world.get("/me", pat).json
    assert me["group_id"] == b.group_id and [g["group_id"] for g in me["groups"]] == [b.group_id]
    newcomer = world.token(world.deps.users.identity_of("pat.new@example.com") or "")
    assert world.get("/me", newcomer).json["user_id"] == pat_a["user_id"]
    # Moving a record to an address another group uses answers as any free address would.
    moved = world.patch(f"/users/{pat_a['user_id']}", a.token, {"email": "sam@example.com"})
    assert moved.status == 200 and moved.json["email"] == "sam@example.com"
    sam = world.token(world.deps.users.identity_of("sam@example.com") or "")
    assert {g["group_id"] for g in world.get("/me", sam).json["groups"]} == {a.group_id, b.group_id}
    assert world.get("/me", sam).json["user_id"] == sam_b["user_id"]
    assert world.get("/me", newcomer).status == 401


def test_mentions_reach_the_groups_own_record_of_a_shared_person(world: World) -> None:
    a = world.tenant("Alpha Motors", "owner@alpha.com")
    b = world.tenant("Beta Cars", "owner@beta.com")
    _invite(world, a.token, a.accounts[0]["account_id"], "pat@example.com")
    _, pat_b = _invite(world, b.token, b.accounts[0]["account_id"], "pat@example.com")
    lead = world.post(f"/accounts/{b.accounts[0]['account_id']}/leads", b.token,
                      {"first_name": "Lee", "phone": "+13125550123"})
    assert lead.status == 201, lead.json
    note = world.post(f"/leads/{lead.json['lead_id']}/notes", b.token, {"text": "@pat@example.com call Lee"})
    assert note.status == 201, note.json
    pat = world.token(world.deps.users.identity_of("pat@example.com") or "")
    in_b = world.call("GET", "/me/notifications", pat, headers={"X-Leadline-Group": b.group_id}).json["items"]
    in_a = world.get("/me/notifications", pat).json["items"]
    assert [n["lead_id"] for n in in_b if n["kind"] == "mention"] == [lead.json["lead_id"]]
    assert [n for n in in_a if n["kind"] == "mention"] == []
    assert world.call("GET", "/me", pat, headers={"X-Leadline-Group": b.group_id}).json["user_id"] == pat_b["user_id"]


def test_me_names_every_group_of_the_person_in_one_read(world: World) -> None:
    from collections import Counter

    groups = [world.tenant(name, f"owner@{name.lower()}.com") for name in ("Alpha", "Beta", "Gamma")]
    for group in groups:
        _invite(world, group.token, group.accounts[0]["account_id"], "pat@example.com")
    token = world.token(world.deps.users.identity_of("pat@example.com") or "")
    with dynamodb_calls() as calls:
        me = world.get("/me", token).json
    assert [g["group_name"] for g in me["groups"]] == ["Alpha", "Beta", "Gamma"]
    # the caller's record; their memberships; the other records and the groups' names together
    assert calls == Counter({"GetItem": 1, "Query": 1, "BatchGetItem": 1})
