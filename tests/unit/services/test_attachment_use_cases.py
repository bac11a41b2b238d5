"""Pictures and files on fakes: an upload is a presigned POST for exactly that file; sending checks
the object (there, ≤ 5 MB, its bytes an allowed type and the declared one) and moves it into media/
before anything is written; it goes as MMS media, a Messenger attachment or an email attachment;
what customers send by MMS is copied into the bucket by the inbound queue's job; every message's
attachments read as {attachment_id, content_type, url}."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

import pytest
from pydantic import TypeAdapter

from chalicelib.domain.errors import NotFound, TooLarge, ValidationFailed
from chalicelib.domain.inbound import InboundMessage
from chalicelib.domain.media import MAX_UPLOAD_BYTES, upload_key
from chalicelib.schemas.queues import InboundJob
from chalicelib.services import attachments, inbound, inbound_queue, messaging, outbox
from tests.unit.services.shop import STORE_NUMBER, Shop, shop

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
PDF = b"%PDF-1.7\n" + b"x" * 200


def _upload(s: Shop, lead_id: str, body: bytes, content_type: str = "image/png", name: str = "car.png") -> str:
    made = attachments.create_upload(s.deps, s.principal(s.agents[0]), lead_id, name, content_type, len(body))
    key, declared, limit = s.deps.media.presigned[-1]  # type: ignore[attr-defined]
    assert (made["upload_fields"]["key"], declared, limit) == (key, content_type, MAX_UPLOAD_BYTES)
    s.deps.media.uploaded(key, body, content_type)  # type: ignore[attr-defined]
    return str(made["attachment_id"])


def test_a_picture_goes_out_as_mms_media_from_the_bucket() -> None:
    s = shop()
    lead = s.lead()
    attachment_id = _upload(s, lead.lead_id, PNG)
    sent = messaging.send_message(s.deps, s.principal(s.agents[0]), lead.lead_id, body="Here it is",
                                  attachment_ids=[attachment_id])
    assert outbox.deliver(s.deps, sent["message_id"]) == "sent"
    [handed] = s.deps.sender.sent  # type: ignore[attr-defined]
    key = f"media/{s.account.account_id}/{attachment_id}"
    assert handed.media_urls == (f"https://media.invalid/{key}?expires_in=3600",)
    assert handed.media_types == ("image/png",)
    assert s.deps.media.get(key) == PNG  # type: ignore[attr-defined]
    [event] = [e for e in s.deps.leads.timeline(lead.lead_id) if e.event_id == sent["message_id"]]
    assert event.data["attachments"][0]["key"] == key  # kept inside; the API shows a URL instead
    [shown] = [e for e in attachments.present(s.deps, [event])]
    assert shown.data["attachments"] == [{"attachment_id": attachment_id, "content_type": "image/png",
                                          "filename": "car.png", "bytes": len(PNG),
                                          "url": f"https://media.invalid/{key}?expires_in=900"}]
    # the same upload can be sent again without a second check
    again = messaging.send_message(s.deps, s.principal(s.agents[0]), lead.lead_id, attachment_ids=[attachment_id])
    assert s.deps.state.outbox[again["message_id"]].attachments[0]["key"] == key


def test_a_pdf_goes_by_email_as_an_attachment() -> None:
    s = shop()
    lead = s.lead(phone=None, email="maria@example.com")
    attachment_id = _upload(s, lead.lead_id, PDF, "application/pdf", "quote.pdf")
    sent = messaging.send_message(s.deps, s.principal(s.agents[0]), lead.lead_id, body="Your quote",
                                  attachment_ids=[attachment_id])
    outbox.deliver(s.deps, sent["message_id"])
    msg = BytesParser(policy=policy.default).parsebytes(s.deps.sender.sent[-1].raw)  # type: ignore[attr-defined]
    [pdf] = list(msg.iter_attachments())
    assert (pdf.get_filename(), pdf.get_content_type(), pdf.get_content()) == ("quote.pdf", "application/pdf", PDF)


@pytest.mark.parametrize("content_type, size, field, error", [
    ("text/html", 100, "content_type", ValidationFailed),
    ("image/svg+xml", 100, "content_type", ValidationFailed),
    ("image/png", 6 * 1024 * 1024, "bytes", TooLarge),
])
def test_an_upload_of_a_wrong_type_or_over_5_mb_is_refused(content_type: str, size: int, field: str,
                                                           error: type[Exception]) -> None:
    s = shop()
    lead = s.lead()
    with pytest.raises(error) as err:
        attachments.create_upload(s.deps, s.principal(s.agents[0]), lead.lead_id, "x", content_type, size)
    assert err.value.details[0]["field"] == field  # type: ignore[attr-defined]
    assert not s.deps.media.presigned  # type: ignore[attr-defined]


@pytest.mark.parametrize("body, error, words", [
    (b"<html><script>alert(1)</script></html>", ValidationFailed, "not a JPEG, PNG"),
    (b"%PDF-1.4 a pdf called a png", ValidationFailed, "is application/pdf, not the declared image/png"),
    (b"\x89PNG\r\n\x1a\n" + b"0" * (6 * 1024 * 1024), TooLarge, "bytes; at most"),
    (None, ValidationFailed, "nothing was uploaded"),
])
def test_what_was_really_uploaded_is_checked_before_anything_is_sent(body: bytes | None, error: type[Exception],
                                                                     words: str) -> None:
    s = shop()
    lead = s.lead()
    made = attachments.create_upload(s.deps, s.principal(s.agents[0]), lead.lead_id, "car.png", "image/png", 1000)
    if body is not None:
        s.deps.media.uploaded(upload_key(s.account.account_id, made["attachment_id"]), body, "image/png")  # type: ignore[attr-defined]
    before = dict(s.deps.state.outbox)
    with pytest.raises(error) as err:
        messaging.send_message(s.deps, s.principal(s.agents[0]), lead.lead_id, body="x",
                               attachment_ids=[made["attachment_id"]])
    assert err.value.details == [{"field": "attachment_ids[0]", "message": err.value.details[0]["message"]}]  # type: ignore[attr-defined]
    assert words in err.value.details[0]["message"]  # type: ignore[attr-defined]
    assert s.deps.state.outbox == before
    assert not [k for k in s.deps.media.objects if k.startswith("media/")]  # type: ignore[attr-defined]


def test_another_leads_attachment_cannot_be_sent() -> None:
    s = shop()
    mine, other = s.lead(), s.lead(phone="+13125550188", first_name="Ann")
    attachment_id = _upload(s, other.lead_id, PNG)
    with pytest.raises(ValidationFailed) as err:
        messaging.send_message(s.deps, s.principal(s.agents[0]), mine.lead_id, attachment_ids=[attachment_id])
    assert err.value.details[0]["message"] == "no such attachment on this lead"


def _jobs(s: Shop) -> list[object]:
    adapter = TypeAdapter(InboundJob)
    return [adapter.validate_python(body) for body in s.queued("inbound")]


def test_an_inbound_mms_picture_is_copied_into_the_bucket() -> None:
    s = shop()
    lead = s.lead()
    s.queued("inbound")
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
    s.deps.media_fetcher.files[url] = (PNG, "image/png")  # type: ignore[attr-defined]
    msg = InboundMessage(provider="twilio", provider_id="MM" + "1" * 32, channel="sms", sender="+13125550177",
                         recipient=STORE_NUMBER, body="", received_at=s.clock.now().isoformat(),
                         attachments=[{"attachment_id": "att_1", "url": url, "content_type": "image/png"},
                                      {"attachment_id": "att_2", "url": "https://api.twilio.com/gone"}])
    result = inbound.receive(s.deps, s.account.account_id, msg)
    copy = [j for j in _jobs(s) if getattr(j, "kind", "") == "media"]
    assert len(copy) == 1
    inbound_queue.process_job(s.deps, copy[0])  # type: ignore[arg-type]
    inbound_queue.process_job(s.deps, copy[0])  # twice: the same keys, the same result
    event = s.deps.leads.event(lead.lead_id, str(result.message_id))
    assert event is not None
    [picture, gone] = event.data["attachments"]
    assert (picture["attachment_id"], picture["content_type"], picture["bytes"]) == ("att_1", "image/png", len(PNG))
    assert s.deps.media.get(picture["key"]) == PNG  # type: ignore[attr-defined]
    assert gone["attachment_id"] == "att_2" and "404" in gone["error"] and "key" not in gone


def test_a_copy_for_a_message_that_is_gone_is_not_found() -> None:
    s = shop()
    from chalicelib.schemas.queues import CopyMedia, MediaItem

    job = CopyMedia(account_id=s.account.account_id, lead_id="lead_gone", message_id="msg_gone",
                    items=[MediaItem(attachment_id="att_1", url="https://api.twilio.com/x")])
    with pytest.raises(NotFound):
        attachments.copy_inbound(s.deps, job)
