"""POST /auth/local/sign-in: the console's sign-in on the local stack, and nowhere else."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import World

PASSWORD = "abcd-efgh-jkmn"


@pytest.fixture
def local_stage(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    from chalicelib.config import reset_settings

    monkeypatch.setenv("LEADLINE_STAGE", "local")
    monkeypatch.setenv("LEADLINE_LOCAL_PASSWORD", PASSWORD)
    reset_settings()
    yield world
    monkeypatch.undo()
    reset_settings()


def test_the_demo_password_signs_a_user_in(local_stage: World) -> None:
    t = local_stage.tenant(email="owner@acme.com")
    reply = local_stage.post("/auth/local/sign-in", body={"email": "Owner@Acme.com", "password": PASSWORD})
    assert reply.status == 200
    assert reply.json["user"]["user_id"] == t.admin_id and reply.json["user"]["role"] == "group_admin"
    assert local_stage.get("/me", reply.json["token"]).json["user_id"] == t.admin_id


def test_a_wrong_password_and_an_unknown_email_get_the_same_401(local_stage: World) -> None:
    local_stage.tenant(email="owner@acme.com")
    wrong = local_stage.post("/auth/local/sign-in", body={"email": "owner@acme.com", "password": PASSWORD + "x"})
    unknown = local_stage.post("/auth/local/sign-in", body={"email": "nobody@acme.com", "password": PASSWORD})
    assert wrong.status == unknown.status == 401
    assert wrong.json["error"]["message"] == unknown.json["error"]["message"]


def test_a_deleted_user_cannot_sign_in(local_stage: World) -> None:
    t = local_stage.tenant(email="owner@acme.com")
    agent, _ = local_stage.user(t, "gone@acme.com")
    assert local_stage.delete(f"/users/{agent['user_id']}", t.token).status == 204
    assert local_stage.post("/auth/local/sign-in", body={"email": "gone@acme.com", "password": PASSWORD}).status == 401


def test_bad_input_names_the_field(local_stage: World) -> None:
    reply = local_stage.post("/auth/local/sign-in", body={"email": "not-an-email", "password": ""})
    assert reply.status == 400
    assert {d["field"] for d in reply.json["error"]["details"]} == {"email", "password"}


@pytest.mark.parametrize("stage, password", [("local", ""), ("prod", PASSWORD), ("test", PASSWORD)])
def test_other_stages_answer_as_if_the_route_did_not_exist(world: World, monkeypatch: pytest.MonkeyPatch,
                                                           stage: str, password: str) -> None:
    from chalicelib.config import reset_settings

    world.tenant(email="owner@acme.com")
    monkeypatch.setenv("LEADLINE_STAGE", stage)
    monkeypatch.setenv("LEADLINE_LOCAL_PASSWORD", password)
    reset_settings()
    try:
        reply = world.post("/auth/local/sign-in", body={"email": "owner@acme.com", "password": PASSWORD})
    finally:
        monkeypatch.undo()
        reset_settings()
    assert reply.status == 404
    assert reply.json["error"] == {"code": "not_found", "message": "no route has this path", "details": []}
