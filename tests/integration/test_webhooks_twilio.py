"""Twilio webhooks through the HTTP surface: requests signed with Twilio's own RequestValidator
from sample payloads (tests/events/twilio), refused when unsigned or tampered, deduplicated on
MessageSid even when two deliveries race, consent keywords, HELP in TwiML, MMS pictures."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from chalicelib.adapters.dynamodb.leads import LeadRepository
from chalicelib.services import inbound
from tests.integration.conversations_support import (
    HOST,
    atomic_dynamodb,
    current,
    drain,
    lead,
    messages,
    queued_jobs,
    report_events,
    sms,
    store,
    timeline,
    twilio_params,
    twilio_post,
)
from tests.support import World


def test_unknown_sender_becomes_an_sms_lead_with_its_message_and_language(world: World) -> None:
    s = store(world)
    params = twilio_params("inbound_sms.txt")
    reply = twilio_post(world, "/webhooks/twilio/sms", params)
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/xml")
    assert reply.body.decode().endswith("<Response/>")
    assert queued_jobs(world, "inbound") == []  # the lead was made and routed in the webhook
    world.settle()  # the table's stream: the lead's language from its first message
    found = LeadRepository(world.deps.table).contact(s.account_id, "phone", "+13125550199")
    assert found is not None
    made = current(world, found["lead_id"])
    assert (made.source, made.channel, made.phone, made.language) == ("SMS", "sms", "+13125550199", "en")
    [message] = messages(world, made.lead_id)
    assert message["direction"] == "inbound" and message["status"] == "received"
    assert message["body"] == "Hi, is the 2021 Honda Civic still available?"
    assert made.awaiting_since is not None and made.last_message_preview.startswith("Hi, is the 2021")
    # A second delivery of the same SMS (Twilio retries on a slow answer) changes nothing.
    assert twilio_post(world, "/webhooks/twilio/sms", params).status == 200
    assert len(messages(world, made.lead_id)) == 1


def test_reply_on_an_open_lead_sets_awaiting_preview_and_report(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    assert world.post(f"/leads/{existing.lead_id}/responded", s.admin_token).status == 200
    assert current(world, existing.lead_id).awaiting_since is None
    world.clock.advance(minutes=5)
    reply = sms(world, "Can I come by at 5?", sid="SM00000000000000000000000000000001")
    assert reply.status == 200 and reply.body.decode().endswith("<Response/>")
    after = current(world, existing.lead_id)
    assert after.awaiting_since == "2026-11-02T15:05:00.000Z"
    assert after.last_message_at == "2026-11-02T15:05:00.000Z"
    assert after.last_message_preview == "Can I come by at 5?"
    last = messages(world, existing.lead_id)[-1]
    assert (last["direction"], last["status"], last["by"], last["channel"]) == ("inbound", "received", None, "sms")
    assert report_events(world, s, "message_inbound")
    # The slow part (language) is the table's stream consumer's: nothing was queued for it.
    assert queued_jobs(world, "inbound") == []
    assert current(world, existing.lead_id).language is None
    world.settle()
    assert current(world, existing.lead_id).language == "en"


def test_mms_pictures_are_kept_as_attachments(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    reply = twilio_post(world, "/webhooks/twilio/sms", twilio_params("inbound_mms.txt"))
    assert reply.status == 200
    last = messages(world, existing.lead_id)[-1]
    assert last["body"] == "Here is my trade-in"
    assert [a["content_type"] for a in last["attachments"]] == ["image/jpeg", "image/png"]
    assert all(a["url"].startswith("https://api.twilio.com/") for a in last["attachments"])
    assert s.account_id


@pytest.mark.parametrize("case", ["unsigned", "wrong_token", "tampered_body", "other_url", "garbage"])
def test_unsigned_or_badly_signed_is_403_and_stores_nothing(world: World, case: str) -> None:
    s = store(world)
    existing = lead(world, s)
    before = timeline(world, existing.lead_id)
    params = twilio_params("inbound_sms.txt", Body="STOP")
    good = RequestValidator("dev-twilio-token").compute_signature(f"https://{HOST}/webhooks/twilio/sms", params)
    kwargs: dict = {
        "unsigned": {"signature": ""},
        "wrong_token": {"token": "not-the-token"},
        "tampered_body": {"signature": good, "body": urlencode({**params, "Body": "START"})},
        "other_url": {"signature": RequestValidator("dev-twilio-token").compute_signature(
            "https://evil.example.com/webhooks/twilio/sms", params)},
        "garbage": {"signature": "AAAA"},
    }[case]
    reply = twilio_post(world, "/webhooks/twilio/sms", params, **kwargs)
    assert reply.status == 403, reply.body
    assert reply.error_code == "bad_signature"
    assert timeline(world, existing.lead_id) == before
    assert not current(world, existing.lead_id).opted_out
    assert queued_jobs(world, "inbound") == []
    assert s.account_id


def test_signature_accepts_the_configured_public_base_url(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    world.deps._settings = world.deps.settings.model_copy(update={"public_base_url": "https://api.acme-leads.com/v1"})
    params = twilio_params("inbound_sms.txt", Body="See you soon", MessageSid="SM0000000000000000000000000000base")
    signature = RequestValidator("dev-twilio-token").compute_signature(
        "https://api.acme-leads.com/v1/webhooks/twilio/sms", params)
    assert twilio_post(world, "/webhooks/twilio/sms", params, signature=signature).status == 200
    assert messages(world, existing.lead_id)[-1]["body"] == "See you soon"
    # A signature over any other URL is not: the one the request's Host names, or another path.
    assert twilio_post(world, "/webhooks/twilio/sms", {**params, "MessageSid": "SM2"}).status == 403
    elsewhere = RequestValidator("dev-twilio-token").compute_signature(
        "https://api.acme-leads.com/v2/webhooks/twilio/sms", {**params, "MessageSid": "SM3"})
    refused = twilio_post(world, "/webhooks/twilio/sms", {**params, "MessageSid": "SM3"}, signature=elsewhere)
    assert refused.status == 403
    assert s.account_id


def test_the_same_message_sid_racing_is_stored_once(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    message = inbound.InboundMessage(provider="twilio", provider_id="SM0000000000000000000000000000race",
                                     channel="sms", sender="+13125550199", recipient="+13125550100",
                                     body="Is it still there?", received_at="2026-11-02T15:00:00.000Z")
    start = threading.Barrier(6)

    def deliver() -> inbound.InboundResult:
        start.wait()
        return inbound.receive(world.deps, s.account_id, message)

    with atomic_dynamodb(), ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: deliver(), range(6)))
    assert [m["body"] for m in messages(world, existing.lead_id)] == ["Is it still there?"]
    assert sum(not r.duplicate for r in results) == 1
    assert len({r.message_id for r in results}) == 1


def test_stop_family_opts_out_and_start_opts_back_in(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    for i, word in enumerate(["  stop ", "Unsubscribe", "OPTOUT"]):
        reply = sms(world, word, sid=f"SM0000000000000000000000000000stop{i}")
        assert reply.status == 200
        after = current(world, existing.lead_id)
        assert after.opted_out and after.status == "dead"
    assert len(timeline(world, existing.lead_id, "opt_out")) == 1
    refused = world.post(f"/leads/{existing.lead_id}/messages", s.agent_token, {"body": "Hello?"})
    assert refused.status == 409 and refused.error_code == "opted_out"
    # A sentence that contains the word is an ordinary message.
    sms(world, "please stop by the store", sid="SM000000000000000000000000000000nb")
    assert current(world, existing.lead_id).opted_out
    sms(world, "start", sid="SM0000000000000000000000000000strt")
    back = current(world, existing.lead_id)
    assert not back.opted_out and back.status == "hot"
    assert world.post(f"/leads/{existing.lead_id}/messages", s.agent_token, {"body": "Welcome back"}).status == 202


def test_help_is_answered_in_twiml_with_the_store_name_and_never_counts_as_a_response(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    reply = sms(world, " help ", sid="SM0000000000000000000000000000help")
    text = reply.body.decode()
    assert reply.status == 200 and "<Message>" in text and "Acme Honda" in text and "STOP" in text
    answer = messages(world, existing.lead_id)[-1]
    assert (answer["direction"], answer["automated"], answer["by"]) == ("outbound", True, None)
    assert report_events(world, s, "human_response") == []
    assert [r["data"]["automated"] for r in report_events(world, s, "message_outbound")] == [True]
    # HELP from a number no lead has is answered too, and stores nothing.
    stranger = sms(world, "INFO", sid="SM00000000000000000000000000help2", sender="+13125550111")
    assert "Acme Honda" in stranger.body.decode()
    assert queued_jobs(world, "inbound") == []


def test_status_callbacks_move_the_message_forward_only(world: World) -> None:
    from chalicelib.domain.messaging import OutboundMessage, SendResult

    class TwilioLike:
        def send(self, message: OutboundMessage) -> SendResult:
            return SendResult(provider_id="SMd41a5c0b1e2f3a4b5c6d7e8f9a0b1c2d", status="queued")

    s = store(world)
    existing = lead(world, s)
    world.deps.__dict__["sender"] = TwilioLike()
    sent = world.post(f"/leads/{existing.lead_id}/messages", s.agent_token, {"body": "Yes, it is here"})
    assert sent.status == 202 and sent.json["status"] == "queued"
    drain(world, "outbox")
    assert messages(world, existing.lead_id)[-1]["status"] == "sent"
    delivered = twilio_post(world, "/webhooks/twilio/status", twilio_params("status_delivered.txt"))
    assert delivered.status == 204
    assert messages(world, existing.lead_id)[-1]["status"] == "delivered"
    late_sent = twilio_params("status_delivered.txt", MessageStatus="sent", SmsStatus="sent")
    assert twilio_post(world, "/webhooks/twilio/status", late_sent).status == 204
    assert messages(world, existing.lead_id)[-1]["status"] == "delivered"
    assert twilio_post(world, "/webhooks/twilio/status", twilio_params("status_delivered.txt"),
                       signature="bad").status == 403


def test_undelivered_callback_marks_the_message_failed_with_the_error(world: World) -> None:
    from chalicelib.domain.messaging import OutboundMessage, SendResult

    class TwilioLike:
        def send(self, message: OutboundMessage) -> SendResult:
            return SendResult(provider_id="SMd41a5c0b1e2f3a4b5c6d7e8f9a0b1c2d", status="queued")

    s = store(world)
    existing = lead(world, s)
    world.deps.__dict__["sender"] = TwilioLike()
    world.post(f"/leads/{existing.lead_id}/messages", s.agent_token, {"body": "Yes, it is here"})
    drain(world, "outbox")
    assert twilio_post(world, "/webhooks/twilio/status", twilio_params("status_undelivered.txt")).status == 204
    last = messages(world, existing.lead_id)[-1]
    assert last["status"] == "failed" and "30003" in last["error"]


def test_sms_to_a_number_no_store_owns_stores_nothing(world: World) -> None:
    store(world)
    reply = sms(world, "hello", sid="SM00000000000000000000000000nobody", To="+13125550177")
    assert reply.status == 200 and queued_jobs(world, "inbound") == []


def test_missing_fields_in_a_signed_request_are_400_naming_them(world: World) -> None:
    store(world)
    params = {"Body": "hi", "From": "+13125550199"}
    reply = twilio_post(world, "/webhooks/twilio/sms", params)
    assert reply.status == 400
    assert {d["field"] for d in reply.json["error"]["details"]} == {"MessageSid", "To"}


def test_a_new_senders_message_delivered_twice_at_once_makes_one_lead(world: World) -> None:
    from chalicelib.services.new_contact import make_lead

    s = store(world)
    message = inbound.InboundMessage(provider="twilio", provider_id="SM0000000000000000000000000000twin",
                                     channel="sms", sender="+13125550166", recipient="+13125550100",
                                     body="Do you have a red Civic?", received_at="2026-11-02T15:00:00.000Z")
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def deliver() -> None:
        start.wait()
        result = make_lead(world.deps, s.account_id, message)
        outcomes.append("duplicate" if result.duplicate else "made")

    with atomic_dynamodb():
        threads = [threading.Thread(target=deliver) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    assert sorted(outcomes) == ["duplicate", "duplicate", "duplicate", "made"], outcomes
    # A later retry of the provider finds the work done.
    assert inbound.receive(world.deps, s.account_id, message).duplicate
    found = LeadRepository(world.deps.table).contact(s.account_id, "phone", "+13125550166")
    assert found is not None
    assert [m["body"] for m in messages(world, found["lead_id"])] == ["Do you have a red Civic?"]


def test_a_number_moved_to_another_store_routes_there_at_once_whatever_the_pointer_says(world: World) -> None:
    """The sender's pointer names the old store's lead; the number's lookup, read with it, decides."""
    s = store(world)
    first = lead(world, s)
    assert sms(world, "Is the Civic still there?", sid="SM" + "a" * 32).status == 200
    assert [m["body"] for m in messages(world, first.lead_id)] == ["Is the Civic still there?"]
    other = world.account(s.tenant, "Acme Kia", timezone="America/Chicago")
    assert world.patch(f"/accounts/{s.account_id}", s.tenant.token, {"sms_number": None}).status == 200
    assert world.patch(f"/accounts/{other['account_id']}", s.tenant.token,
                       {"sms_number": s.account["sms_number"]}).status == 200
    assert sms(world, "And do you have a Sorento?", sid="SM" + "b" * 32).status == 200
    # Nobody at the Kia store has this contact: a new lead there, the Honda lead untouched.
    assert [m["body"] for m in messages(world, first.lead_id)] == ["Is the Civic still there?"]
    found = LeadRepository(world.deps.table).contact(other["account_id"], "phone", "+13125550199")
    assert found is not None
    assert [m["body"] for m in messages(world, found["lead_id"])] == ["And do you have a Sorento?"]
    # The next message finds the Kia lead through the pointer its arrival wrote.
    assert sms(world, "Red, if you have one", sid="SM" + "c" * 32).status == 200
    assert [m["body"] for m in messages(world, found["lead_id"])][-1] == "Red, if you have one"
