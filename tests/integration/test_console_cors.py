"""The deployed console's origin, and no other, may read the API's answers (CORS)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import World

CONSOLE = "https://d111111abcdef8.cloudfront.net"


@pytest.fixture
def console_origin(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    from chalicelib.config import reset_settings

    monkeypatch.setenv("LEADLINE_CONSOLE_ORIGIN", CONSOLE)
    reset_settings()
    yield world
    monkeypatch.undo()
    reset_settings()


def test_the_console_origin_gets_the_header_on_answers_and_errors(console_origin: World) -> None:
    t = console_origin.tenant()
    ok = console_origin.get("/me", t.token, headers={"Origin": CONSOLE})
    assert ok.status == 200
    assert ok.headers["Access-Control-Allow-Origin"] == CONSOLE and ok.headers["Vary"] == "Origin"
    refused = console_origin.get("/me", headers={"Origin": CONSOLE})
    assert refused.status == 401 and refused.headers["Access-Control-Allow-Origin"] == CONSOLE


def test_other_origins_and_the_local_stack_get_none(console_origin: World) -> None:
    t = console_origin.tenant()
    other = console_origin.get("/me", t.token, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "Access-Control-Allow-Origin" not in console_origin.get("/me", t.token).headers


def test_without_a_configured_origin_nobody_gets_it(world: World) -> None:
    t = world.tenant()
    reply = world.get("/me", t.token, headers={"Origin": CONSOLE})
    assert "Access-Control-Allow-Origin" not in reply.headers
