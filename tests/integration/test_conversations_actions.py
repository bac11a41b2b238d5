"""Lead actions through the HTTP contract, each in the timeline with who did it: responded,
appointments (and their folders), escalation and CRM emails, opt-out, stop-messaging,
skip-to-follow-up; and the response clock (human vs automated)."""

from __future__ import annotations

import email
from email import policy
from typing import Any

import defusedxml.ElementTree as SafeET

from chalicelib.adapters.dynamodb import keys
from tests.integration.conversations_support import current, lead, report_events, sms, store, timeline
from tests.support import World


def sent_mail() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def mail_text(message: Any) -> str:
    """The text parts of a sent mail (SES gets raw MIME: the parts are decoded as a mail reader would)."""
    raw = getattr(message, "raw_data", None)
    if not raw:
        return str(getattr(message, "body", ""))
    parsed = email.message_from_string(str(raw), policy=policy.default)
    return "\n".join(str(part.get_content()) for part in parsed.walk() if part.get_content_maintype() == "text")


def test_responded_clears_awaiting_and_starts_the_response_clock_once(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    assert current(world, existing.lead_id).awaiting_since is not None
    world.clock.advance(minutes=7)
    reply = world.post(f"/leads/{existing.lead_id}/responded", s.agent_token)
    assert reply.status == 200 and reply.json["awaiting_since"] is None
    assert reply.json["first_response_at"] == "2026-11-02T15:07:00.000Z"
    [event] = timeline(world, existing.lead_id, "responded")
    assert event["by"] == s.agent["user_id"]
    world.clock.advance(minutes=7)
    world.post(f"/leads/{existing.lead_id}/responded", s.agent_token)
    assert current(world, existing.lead_id).first_response_at == "2026-11-02T15:07:00.000Z"
    assert [r["data"]["activity"] for r in report_events(world, s, "human_response")] == ["responded", "responded"]


def test_appointments_keep_the_folders_in_step(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    made = world.post(f"/leads/{existing.lead_id}/appointments", s.agent_token,
                      {"at": "2026-11-04T10:00:00-06:00", "note": "Test drive the Civic"})
    assert made.status == 201
    assert made.json["at"] == "2026-11-04T16:00:00.000Z" and made.json["status"] == "scheduled"
    appointment_id = made.json["appointment_id"]
    after = current(world, existing.lead_id)
    assert after.open_appointments == 1 and "appointments" in after.flags
    assert world.deps.table.get(keys.lead_flag_key(existing.lead_id, "appointments")) is not None
    world.clock.advance(minutes=1)
    moved = world.patch(f"/appointments/{appointment_id}", s.agent_token, {"at": "2026-11-05T16:00:00Z"})
    assert moved.status == 200 and moved.json["at"] == "2026-11-05T16:00:00.000Z"
    world.clock.advance(minutes=1)
    showed = world.patch(f"/appointments/{appointment_id}", s.agent_token, {"status": "showed"})
    assert showed.status == 200 and showed.json["status"] == "showed"
    after = current(world, existing.lead_id)
    assert after.open_appointments == 0 and after.showed and after.flags == {"showed"}
    assert world.deps.table.get(keys.lead_flag_key(existing.lead_id, "appointments")) is None
    again = world.patch(f"/appointments/{appointment_id}", s.agent_token, {"status": "no_show"})
    assert again.status == 409
    kinds = [r["kind"] for r in report_events(world, s) if r["kind"].startswith("appointment_")]  # by time
    assert kinds == ["appointment_created", "appointment_showed"]
    assert [e["action"] for e in timeline(world, existing.lead_id, "appointment")] == \
        ["created", "rescheduled", "showed"]
    assert all(e["by"] == s.agent["user_id"] for e in timeline(world, existing.lead_id, "appointment"))
    assert [r["data"]["activity"] for r in report_events(world, s, "human_response")] == ["appointment"]


def test_appointment_requests_are_validated_and_tenanted(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    bad = world.post(f"/leads/{existing.lead_id}/appointments", s.agent_token, {"at": "next tuesday"})
    assert bad.status == 400 and bad.json["error"]["details"][0]["field"] == "at"
    made = world.post(f"/leads/{existing.lead_id}/appointments", s.agent_token, {"at": "2026-11-04T16:00:00Z"})
    both = world.patch(f"/appointments/{made.json['appointment_id']}", s.agent_token,
                       {"at": "2026-11-04T16:00:00Z", "status": "showed"})
    assert both.status == 400
    other = world.tenant("Beta", "b@beta.com")
    assert world.patch(f"/appointments/{made.json['appointment_id']}", other.token, {"status": "showed"}).status == 404
    cancelled = world.patch(f"/appointments/{made.json['appointment_id']}", s.agent_token, {"status": "cancelled"})
    assert cancelled.status == 200 and current(world, existing.lead_id).open_appointments == 0


def test_escalation_emails_the_note_and_the_whole_transcript(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    world.clock.advance(minutes=1)
    sms(world, "Is the Civic still there?", sid="SM000000000000000000000000000esc1")
    world.clock.advance(minutes=1)
    world.post(f"/leads/{existing.lead_id}/messages", s.agent_token, {"body": "Yes! Want to come by?"})
    before = len(sent_mail())
    reply = world.post(f"/leads/{existing.lead_id}/escalate", s.agent_token, {"note": "Customer asks for the GM"})
    assert reply.status == 200 and reply.json["sent_to"] == "gm@acme.com"
    [mail] = sent_mail()[before:]
    text = mail_text(mail)
    assert "Customer asks for the GM" in text
    assert "Maria Lopez (sms): Is the Civic still there?" in text
    assert "Sam (sms): Yes! Want to come by?" in text
    assert "CST" in text  # the store's local time, readable
    [event] = timeline(world, existing.lead_id, "escalation")
    assert event["by"] == s.agent["user_id"] and event["note"] == "Customer asks for the GM"
    assert "email" in [r["data"]["activity"] for r in report_events(world, s, "human_response")]
    assert world.post(f"/leads/{existing.lead_id}/escalate", s.agent_token, {"note": ""}).status == 400


def test_crm_sends_adf_xml_with_the_transcript(world: World) -> None:
    s = store(world)
    existing = lead(world, s, vehicle={"year": 2021, "make": "Honda", "model": "Civic", "vin": "2HGFC2F59MH500001"})
    sms(world, "Do you take trade-ins?", sid="SM000000000000000000000000000crm1")
    before = len(sent_mail())
    assert world.post(f"/leads/{existing.lead_id}/crm", s.agent_token).json["sent_to"] == "leads@acme.com"
    [mail] = sent_mail()[before:]
    text = mail_text(mail)
    xml = text[text.index("<?xml"):text.index("</adf>") + len("</adf>")]
    assert '<?adf version="1.0"?>' in xml
    root = SafeET.fromstring(xml.split("?>", 2)[-1])
    prospect = root.find("prospect")
    assert prospect.findtext("vehicle/make") == "Honda" and prospect.findtext("vehicle/vin") == "2HGFC2F59MH500001"
    names = {n.get("part"): n.text for n in prospect.findall("customer/contact/name")}
    assert names == {"first": "Maria", "last": "Lopez"}
    assert prospect.findtext("customer/contact/phone") == "+13125550199"
    assert "Do you take trade-ins?" in prospect.findtext("customer/comments")
    assert prospect.findtext("vendor/vendorname") == "Acme Honda"
    [event] = timeline(world, existing.lead_id, "crm")
    assert event["by"] == s.agent["user_id"]


def test_crm_and_escalation_need_the_store_addresses(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    world.patch(f"/accounts/{s.account_id}", s.admin_token, {"crm_email": None, "escalation_email": None})
    assert world.post(f"/leads/{existing.lead_id}/crm", s.agent_token).error_code == "not_configured"
    assert world.post(f"/leads/{existing.lead_id}/escalate", s.agent_token, {"note": "x"}).status == 409


def test_agent_opt_out_stop_messaging_and_skip_to_follow_up(world: World) -> None:
    s = store(world)
    first = lead(world, s)
    second = lead(world, s, phone="+13125550123", first_name="Tom")
    out = world.post(f"/leads/{first.lead_id}/opt-out", s.agent_token)
    assert out.status == 200 and out.json["opted_out"] and out.json["status"] == "dead"
    assert timeline(world, first.lead_id, "opt_out")[0]["by"] == s.agent["user_id"]
    assert world.post(f"/leads/{first.lead_id}/messages", s.agent_token, {"body": "x"}).error_code == "opted_out"

    refused = world.post(f"/leads/{second.lead_id}/stop-messaging", s.agent_token)
    assert refused.status == 403  # managers and up
    stopped = world.post(f"/leads/{second.lead_id}/stop-messaging", s.admin_token)
    assert stopped.status == 200 and stopped.json["stop_messaging"]
    later = world.post(f"/leads/{second.lead_id}/messages", s.agent_token,
                       {"body": "x", "send_at": "2026-11-03T16:00:00Z"})
    assert later.status == 409 and later.error_code == "messaging_stopped"
    assert world.post(f"/leads/{second.lead_id}/messages", s.agent_token, {"body": "by hand"}).status == 202

    skipped = world.post(f"/leads/{second.lead_id}/skip-to-follow-up", s.agent_token)
    assert skipped.status == 200 and skipped.json["status"] == "follow_up"
    [status] = timeline(world, second.lead_id, "status")
    assert (status["from"], status["to"], status["by"]) == ("new", "follow_up", s.agent["user_id"])
    other = world.tenant("Beta", "b@beta.com")
    for action in ("opt-out", "stop-messaging", "skip-to-follow-up", "responded", "crm"):
        assert world.post(f"/leads/{second.lead_id}/{action}", other.token).status == 404


def test_automated_messages_never_count_as_responses(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    sms(world, "HELP", sid="SM000000000000000000000000000auto")
    assert current(world, existing.lead_id).first_response_at is None
    assert report_events(world, s, "human_response") == []
    world.post(f"/leads/{existing.lead_id}/messages", s.agent_token, {"body": "Hi!"})
    outbound = report_events(world, s, "message_outbound")
    assert sorted(r["data"]["automated"] for r in outbound) == [False, True]
    assert len(report_events(world, s, "human_response")) == 1


def test_another_users_lock_refuses_agent_actions_and_the_holders_keep_it_alive(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    assert world.post(f"/leads/{existing.lead_id}/lock", s.admin_token).status == 200
    refused = world.post(f"/leads/{existing.lead_id}/messages", s.agent_token, {"body": "Hi"})
    assert refused.status == 409 and refused.error_code == "locked"
    assert refused.json["error"]["locked_by"] == s.tenant.admin_id
    assert world.post(f"/leads/{existing.lead_id}/responded", s.agent_token).error_code == "locked"
    world.clock.advance(minutes=4)
    assert world.post(f"/leads/{existing.lead_id}/messages", s.admin_token, {"body": "Hi"}).status == 202
    world.clock.advance(minutes=4)  # 8 minutes after locking, 4 after the holder's last action
    assert world.post(f"/leads/{existing.lead_id}/responded", s.agent_token).error_code == "locked"
    world.clock.advance(minutes=6)
    assert world.post(f"/leads/{existing.lead_id}/responded", world.token(s.agent["user_id"])).status == 200


def test_appointment_confirmation_is_an_automated_text(world: World) -> None:
    from tests.integration.conversations_support import drain, messages, sent

    s = store(world)
    existing = lead(world, s)
    made = world.post(f"/leads/{existing.lead_id}/appointments", s.agent_token,
                      {"at": "2026-11-04T16:00:00Z", "confirm": True})
    assert made.status == 201 and made.json["confirmation_message_id"]
    drain(world, "outbox")
    [text] = sent(world, s)
    assert text["body"] == "Acme Honda: your appointment is confirmed for Wed Nov 4 at 10:00 AM. Reply STOP to opt out."
    confirmation = messages(world, existing.lead_id)[-1]
    assert confirmation["automated"] is True and confirmation["status"] == "delivered" and confirmation["by"] is None
    assert [r["data"]["activity"] for r in report_events(world, s, "human_response")] == ["appointment"]
    # No confirmation to a customer who opted out; the booking still stands.
    world.post(f"/leads/{existing.lead_id}/opt-out", s.agent_token)
    again = world.post(f"/leads/{existing.lead_id}/appointments", s.agent_token,
                       {"at": "2026-11-05T16:00:00Z", "confirm": True})
    assert again.status == 201 and again.json["confirmation_message_id"] is None
    drain(world, "outbox")
    assert len(sent(world, s)) == 1
