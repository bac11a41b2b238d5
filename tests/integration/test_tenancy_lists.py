"""GET /users and GET /accounts page with `limit` / `cursor` as the contract's lists do: every
visible item exactly once, pages never short in the middle, `next_cursor` null exactly at the
end, the same visibility as the unpaged list had, and a cursor only works on its own list."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from chalicelib.adapters.dynamodb import tenancy
from tests.support import Tenant, World


def walk(world: World, path: str, token: str, limit: int) -> list[list[dict[str, Any]]]:
    """Every page of a list, following next_cursor; asserts the reply shape on the way."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        reply = world.get(path + query, token)
        assert reply.status == 200, reply.json
        assert set(reply.json) == {"items", "next_cursor"}
        pages.append(reply.json["items"])
        cursor = reply.json["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "the cursor does not advance"


def cursor_state(cursor: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def bad_field(world: World, path: str, token: str) -> str:
    reply = world.get(path, token)
    assert reply.status == 400, (path, reply.status, reply.json)
    assert reply.error_code == "validation_failed"
    return str(reply.json["error"]["details"][0]["field"])


# -- users ------------------------------------------------------------------------------------

def people(world: World) -> tuple[Tenant, dict[str, tuple[dict[str, Any], str]]]:
    """A group of 7 users over 3 stores: the owner plus six others, emails chosen so that users an
    agent of store 1 cannot see sort in between and after the ones they can."""
    t = world.tenant(stores=3)
    s1, s2, s3 = (a["account_id"] for a in t.accounts)
    users = {
        "anna": world.user(t, "anna@acme.com", "agent", [s1]),
        "bert": world.user(t, "bert@acme.com", "admin", [s2]),
        "cleo": world.user(t, "cleo@acme.com", "manager", [s1, s3]),
        "dora": world.user(t, "dora@acme.com", "group_admin", []),
        "emil": world.user(t, "emil@acme.com", "agent", [s2, s3]),
        "zara": world.user(t, "zara@acme.com", "agent", [s2]),
    }
    return t, users


def test_a_group_admin_walks_seven_users_three_at_a_time(world: World) -> None:
    t, _ = people(world)
    pages = walk(world, "/users", t.token, 3)
    assert [len(p) for p in pages] == [3, 3, 1]
    emails = [u["email"] for p in pages for u in p]
    assert emails == sorted(emails) and len(set(emails)) == 7
    assert set(emails) == {"anna@acme.com", "bert@acme.com", "cleo@acme.com", "dora@acme.com", "emil@acme.com",
                           "owner@acme.com", "zara@acme.com"}
    # Without a limit: the default (50) holds them all on one page.
    whole = world.get("/users", t.token).json
    assert [u["email"] for u in whole["items"]] == emails and whole["next_cursor"] is None


@pytest.mark.parametrize("read_ahead", [tenancy.SPARSE_READ_AHEAD, 1])
def test_agents_and_admins_see_through_pages_whom_they_saw_before(
        world: World, monkeypatch: pytest.MonkeyPatch, read_ahead: int) -> None:
    # read_ahead 1: every Query returns a single user, so skipped users fall between Queries too.
    monkeypatch.setattr(tenancy, "SPARSE_READ_AHEAD", read_ahead)
    _, users = people(world)
    world.user(world.tenant("Beta", "owner@beta.com"), "anna2@beta.com")  # another group's users stay out
    seen_by = {
        # group admins (owner, dora), oneself, and whoever shares a store
        "anna": {"anna", "cleo", "dora", "owner"},
        "bert": {"bert", "dora", "emil", "owner", "zara"},
        "cleo": {"anna", "cleo", "dora", "emil", "owner"},
        "emil": {"bert", "cleo", "dora", "emil", "owner", "zara"},
    }
    for name, expected in seen_by.items():
        token = users[name][1]
        expected_emails = sorted(f"{n}@acme.com" for n in expected)
        for limit in (1, 2, len(expected)):
            pages = walk(world, "/users", token, limit)
            emails = [u["email"] for p in pages for u in p]
            assert emails == expected_emails, (name, limit)
            # Full pages until the last; the last is never empty: a null cursor came with it.
            assert all(len(p) == limit for p in pages[:-1]) and 0 < len(pages[-1]) <= limit, (name, limit)
            assert len(pages) == -(-len(expected) // limit), (name, limit)


def test_a_deleted_user_leaves_the_pages(world: World) -> None:
    t, users = people(world)
    assert world.delete(f"/users/{users['bert'][0]['user_id']}", t.token).status == 204
    emails = [u["email"] for p in walk(world, "/users", t.token, 2) for u in p]
    assert "bert@acme.com" not in emails and len(emails) == 6


def test_a_cursor_names_only_users_the_caller_was_shown(world: World) -> None:
    _, users = people(world)
    first = world.get("/users?limit=1", users["anna"][1]).json
    # anna@ is first by email and visible; the cursor carries the last user of the page, nothing further.
    assert first["items"][0]["email"] == "anna@acme.com"
    assert first["items"][0]["email"] in cursor_state(first["next_cursor"])["a"]


def test_bad_limits_are_400_naming_limit(world: World) -> None:
    t = world.tenant()
    for path in ("/users", "/accounts"):
        for value in ("0", "201", "abc", "-1", "1.5", "%20"):
            assert bad_field(world, f"{path}?limit={value}", t.token) == "limit", (path, value)
        assert world.get(f"{path}?limit=200", t.token).status == 200
        assert world.get(f"{path}?limit=1", t.token).status == 200


def leads_cursor(world: World, t: Tenant) -> str:
    account_id = t.accounts[0]["account_id"]
    for phone in ("2125550101", "2125550102"):
        assert world.post(f"/accounts/{account_id}/leads", t.token,
                          {"first_name": "Lee", "phone": phone, "source": "Web"}).status == 201
    reply = world.get("/leads?limit=1", t.token)
    assert reply.status == 200 and reply.json["next_cursor"]
    return str(reply.json["next_cursor"])


def test_a_cursor_of_another_list_group_or_caller_is_400_naming_cursor(world: World) -> None:
    t, users = people(world)
    beta = world.tenant("Beta", "owner@beta.com", stores=2)
    world.user(beta, "agent1@beta.com")
    world.user(beta, "agent2@beta.com")
    beta_users = world.get("/users?limit=1", beta.token).json["next_cursor"]
    beta_accounts = world.get("/accounts?limit=1", beta.token).json["next_cursor"]
    own_users = world.get("/users?limit=1", t.token).json["next_cursor"]
    own_accounts = world.get("/accounts?limit=1", t.token).json["next_cursor"]
    anna_users = world.get("/users?limit=1", users["anna"][1]).json["next_cursor"]
    assert beta_users and beta_accounts and own_users and own_accounts and anna_users
    foreign = {
        "garbage": "garbage",
        "not base64 json": "%21%21%21",
        "json that is no cursor": base64.urlsafe_b64encode(b"[1,2]").decode(),
        "another group's users": beta_users,
        "another group's accounts": beta_accounts,
        "the leads list": leads_cursor(world, t),
        "another caller's users": anna_users,
    }
    for what, cursor in foreign.items():
        for path in ("/users", "/accounts"):
            assert bad_field(world, f"{path}?cursor={cursor}&limit=2", t.token) == "cursor", (what, path)
    # Each list refuses the other's cursor.
    assert bad_field(world, f"/users?cursor={own_accounts}", t.token) == "cursor"
    assert bad_field(world, f"/accounts?cursor={own_users}", t.token) == "cursor"
    # A cursor of the right list whose position was tampered with is refused, not a 5xx.
    state = cursor_state(own_users)
    for position in ([], ["a"], [1, 2], ["x" * 300, "y"], ["", "usr"]):
        forged = base64.urlsafe_b64encode(json.dumps({**state, "a": position}).encode()).decode().rstrip("=")
        assert bad_field(world, f"/users?cursor={forged}", t.token) == "cursor", position
    # The genuine cursors still work where they belong.
    assert world.get(f"/users?limit=1&cursor={own_users}", t.token).status == 200
    assert world.get(f"/users?limit=1&cursor={beta_users}", beta.token).status == 200
    assert world.get(f"/accounts?limit=1&cursor={own_accounts}", t.token).status == 200


# -- accounts ---------------------------------------------------------------------------------

def test_a_group_admin_walks_seven_stores_three_at_a_time(world: World) -> None:
    t = world.tenant(stores=7)
    world.tenant("Beta", "owner@beta.com", stores=2)  # another group's stores stay out
    pages = walk(world, "/accounts", t.token, 3)
    assert [len(p) for p in pages] == [3, 3, 1]
    ids = [a["account_id"] for p in pages for a in p]
    assert ids == sorted(ids) and set(ids) == {a["account_id"] for a in t.accounts}
    assert all(a["api_key"] for p in pages for a in p)  # a group admin still sees the api keys


def test_admins_and_agents_see_through_pages_their_stores_only(world: World) -> None:
    t = world.tenant(stores=7)
    ids = [a["account_id"] for a in t.accounts]
    mine = sorted([ids[1], ids[3], ids[4], ids[6]])
    beta = world.tenant("Beta", "owner@beta.com", stores=1)
    _, admin_token = world.user(t, "admin@acme.com", "admin", mine)
    _, agent_token = world.user(t, "agent@acme.com", "agent", [ids[5]])
    for limit in (1, 3, 4, 5):
        pages = walk(world, "/accounts", admin_token, limit)
        assert [a["account_id"] for p in pages for a in p] == mine, limit
        assert all(len(p) == limit for p in pages[:-1]) and 0 < len(pages[-1]) <= limit, limit
        assert all(a["api_key"] for p in pages for a in p)
    pages = walk(world, "/accounts", agent_token, 1)
    assert [[a["account_id"] for a in p] for p in pages] == [[ids[5]]]
    assert pages[0][0]["api_key"] is None
    # A cursor of the admin's list is not the agent's list, nor another group's.
    admin_cursor = world.get("/accounts?limit=1", admin_token).json["next_cursor"]
    assert bad_field(world, f"/accounts?cursor={admin_cursor}", agent_token) == "cursor"
    assert bad_field(world, f"/accounts?cursor={admin_cursor}", beta.token) == "cursor"


# -- lists whose cursor is the Query's own position -------------------------------------------

def test_a_foreign_cursor_on_the_other_lists_is_400_not_a_5xx(world: World) -> None:
    from chalicelib.adapters.dynamodb.notifications import NotificationRepository
    from chalicelib.domain.notifications import Notification

    t, users = people(world)
    anna, anna_token = users["anna"]
    bert, bert_token = users["bert"]
    notes = NotificationRepository(world.deps.table)
    for i in range(2):
        for user in (anna, bert):
            notes.add(Notification(notification_id=f"ntf_{i}", user_id=user["user_id"], kind="mention", title="hi",
                                   text="hi", at=f"2026-11-0{i + 1}T10:00:00.000Z"), ttl=2_000_000_000)
    anna_notes = world.get("/me/notifications?limit=1", anna_token).json["next_cursor"]
    assert anna_notes
    users_cursor = world.get("/users?limit=1", t.token).json["next_cursor"]
    store = t.accounts[0]["account_id"]
    for path in ("/me/notifications", "/me/offers", f"/accounts/{store}/saved-replies"):
        for cursor in (users_cursor, anna_notes, "garbage"):
            assert bad_field(world, f"{path}?cursor={cursor}", bert_token if "notif" in path else t.token) \
                == "cursor", (path, cursor)
    # A position in the caller's own partition but outside the notifications is not a cursor either.
    from chalicelib.domain.paging import encode_cursor

    forged = encode_cursor({"PK": f"USER#{anna['user_id']}", "SK": "PROFILE"})
    assert bad_field(world, f"/me/notifications?cursor={forged}", anna_token) == "cursor"
    # The owner's own cursor still pages on, each notification once.
    second = world.get(f"/me/notifications?limit=1&cursor={anna_notes}", anna_token).json
    first = world.get("/me/notifications?limit=1", anna_token).json
    assert [n["notification_id"] for n in first["items"] + second["items"]] == ["ntf_1", "ntf_0"]
