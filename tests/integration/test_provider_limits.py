"""Provider fields have limits before they reach a key or an item: a validly signed Twilio webhook
with a 900,000-character Body is 413 and one with a 3,000-character MessageSid (or number, or
media URL) 400, each at once and naming the field, with nothing stored; a Messenger delivery
likewise. Bodies at the limit are stored whole."""

from __future__ import annotations

import time

import pytest

from chalicelib.domain.provider_limits import MESSAGE_MAX_CHARS
from tests.integration.conversations_support import (
    lead,
    messages,
    meta_event,
    meta_post,
    queued_jobs,
    store,
    timeline,
    twilio_params,
    twilio_post,
)
from tests.support import World

SID = "SM00000000000000000000000000limit"


@pytest.mark.parametrize(("field", "value", "status"), [
    ("Body", "x" * 900_000, 413),
    ("Body", "é" * (MESSAGE_MAX_CHARS + 1), 413),
    ("MessageSid", "SM" + "0" * 3000, 400),
    ("From", "+1" + "3" * 3000, 400),
    ("NumMedia", "9" * 5000, 400),
    ("MediaUrl0", "https://api.twilio.com/" + "a" * 3000, 400),
])
def test_oversized_twilio_fields_are_refused_quickly_and_store_nothing(world: World, field: str, value: str,
                                                                       status: int) -> None:
    s = store(world)
    existing = lead(world, s)
    before = timeline(world, existing.lead_id)
    params = twilio_params("inbound_mms.txt" if field == "MediaUrl0" else "inbound_sms.txt",
                           **{"MessageSid": SID, field: value})
    started = time.monotonic()
    reply = twilio_post(world, "/webhooks/twilio/sms", params)
    assert reply.status == status, reply.body[:300]
    assert time.monotonic() - started < 5
    assert [d["field"] for d in reply.json["error"]["details"]] == [field]
    assert timeline(world, existing.lead_id) == before
    assert queued_jobs(world, "inbound") == []


def test_a_body_at_the_limit_is_stored_whole(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    body = "ok " * (MESSAGE_MAX_CHARS // 3)
    reply = twilio_post(world, "/webhooks/twilio/sms", twilio_params("inbound_sms.txt", MessageSid=SID, Body=body))
    assert reply.status == 200
    assert messages(world, existing.lead_id)[-1]["body"] == body


def test_oversized_status_callback_fields_are_400(world: World) -> None:
    store(world)
    params = twilio_params("status_delivered.txt", ErrorCode="3" * 5000)
    reply = twilio_post(world, "/webhooks/twilio/status", params)
    assert reply.status == 400 and reply.json["error"]["details"][0]["field"] == "ErrorCode"


@pytest.mark.parametrize(("replace", "status"), [({"text": "x" * 900_000}, 413), ({"mid": "m_" + "x" * 3000}, 400)])
def test_oversized_messenger_fields_are_refused_and_store_nothing(world: World, replace: dict[str, str],
                                                                 status: int) -> None:
    store(world)
    reply = meta_post(world, meta_event("message.json", **replace))
    assert reply.status == status
    assert queued_jobs(world, "inbound") == []
