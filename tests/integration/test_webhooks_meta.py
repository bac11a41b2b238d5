"""Meta Messenger webhooks: the verify handshake, X-Hub-Signature-256 over the raw body (Meta's
documented HMAC-SHA256 with the app secret), page id -> store, mid dedup, attachments, consent
words, and sending back within the 24-hour window or with the HUMAN_AGENT tag up to 7 days."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.adapters.dynamodb.leads import LeadRepository
from tests.integration.conversations_support import (
    PAGE_ID,
    current,
    drain,
    messages,
    meta_event,
    meta_post,
    queued_jobs,
    sent,
    store,
)
from tests.support import World

PSID = "6823471095128834"


def _lead_of_sender(world: World, account_id: str) -> str:
    found = LeadRepository(world.deps.table).contact(account_id, "messenger", PSID)
    assert found is not None
    return str(found["lead_id"])


def test_verify_handshake(world: World) -> None:
    ok = world.get("/webhooks/meta?hub.mode=subscribe&hub.verify_token=dev-meta-verify&hub.challenge=1158201444")
    assert ok.status == 200 and ok.body == b"1158201444"
    bad = world.get("/webhooks/meta?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444")
    assert bad.status == 403


def test_new_sender_becomes_a_facebook_lead_with_language_and_replies_go_back(world: World) -> None:
    s = store(world)
    reply = meta_post(world, meta_event("message.json"))
    assert reply.status == 200
    drain(world, "inbound")
    world.settle()  # the table's stream: the lead's language from its first message
    lead_id = _lead_of_sender(world, s.account_id)
    made = current(world, lead_id)
    assert (made.source, made.channel, made.messenger_psid, made.language) == ("Facebook", "messenger", PSID, "es")
    [message] = messages(world, lead_id)
    assert message["body"].startswith("Hola") and message["channel"] == "messenger"
    # The same mid again is stored once.
    assert meta_post(world, meta_event("message.json")).status == 200
    drain(world, "inbound")
    assert len(messages(world, lead_id)) == 1
    # An answer goes back through Messenger inside the 24-hour window, untagged.
    world.clock.advance(minutes=10)
    assert world.post(f"/leads/{lead_id}/messages", s.agent_token, {"body": "¡Sí, la tenemos!"}).status == 202
    drain(world, "outbox")
    [record] = sent(world, s)
    assert (record["channel"], record["to"], record["sender"], record.get("tag")) == ("messenger", PSID, PAGE_ID, None)


def test_attachments_are_kept_and_echoes_and_reads_ignored(world: World) -> None:
    s = store(world)
    meta_post(world, meta_event("message.json"))
    drain(world, "inbound")
    lead_id = _lead_of_sender(world, s.account_id)
    world.clock.advance(seconds=5)
    assert meta_post(world, meta_event("attachment.json")).status == 200
    last = messages(world, lead_id)[-1]
    assert last["attachments"][0]["content_type"] == "image"
    assert last["attachments"][0]["url"].startswith("https://scontent.xx.fbcdn.net/")
    assert current(world, lead_id).last_message_preview == "[picture]"
    assert meta_post(world, meta_event("echo_and_read.json")).status == 200
    assert len(messages(world, lead_id)) == 2


@pytest.mark.parametrize("case", ["unsigned", "wrong_secret", "tampered", "sha1"])
def test_badly_signed_events_are_403_and_store_nothing(world: World, case: str) -> None:
    import hashlib
    import hmac

    store(world)
    raw = meta_event("message.json")
    if case == "unsigned":
        reply = meta_post(world, raw, signature="")
    elif case == "wrong_secret":
        reply = meta_post(world, raw, secret="not-the-secret")
    elif case == "tampered":
        good = "sha256=" + hmac.new(b"dev-meta-secret", raw, hashlib.sha256).hexdigest()
        reply = meta_post(world, raw.replace(b"Tacoma", b"Tundra"), signature=good)
    else:
        reply = meta_post(world, raw, signature="sha1=" + hmac.new(b"dev-meta-secret", raw, hashlib.sha1).hexdigest())
    assert reply.status == 403
    assert queued_jobs(world, "inbound") == []


def test_stop_on_messenger_opts_out(world: World) -> None:
    s = store(world)
    meta_post(world, meta_event("message.json"))
    drain(world, "inbound")
    lead_id = _lead_of_sender(world, s.account_id)
    meta_post(world, meta_event("message.json", text="Stop", mid="m_stop_1"))
    assert current(world, lead_id).opted_out
    assert world.post(f"/leads/{lead_id}/messages", s.agent_token, {"body": "x"}).error_code == "opted_out"


def test_help_on_messenger_is_answered_through_the_outbox(world: World) -> None:
    s = store(world)
    meta_post(world, meta_event("message.json"))
    drain(world, "inbound")
    meta_post(world, meta_event("message.json", text="help", mid="m_help_1"))
    drain(world, "outbox")
    [answer] = sent(world, s)
    assert answer["channel"] == "messenger" and "Acme Honda" in answer["body"]


def test_the_messenger_window(world: World) -> None:
    s = store(world)
    meta_post(world, meta_event("message.json"))
    drain(world, "inbound")
    lead_id = _lead_of_sender(world, s.account_id)
    world.clock.advance(timedelta(days=3).total_seconds())
    token = world.token(s.agent["user_id"])  # minted now: the clock moved past the first one's 12 hours
    tagged = world.post(f"/leads/{lead_id}/messages", token, {"body": "Still interested?"})
    assert tagged.status == 202
    drain(world, "outbox")
    assert sent(world, s)[-1]["tag"] == "HUMAN_AGENT"
    world.clock.advance(timedelta(days=5).total_seconds())
    closed = world.post(f"/leads/{lead_id}/messages", world.token(s.agent["user_id"]), {"body": "Hello?"})
    assert closed.status == 409 and closed.error_code == "messaging_window_closed"
