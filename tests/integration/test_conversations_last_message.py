"""A lead's `last_message_at` / `last_message_preview` (what an inbox row shows) are the conversation's
latest message in either direction: what the customer last said or was last sent. An agent's message
when it goes, a scheduled one when it fires (not when it is scheduled, never when cancelled), an
automated one the customer gets (HELP answer, appointment confirmation). Notes are not messages.
`awaiting_since` and the response clock keep their own rules."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import conversations as rules
from tests.integration.conversations_support import (
    current,
    drain,
    lead,
    report_events,
    sms,
    store,
    sweep,
)
from tests.support import World


def _row(world: World, token: str, account_id: str, lead_id: str) -> dict[str, Any]:
    rows = world.get(f"/leads?account_id={account_id}", token).json["items"]
    [row] = [r for r in rows if r["lead_id"] == lead_id]
    return dict(row)


def test_an_agents_message_is_the_latest_message_and_a_note_is_not(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    world.clock.set("2026-11-02T15:01:00Z")
    assert sms(world, "Do you have it in blue?", sid="SM00000000000000000000000000blue1").status == 200
    assert current(world, existing.lead_id).awaiting_since is not None  # waiting since the lead came in
    world.clock.set("2026-11-02T15:03:00Z")
    sent = world.post(f"/leads/{existing.lead_id}/messages", s.agent_token, {"body": "bump"})
    assert sent.status == 202 and sent.json["status"] == "queued"
    shown = world.get(f"/leads/{existing.lead_id}", s.admin_token).json
    assert (shown["last_message_at"], shown["last_message_preview"]) == ("2026-11-02T15:03:00.000Z", "bump")
    assert shown["awaiting_since"] is None  # answered, as before
    row = _row(world, s.admin_token, s.account_id, existing.lead_id)
    assert (row["last_message_at"], row["last_message_preview"]) == ("2026-11-02T15:03:00.000Z", "bump")
    drain(world, "outbox")  # delivered: still the latest message
    assert current(world, existing.lead_id).last_message_preview == "bump"
    # A note is not a message.
    world.clock.set("2026-11-02T15:04:00Z")
    assert world.post(f"/leads/{existing.lead_id}/notes", s.admin_token, {"text": "Wants blue"}).status == 201
    after_note = current(world, existing.lead_id)
    assert (after_note.last_message_at, after_note.last_message_preview) == ("2026-11-02T15:03:00.000Z", "bump")
    # The customer's answer is the latest again, and waits for the store.
    world.clock.set("2026-11-02T15:05:00Z")
    assert sms(world, "Great, coming at 5", sid="SM00000000000000000000000000blue2").status == 200
    back = current(world, existing.lead_id)
    assert (back.last_message_at, back.last_message_preview) == ("2026-11-02T15:05:00.000Z", "Great, coming at 5")
    assert back.awaiting_since == "2026-11-02T15:05:00.000Z"
    # The response clock is unchanged: one human response (the agent's message), nothing else.
    assert [r["data"]["activity"] for r in report_events(world, s, "human_response")] == ["message"]


def test_a_scheduled_message_is_the_latest_when_it_goes_and_never_when_cancelled(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    assert sms(world, "Can I come Saturday?", sid="SM00000000000000000000000000sat01").status == 200
    path = f"/leads/{existing.lead_id}/messages"
    keep = world.post(path, s.agent_token, {"body": "See you Saturday", "send_at": "2026-11-02T18:00:00Z"})
    drop = world.post(path, s.agent_token, {"body": "never mind", "send_at": "2026-11-02T17:00:00Z"})
    assert keep.json["status"] == drop.json["status"] == "scheduled"
    assert world.delete(f"{path}/{drop.json['message_id']}", s.agent_token).status == 200
    waiting = current(world, existing.lead_id)
    assert (waiting.last_message_at, waiting.last_message_preview) == ("2026-11-02T15:00:00.000Z",
                                                                       "Can I come Saturday?")
    world.clock.set("2026-11-02T17:00:30Z")
    assert sweep(world) == 0  # the cancelled one never goes
    assert current(world, existing.lead_id).last_message_preview == "Can I come Saturday?"
    world.clock.set("2026-11-02T18:00:30Z")
    assert sweep(world) == 1
    drain(world, "outbox")
    gone = current(world, existing.lead_id)
    assert (gone.last_message_at, gone.last_message_preview) == ("2026-11-02T18:00:30.000Z", "See you Saturday")


def test_automated_messages_the_customer_gets_are_the_latest_but_never_answer_them(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    assert world.post(f"/leads/{existing.lead_id}/responded", s.admin_token).status == 200
    world.clock.set("2026-11-02T15:10:00Z")
    reply = sms(world, "help", sid="SM00000000000000000000000000help9")
    assert "Acme Honda" in reply.body.decode()
    helped = current(world, existing.lead_id)
    assert helped.last_message_at == "2026-11-02T15:10:00.000Z"
    assert helped.last_message_preview == rules.preview(rules.help_reply("Acme Honda"))
    assert helped.awaiting_since is None
    # A real question waits; a booked appointment's confirmation is then the latest message.
    world.clock.set("2026-11-02T15:20:00Z")
    assert sms(world, "Can I test drive it?", sid="SM00000000000000000000000000help8").status == 200
    assert current(world, existing.lead_id).awaiting_since == "2026-11-02T15:20:00.000Z"
    world.clock.set("2026-11-02T15:30:00Z")
    booked = world.post(f"/leads/{existing.lead_id}/appointments", s.agent_token,
                        {"at": "2026-11-04T16:00:00Z", "confirm": True})
    assert booked.status == 201
    confirmed = current(world, existing.lead_id)
    assert confirmed.last_message_preview is not None
    assert confirmed.last_message_preview.startswith("Acme Honda: your appointment is confirmed")
    assert confirmed.last_message_at is not None and confirmed.last_message_at >= "2026-11-02T15:30:00.000Z"
    # The appointment is the response (as before), the automated messages never are.
    assert [r["data"]["activity"] for r in report_events(world, s, "human_response")] == ["responded", "appointment"]
