"""What a customer's message does to its lead (domain/inbound.py), with the clock passed in."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.clock import iso, parse_time
from chalicelib.domain import inbound
from chalicelib.domain.inbound import InboundMessage, NotThisLead
from chalicelib.domain.leads import Lead

NOW = parse_time("2026-11-02T15:00:00Z")
LATER = NOW + timedelta(milliseconds=7)


def _lead(**fields: object) -> Lead:
    return Lead.model_validate({"lead_id": "lead_1", "account_id": "acc_1", "group_id": "grp_1",
                                "created_at": iso(NOW), "received_at": iso(NOW), "last_activity_at": iso(NOW),
                                **fields})


def _msg(body: str, channel: str = "sms", attachments: list[dict[str, str]] | None = None) -> InboundMessage:
    return InboundMessage(provider="twilio" if channel == "sms" else "meta", provider_id="SM1", channel=channel,
                          sender="+13125550177", recipient="+13125550100", body=body, received_at=iso(NOW),
                          attachments=attachments or [])


def test_a_plain_message_makes_the_lead_wait_and_is_its_latest_message() -> None:
    change = inbound.message_on_lead(_lead(), _msg("Is it there?"), None, "msg_1", NOW, LATER, None)
    assert change.updates == {"last_message_at": iso(NOW), "last_inbound_at": iso(NOW),
                              "last_message_preview": "Is it there?", "awaiting_since": iso(NOW)}
    assert [e.type for e in change.events] == ["message"] and change.result is None
    assert [r.kind for r in change.reports] == ["message_inbound"]


def test_a_lead_already_waiting_keeps_its_wait_and_an_opted_out_one_never_waits() -> None:
    waiting = inbound.message_on_lead(_lead(awaiting_since="2026-11-02T14:00:00.000Z"), _msg("hello?"), None,
                                      "msg_1", NOW, LATER, None)
    assert "awaiting_since" not in waiting.updates
    opted_out = inbound.message_on_lead(_lead(opted_out=True, status="dead"), _msg("hello?"), None, "msg_1", NOW,
                                        LATER, None)
    assert "awaiting_since" not in opted_out.updates


def test_a_closed_lead_takes_only_consent_keywords() -> None:
    sold = _lead(status="sold")
    with pytest.raises(NotThisLead):
        inbound.message_on_lead(sold, _msg("one more thing"), None, "msg_1", NOW, LATER, None)
    stopped = inbound.message_on_lead(sold, _msg("STOP"), "stop", "msg_1", NOW, LATER, None)
    assert stopped.updates["opted_out"] is True and stopped.updates["status"] == "dead"
    assert [e.type for e in stopped.events] == ["message", "opt_out", "status"]
    assert all(e.at == iso(LATER) for e in stopped.events[1:])


def test_help_is_answered_after_the_question_and_through_the_outbox_on_messenger() -> None:
    sms = inbound.message_on_lead(_lead(), _msg("HELP"), "help", "msg_1", NOW, LATER, "Acme: the answer")
    question, answer = sms.events
    assert (answer.data["status"], answer.data["automated"], answer.at) == ("sent", True, iso(LATER))
    assert (question.at, question.event_id) < (answer.at, answer.event_id)
    assert sms.updates["last_message_preview"] == "Acme: the answer" and sms.result is None
    messenger = inbound.message_on_lead(_lead(channel="messenger", messenger_psid="psid"),
                                        _msg("HELP", channel="messenger"), "help", "msg_1", NOW, LATER, "answer")
    assert messenger.result is not None and (messenger.result.channel, messenger.result.status) == \
        ("messenger", "queued")


def test_consent_keywords_language_and_the_new_lead_request() -> None:
    assert inbound.consent_of(_msg(" stop ")) == "stop"
    assert inbound.consent_of(_msg("STOP", attachments=[{"url": "https://x/1.jpg"}])) is None
    assert inbound.wants_language(_lead(), _msg("¿Todavía está disponible?"), None)
    assert not inbound.wants_language(_lead(language="es"), _msg("hola"), None)
    assert not inbound.wants_language(_lead(), _msg("   "), None)
    assert not inbound.wants_language(_lead(), _msg("ok 👍"), None)  # too little to tell: no detection job
    request = inbound.new_lead_request(_msg("Trucks?"))
    assert (request.source, request.channel, request.phone, request.provider_message_id) == \
        ("SMS", "sms", "+13125550177", "SM1")
    assert request.received_at == NOW
