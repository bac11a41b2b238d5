"""Email both ways through the HTTP surface and the deployed path under moto: an email-only lead is
answered by email (the sandbox records it: headers, reply address, one-click unsubscribe); SES's
receipt notice on the inbound queue brings the customer's answer into the timeline once; mail to
the store's address makes a lead; the one-click unsubscribe; the SES sender itself."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from chalicelib.adapters.aws import client
from tests.integration.conversations_support import current, drain, sent, store, timeline
from tests.support import World

MAIL = Path(__file__).resolve().parents[1] / "events" / "email"
STORE_MAIL = "sales@acme-honda.example"


def _email_store(world: World) -> Any:
    s = store(world)
    # The one-click unsubscribe link is an address of the API: the stage's public URL.
    world.deps._settings = world.deps.settings.model_copy(update={"public_base_url": "https://api.acme-leads.example"})
    reply = world.patch(f"/accounts/{s.account_id}", s.admin_token, {"email_from": STORE_MAIL})
    assert reply.status == 200 and reply.json["email_from"] == STORE_MAIL
    return s


def _email_lead(world: World, s: Any) -> str:
    made = world.post(f"/accounts/{s.account_id}/leads", s.admin_token,
                      {"first_name": "Maria", "last_name": "Lopez", "email": "Maria.Lopez@example.com",
                       "source": "Cars.com", "channel": "web", "message": "Is the Civic available?"})
    assert made.status == 201, made.json
    return str(made.json["lead_id"])


def ses_delivers(world: World, raw: bytes, recipients: list[str], ses_id: str) -> int:
    """What SES's receipt rule does: the raw mail into the media bucket, a notice on the inbound queue
    (SNS raw delivery); then the inbound consumer runs."""
    key = f"inbound-mail/{ses_id}"
    client("s3").put_object(Bucket=world.deps.settings.media_bucket, Key=key, Body=raw)
    notice = {"notificationType": "Received", "mail": {"messageId": ses_id, "source": "x@example.com"},
              "receipt": {"recipients": recipients, "spamVerdict": {"status": "PASS"},
                          "virusVerdict": {"status": "PASS"},
                          "action": {"type": "S3", "topicArn": "arn:aws:sns:us-east-1:123456789012:mail",
                                     "bucketName": world.deps.settings.media_bucket, "objectKey": key}}}
    client("sqs").send_message(QueueUrl=world.deps.queues.url("inbound"), MessageBody=json.dumps(notice))
    return drain(world, "inbound")


def test_an_email_lead_answered_by_email_and_the_answer_back_through_ses(world: World) -> None:
    s = _email_store(world)
    lead_id = _email_lead(world, s)
    reply = world.post(f"/leads/{lead_id}/messages", s.agent_token, {"body": "Hi {{lead.first_name}}, it is!"})
    assert reply.status == 202, reply.json
    drain(world, "outbox")
    [email] = [x for x in sent(world, s) if x["channel"] == "email"]
    headers = email["email"]["headers"]
    assert email["to"] == "maria.lopez@example.com" and headers["From"] == f"Acme Honda <{STORE_MAIL}>"
    token = re.search(r"sales\+([a-z2-7]{24})@", headers["Reply-To"]).group(1)  # type: ignore[union-attr]
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"/email/unsubscribe/{token}" in headers["List-Unsubscribe"]
    assert email["email"]["text"].startswith("Hi Maria, it is!")
    [out] = [m for m in timeline(world, lead_id, "message") if m["direction"] == "outbound"]
    assert (out["channel"], out["status"], out["subject"]) == ("email", "delivered", "Acme Honda: your inquiry")

    raw = (MAIL / "gmail_reply.eml").read_bytes().replace(b"TOKEN", token.encode())
    address = f"sales+{token}@acme-honda.example"
    ses_delivers(world, raw, [address], "ses-1")
    ses_delivers(world, raw, [address], "ses-2")  # SES delivered it twice: stored once
    inbound = [m for m in timeline(world, lead_id, "message")
               if m["channel"] == "email" and m["direction"] == "inbound"]
    assert [m["body"] for m in inbound] == ["Yes, Saturday at 10 works. Can I bring my trade-in?\n\nMaria"]
    assert current(world, lead_id).awaiting_since is not None
    # The customer's own first words tell the lead's language (the web form's did not): the stream consumer's.
    assert current(world, lead_id).language is None
    world.settle()
    assert current(world, lead_id).language == "en"


def test_mail_to_the_stores_address_makes_an_email_lead_with_its_picture(world: World) -> None:
    s = _email_store(world)
    ses_delivers(world, (MAIL / "new_inquiry_with_photo.eml").read_bytes(), [STORE_MAIL], "ses-3")
    world.settle()  # the table's stream: the new lead's language from its first message
    leads = world.get(f"/leads?account_id={s.account_id}", s.admin_token).json["items"]
    [lead] = [x for x in leads if x["email"] == "kevin.marsh@example.com"]
    assert (lead["source"], lead["channel"], lead["first_name"], lead["language"]) == ("Email", "email", "Kevin", "en")
    events = world.get(f"/leads/{lead['lead_id']}/timeline", s.admin_token).json["items"]
    [message] = [e for e in events if e["type"] == "message"]
    [photo] = message["attachments"]
    assert photo["content_type"] == "image/png" and "key" not in photo
    import requests

    assert requests.get(photo["url"], timeout=10).content.startswith(b"\x89PNG")


def test_spam_virus_and_broken_mail_from_ses_are_dropped(world: World) -> None:
    s = _email_store(world)
    ses_delivers(world, (MAIL / "broken_mime.eml").read_bytes(), [STORE_MAIL], "ses-4")
    assert world.get(f"/leads?account_id={s.account_id}", s.admin_token).json["items"] == []
    assert client("sqs").get_queue_attributes(QueueUrl=world.deps.queues.url("inbound"),
                                              AttributeNames=["ApproximateNumberOfMessages"]
                                              )["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_one_click_unsubscribe_stops_email_only(world: World) -> None:
    s = _email_store(world)
    lead_id = _email_lead(world, s)
    world.post(f"/leads/{lead_id}/messages", s.agent_token, {"body": "hello"})
    token = current(world, lead_id).reply_token
    page = world.call("GET", f"/email/unsubscribe/{token}", headers={})
    assert page.status == 200 and b"<form method=\"post\">" in page.body
    assert not current(world, lead_id).email_opted_out  # a link checker's GET changes nothing
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    done = world.call("POST", f"/email/unsubscribe/{token}", headers=form, raw="List-Unsubscribe=One-Click")
    assert done.status == 200 and done.headers["Content-Type"].startswith("text/html")
    assert current(world, lead_id).email_opted_out
    again = world.post(f"/leads/{lead_id}/messages", s.agent_token, {"body": "more"})
    assert (again.status, again.error_code) == (409, "opted_out")
    view = world.get(f"/leads/{lead_id}", s.agent_token).json
    assert view["email_opted_out"] is True and "reply_token" not in view
    bad = world.call("POST", "/email/unsubscribe/" + "a" * 24, headers=form, raw="List-Unsubscribe=One-Click")
    assert (bad.status, bad.error_code) == (404, "not_found")  # a mail provider's POST: the contract's error
    person = world.call("POST", "/email/unsubscribe/" + "a" * 24, headers={**form, "Accept": "text/html"},
                        raw="List-Unsubscribe=One-Click")
    assert person.status == 404 and b"not valid" in person.body  # a browser: a page


def test_the_ses_sender_sends_the_raw_message(world: World) -> None:
    from chalicelib.adapters.email_sender import SesEmailSender
    from chalicelib.domain.messaging import OutboundMessage

    client("sesv2").create_email_identity(EmailIdentity="acme-honda.example")
    raw = b"From: sales@acme-honda.example\r\nTo: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n"
    result = SesEmailSender().send(OutboundMessage(channel="email", to="a@example.com", body="hello",
                                                   sender=STORE_MAIL, raw=raw))
    assert result.provider_id
