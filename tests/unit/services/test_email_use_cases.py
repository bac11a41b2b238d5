"""Email both ways on fakes: an email-only lead can be written to (from the store's address, with
its reply address, threading, one-click unsubscribe); the customer's answer to the reply address
joins the lead once (Message-ID); mail to the store's address makes or joins a lead; broken mail is
refused with nothing stored; unsubscribing stops email only."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from chalicelib.domain.email_in import MailRefused
from chalicelib.domain.errors import Conflict, ValidationFailed
from chalicelib.services import email_in, email_out, messaging, outbox
from tests.unit.services.shop import Shop, shop

MAIL = Path(__file__).resolve().parents[2] / "events" / "email"
STORE_MAIL = "sales@acme-honda.example"


def _shop() -> Shop:
    s = shop(email_from=STORE_MAIL)
    return s


def _email_lead(s: Shop) -> str:
    return s.lead(phone=None, email="maria.lopez@example.com", last_name="Lopez").lead_id


def _send(s: Shop, lead_id: str, **fields: object) -> tuple[str, object]:
    sent = messaging.send_message(s.deps, s.principal(s.agents[0]), lead_id, **fields)  # type: ignore[arg-type]
    assert outbox.deliver(s.deps, sent["message_id"]) == "sent"
    handed = s.deps.sender.sent[-1]  # type: ignore[attr-defined]
    return sent["message_id"], BytesParser(policy=policy.default).parsebytes(handed.raw)


def test_an_email_only_lead_is_written_to_from_the_store_with_its_reply_address() -> None:
    s = _shop()
    lead_id = _email_lead(s)
    message_id, msg = _send(s, lead_id, body="Hi {{lead.first_name}}, the Civic is here.")
    lead = s.current(lead_id)
    token = lead.reply_token
    assert token and s.deps.mailboxes.token_owner(token) == (lead_id, s.account.account_id)  # type: ignore[attr-defined]
    assert str(msg["From"]) == f"Acme Honda <{STORE_MAIL}>"  # type: ignore[index]
    assert str(msg["Reply-To"]) == f"sales+{token}@acme-honda.example"  # type: ignore[index]
    assert msg["Subject"] == "Acme Honda: your inquiry"  # type: ignore[index]
    event = s.deps.state.events[lead_id][message_id].data
    assert (event["channel"], event["subject"], event["status"]) == ("email", "Acme Honda: your inquiry", "sent")
    assert lead.awaiting_since is None and lead.first_response_at is not None
    # a second email keeps the token
    _send(s, lead_id, body="Still interested?", subject="About {{lead.first_name}}'s Civic")
    assert s.current(lead_id).reply_token == token
    assert s.deps.state.events[lead_id][s.deps.sender.sent[-1].message_id].data["subject"] == "About Maria's Civic"  # type: ignore[attr-defined]


def test_the_channel_can_be_chosen_and_a_subject_is_for_email_only() -> None:
    s = _shop()
    lead_id = s.lead(email="maria@example.com").lead_id  # phone and email: SMS by default
    sent = messaging.send_message(s.deps, s.principal(s.agents[0]), lead_id, body="hi")
    assert s.deps.state.outbox[sent["message_id"]].channel == "sms"
    sent = messaging.send_message(s.deps, s.principal(s.agents[0]), lead_id, body="hi", channel="email")
    assert s.deps.state.outbox[sent["message_id"]].channel == "email"
    with pytest.raises(ValidationFailed) as err:
        messaging.send_message(s.deps, s.principal(s.agents[0]), lead_id, body="hi", subject="x")
    assert err.value.details[0]["field"] == "subject"
    with pytest.raises(Conflict) as no:
        messaging.send_message(s.deps, s.principal(s.agents[0]), lead_id, body="hi", channel="messenger")
    assert no.value.code == "no_contact"


def _reply(s: Shop, lead_id: str, name: str = "gmail_reply") -> bytes:
    token = s.current(lead_id).reply_token
    return (MAIL / f"{name}.eml").read_bytes().replace(b"TOKEN", str(token).encode())


def test_the_customers_answer_joins_the_lead_once_and_threads_the_next_email() -> None:
    s = _shop()
    lead_id = _email_lead(s)
    _send(s, lead_id, body="Want to come Saturday?")
    raw = _reply(s, lead_id)
    outcome = email_in.mail_arrived(s.deps, raw, [f"sales+{s.current(lead_id).reply_token}@acme-honda.example"])
    assert (outcome.status, outcome.lead_id) == ("stored", lead_id)
    assert email_in.mail_arrived(s.deps, raw, []).status == "duplicate"  # the same Message-ID again
    inbound = [e.data for e in s.deps.state.events[lead_id].values()
               if e.type == "message" and e.data["direction"] == "inbound" and e.data["channel"] == "email"]
    assert [m["body"] for m in inbound] == ["Yes, Saturday at 10 works. Can I bring my trade-in?\n\nMaria"]
    assert inbound[0]["subject"] == "Re: Acme Honda: your 2024 Honda Civic inquiry"
    lead = s.current(lead_id)
    assert lead.awaiting_since is not None and lead.email_thread is not None
    _, msg = _send(s, lead_id, body="Yes, bring it!")
    assert msg["In-Reply-To"] == "<CAF=gmail-reply-1@mail.gmail.com>"  # type: ignore[index]
    assert msg["Subject"] == "Re: Acme Honda: your 2024 Honda Civic inquiry"  # type: ignore[index]


def test_mail_to_the_stores_address_makes_a_lead_with_its_photo_or_joins_the_open_one() -> None:
    s = _shop()
    raw = (MAIL / "new_inquiry_with_photo.eml").read_bytes()
    made = email_in.mail_arrived(s.deps, raw, [STORE_MAIL])
    assert made.status == "stored"
    lead = s.current(str(made.lead_id))
    assert (lead.source, lead.channel, lead.email, lead.first_name, lead.last_name) == (
        "Email", "email", "kevin.marsh@example.com", "Kevin", "Marsh")
    [message] = [e.data for e in s.deps.state.events[lead.lead_id].values() if e.type == "message"]
    [photo] = message["attachments"]
    assert photo["content_type"] == "image/png" and s.deps.media.get(photo["key"]).startswith(b"\x89PNG")  # type: ignore[attr-defined]
    assert message["subject"] == "Trade-in photos"
    again = raw.replace(b"<photo-inquiry-1@example.com>", b"<photo-inquiry-2@example.com>")
    joined = email_in.mail_arrived(s.deps, again, [STORE_MAIL])
    assert joined.lead_id == lead.lead_id and len(s.deps.state.leads) == 1


def test_broken_unknown_and_automatic_mail_stores_nothing() -> None:
    s = _shop()
    before = dict(s.deps.state.events)
    with pytest.raises(MailRefused) as err:
        email_in.mail_arrived(s.deps, (MAIL / "broken_mime.eml").read_bytes(), [STORE_MAIL])
    assert err.value.smtp_code == 554
    with pytest.raises(MailRefused) as nobody:
        email_in.mail_arrived(s.deps, (MAIL / "new_inquiry_with_photo.eml").read_bytes(), ["nobody@elsewhere.example"])
    assert nobody.value.smtp_reply.startswith("550 5.1.1")
    auto = (MAIL / "auto_reply.eml").read_bytes().replace(b"sales+TOKEN", b"sales")
    assert email_in.mail_arrived(s.deps, auto, [STORE_MAIL]).status == "ignored"
    assert s.deps.state.events == before and not s.deps.state.leads
    assert not s.deps.media.objects  # type: ignore[attr-defined]


def test_unsubscribe_stops_email_only_and_the_outbox_drops_what_was_queued() -> None:
    s = _shop()
    lead_id = s.lead(email="maria@example.com").lead_id
    _send(s, lead_id, body="first", channel="email")
    queued = messaging.send_message(s.deps, s.principal(s.agents[0]), lead_id, body="second", channel="email")
    token = str(s.current(lead_id).reply_token)
    assert email_out.unsubscribe(s.deps, token) and email_out.unsubscribe(s.deps, token)  # twice: same
    assert not email_out.unsubscribe(s.deps, "a" * 24)
    lead = s.current(lead_id)
    assert lead.email_opted_out and not lead.opted_out
    assert outbox.deliver(s.deps, queued["message_id"]) == "dropped"
    with pytest.raises(Conflict) as err:
        messaging.send_message(s.deps, s.principal(s.agents[0]), lead_id, body="x", channel="email")
    assert err.value.code == "opted_out"
    sms = messaging.send_message(s.deps, s.principal(s.agents[0]), lead_id, body="texts still go")
    assert s.deps.state.outbox[sms["message_id"]].channel == "sms"
    opt_outs = [e for e in s.deps.state.events[lead_id].values() if e.type == "opt_out"]
    assert [e.data["source"] for e in opt_outs] == ["email_unsubscribe"]


def test_a_reply_saying_unsubscribe_unsubscribes() -> None:
    s = _shop()
    lead_id = _email_lead(s)
    _send(s, lead_id, body="hello")
    token = s.current(lead_id).reply_token
    raw = (b"From: maria.lopez@example.com\r\nTo: sales+" + str(token).encode() + b"@acme-honda.example\r\n"
           b"Subject: unsubscribe\r\nMessage-ID: <u1@example.com>\r\n\r\n")
    assert email_in.mail_arrived(s.deps, raw, []).status == "unsubscribed"
    assert s.current(lead_id).email_opted_out
