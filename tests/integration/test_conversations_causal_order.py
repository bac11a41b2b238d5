"""The timeline (GET /leads/{id}/timeline, oldest first) is causal: an automated answer never comes
before the message it answers, nor an opt-out before the STOP that caused it — whether time passes
while the webhook works (a clock that moves on every reading) or everything happens in one
millisecond (the fixed clock), where only the ids can order them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from chalicelib.domain import conversations as rules
from tests.integration.conversations_support import current, lead, sms, store
from tests.support import World


def _api_timeline(world: World, token: str, lead_id: str) -> list[dict[str, Any]]:
    reply = world.get(f"/leads/{lead_id}/timeline", token)
    assert reply.status == 200
    return list(reply.json["items"])


def _conversation(items: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """Messages and consent events, in the order the API gave them."""
    shown: list[tuple[str, ...]] = []
    for event in items:
        if event["type"] == "message":
            shown.append(("message", event["direction"], event["body"].strip().upper()[:4]))
        elif event["type"] in ("opt_out", "opt_in", "status"):
            shown.append((event["type"],))
    return shown


def test_help_answer_follows_the_help_while_the_clock_runs(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    s = store(world)
    existing = lead(world, s)
    token = s.admin_token

    def running() -> datetime:
        # Every reading is 7 ms after the previous one: the webhook's own lookups take time.
        return world.clock.advance(seconds=0.007)

    monkeypatch.setattr(world.clock, "now", running)
    reply = sms(world, "HELP", sid="SM000000000000000000000000000help1")
    assert reply.status == 200 and "Acme Honda" in reply.body.decode()
    items = _api_timeline(world, token, existing.lead_id)
    [question] = [e for e in items if e["type"] == "message" and e["direction"] == "inbound"]
    [answer] = [e for e in items if e["type"] == "message" and e["direction"] == "outbound"]
    assert answer["automated"] is True
    assert items.index(question) < items.index(answer)
    assert question["at"] <= answer["at"]
    # The lead row shows the answer as the latest message, at the answer's time.
    after = current(world, existing.lead_id)
    assert after.last_message_at == answer["at"]
    assert after.last_message_preview == rules.preview(answer["body"])


def test_answers_and_consent_follow_their_message_within_one_millisecond(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    # The fixed clock never moves: every event below is stamped with the same millisecond.
    for n, body in enumerate(["STOP", "START", "HELP", "HELP", "HELP"]):
        assert sms(world, body, sid=f"SM{n:030d}ord").status == 200
    items = _api_timeline(world, s.admin_token, existing.lead_id)
    assert len({e["at"] for e in items}) == 1
    assert _conversation(items) == [
        ("message", "inbound", "STOP"), ("opt_out",), ("status",),
        ("message", "inbound", "STAR"), ("opt_in",), ("status",),
        ("message", "inbound", "HELP"), ("message", "outbound", "ACME"),
        ("message", "inbound", "HELP"), ("message", "outbound", "ACME"),
        ("message", "inbound", "HELP"), ("message", "outbound", "ACME"),
    ]
    statuses = [(e["from"], e["to"]) for e in items if e["type"] == "status"]
    assert statuses == [("new", "dead"), ("dead", "hot")]
