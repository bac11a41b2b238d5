"""Control characters through the HTTP surface: refused in API requests (400 naming the field),
cleaned from what providers send (ADF, SMS, Messenger), and never in a mail header — an
escalation for a customer named "Evil\\r\\nBcc: ..." is one Subject line to one recipient."""

from __future__ import annotations

import email
from email import policy
from typing import Any

from tests.integration.conversations_support import (
    current,
    drain,
    messages,
    meta_event,
    meta_post,
    sms,
    store,
    timeline,
    twilio_params,
    twilio_post,
)
from tests.integration.test_conversations_actions import sent_mail
from tests.support import World

HOSTILE = "Evil\r\nBcc: attacker@example.com"
XML = {"Content-Type": "application/xml"}


def _fields(reply: Any) -> list[str]:
    return [d["field"] for d in reply.json["error"]["details"]]


def test_api_input_with_control_characters_is_400_naming_the_field(world: World) -> None:
    s = store(world)
    path = f"/accounts/{s.account_id}/leads"
    refused = world.post(path, s.agent_token, {"first_name": HOSTILE, "phone": "+13125550123"})
    assert refused.status == 400 and _fields(refused) == ["first_name"]
    refused = world.post(path, s.agent_token, {"first_name": "Ann", "source": "Web\x00site", "phone": "+13125550123"})
    assert refused.status == 400 and _fields(refused) == ["source"]
    renamed = world.patch(f"/accounts/{s.account_id}", s.admin_token, {"name": "Acme\r\nBcc: attacker@example.com"})
    assert renamed.status == 400 and _fields(renamed) == ["name"]
    assert world.get(f"/accounts/{s.account_id}", s.admin_token).json["name"] == "Acme Honda"
    made = world.post(path, s.agent_token, {"first_name": "Ann", "phone": "+13125550123",
                                            "message": "Two lines:\nthe second\twith a tab"})
    assert made.status == 201
    lead_id = made.json["lead_id"]
    note = world.post(f"/leads/{lead_id}/notes", s.agent_token, {"text": "Called\n\tno answer"})
    assert note.status == 201, note.json
    bad_note = world.post(f"/leads/{lead_id}/notes", s.agent_token, {"text": "Called\x1b[2J"})
    assert bad_note.status == 400 and _fields(bad_note) == ["text"]


def _adf(first_name: str) -> bytes:
    return f"""<?xml version="1.0"?><?adf version="1.0"?><adf><prospect>
      <customer><contact><name part="first">{first_name}</name><name part="last">Lopez&#9;</name>
      <phone>(312) 555-0142</phone></contact><comments>Line one&#13;&#10;line two</comments></customer>
      <provider><name part="full">Cars&#13;&#10;.com</name></provider></prospect></adf>""".encode()


def test_provider_text_is_stored_clean_and_escalation_mail_has_one_subject_line(world: World) -> None:
    s = store(world)
    reply = world.call("POST", f"/accounts/{s.account_id}/leads/adf", s.agent_token,
                       raw=_adf("Evil&#13;&#10;Bcc: attacker@example.com"), headers=XML)
    assert reply.status == 201, reply.json
    [made] = reply.json["items"]
    assert (made["first_name"], made["last_name"], made["source"]) == \
        ("Evil Bcc: attacker@example.com", "Lopez", "Cars .com")
    assert "\r" not in messages(world, made["lead_id"])[0]["body"]
    before = len(sent_mail())
    assert world.post(f"/leads/{made['lead_id']}/escalate", s.agent_token, {"note": "GM please"}).status == 200
    [mail] = sent_mail()[before:]
    parsed = email.message_from_string(str(mail.raw_data), policy=policy.default)
    assert parsed["Bcc"] is None and len(parsed.get_all("Subject")) == 1
    assert parsed["Subject"] == "Escalation: Evil Bcc: attacker@example.com Lopez (Acme Honda)"
    assert [a.addr_spec for a in parsed["To"].addresses] == ["gm@acme.com"]
    assert set(mail.destinations) == {"gm@acme.com"}


def test_sms_and_messenger_text_is_cleaned(world: World) -> None:
    s = store(world)
    assert sms(world, "Still\r\nthere?\x00\x07", sid="SM00000000000000000000000000ctrl1",
               sender="+13125550177").status == 200
    drain(world, "inbound")
    lead_id = world.deps.leads.contact(s.account_id, "phone", "+13125550177")["lead_id"]
    assert messages(world, lead_id)[0]["body"] == "Still\nthere?"
    known = twilio_params("inbound_sms.txt", Body="ok\x1b[31m red", MessageSid="SM00000000000000000000000000ctrl2",
                          From="+13125550177")
    assert twilio_post(world, "/webhooks/twilio/sms", known).status == 200
    assert messages(world, lead_id)[-1]["body"] == "ok[31m red"
    assert meta_post(world, meta_event("message.json", text="Hi\u0000 there\r\n\u0085!")).status == 200
    drain(world, "inbound")
    psid_lead = [e for e in timeline(world, lead_id) if e["type"] == "message"]
    assert psid_lead  # the SMS lead is untouched by the Messenger message
    page_leads = [lead for lead in world.get("/leads?limit=200", s.admin_token).json["items"]
                  if lead["channel"] == "messenger"]
    [messenger] = page_leads
    assert messages(world, messenger["lead_id"])[0]["body"] == "Hi there\n!"
    assert current(world, messenger["lead_id"]).source == "Facebook"
