"""Token times through the HTTP surface: a token signed with the right key whose exp, nbf or iat is
not an RFC 7519 NumericDate in a sane range is 401 — never a token that does not expire, never a 500."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from tests.support import World


def _signed(payload_json: str, secret: str) -> str:
    """An HS256 token over exactly this payload text (so NaN, Infinity and 400-digit numbers get in)."""
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(payload_json.encode())
    signature = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


SOON = "NOW+600"
BAD_TIMES: list[dict[str, Any]] = [
    {"exp": "NaN"}, {"exp": "Infinity"}, {"exp": "-Infinity"}, {"exp": '"NOW+600"'}, {"exp": "1" + "0" * 400},
    {"exp": "true"}, {"exp": "null"}, {"exp": "[NOW+600]"}, {"exp": "1e400"}, {"exp": "-1"},
    {"exp": SOON, "nbf": "NaN"}, {"exp": SOON, "nbf": "1" + "0" * 400}, {"exp": SOON, "nbf": '"0"'},
    {"exp": SOON, "iat": "NaN"}, {"exp": SOON, "iat": "Infinity"}, {"exp": SOON, "iat": '"yesterday"'},
    {"exp": SOON, "iat": "1" + "0" * 400}, {"exp": "253402300800"},
]


@pytest.mark.parametrize("times", BAD_TIMES, ids=[json.dumps(t)[:60] for t in BAD_TIMES])
def test_token_times_that_are_not_numeric_dates_are_401(world: World, times: dict[str, str]) -> None:
    t = world.tenant()
    now = int(world.clock.now().timestamp())
    claims = ", ".join(f'"{name}": {value.replace("NOW+600", str(now + 600))}' for name, value in times.items())
    token = _signed(f'{{"sub": "{t.admin_id}", {claims}}}', world.deps.settings.jwt_secret)
    reply = world.get("/me", token)
    assert reply.status == 401, reply.json
    assert reply.error_code == "unauthorized"


def test_numeric_dates_as_integers_or_fractions_are_taken(world: World) -> None:
    t = world.tenant()
    now = int(world.clock.now().timestamp())
    for claims in (f'"exp": {now + 600}, "iat": {now}, "nbf": {now}', f'"exp": {now + 600.5}, "iat": {now - 0.25}'):
        token = _signed(f'{{"sub": "{t.admin_id}", {claims}}}', world.deps.settings.jwt_secret)
        assert world.get("/me", token).status == 200, claims
