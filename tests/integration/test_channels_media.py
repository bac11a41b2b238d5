"""Pictures and files through the HTTP surface under moto: a presigned upload into the media
bucket, sent as MMS media (the sandbox records a presigned GET that serves the picture); a wrong
type or an over-limit upload is refused and nothing is sent; an inbound MMS's picture is copied into
the bucket by the inbound consumer and read back through its presigned URL."""

from __future__ import annotations

from typing import Any

import requests

from tests.fakes_channels import FakeMediaFetcher
from tests.integration.conversations_support import drain, lead, sent, store, timeline, twilio_params, twilio_post
from tests.support import World

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _upload(world: World, s: Any, lead_id: str, body: bytes, content_type: str = "image/png",
            declared: int | None = None) -> str:
    reply = world.post(f"/leads/{lead_id}/attachments", s.agent_token,
                       {"filename": "civic.png", "content_type": content_type, "bytes": declared or len(body)})
    assert reply.status == 201, reply.json
    made = reply.json
    # what the browser does with the presigned POST
    posted = requests.post(made["upload_url"], data=made["upload_fields"], files={"file": ("civic.png", body)},
                           timeout=10)
    assert posted.status_code in (200, 201, 204), posted.text
    return str(made["attachment_id"])


def test_an_uploaded_picture_goes_out_as_mms_media(world: World) -> None:
    s = store(world)
    made = lead(world, s)
    attachment_id = _upload(world, s, made.lead_id, PNG)
    reply = world.post(f"/leads/{made.lead_id}/messages", s.agent_token,
                       {"body": "Here is the Civic", "attachment_ids": [attachment_id]})
    assert reply.status == 202, reply.json
    drain(world, "outbox")
    [mms] = [x for x in sent(world, s) if x["channel"] == "sms"]
    [url] = mms["media_urls"]
    assert requests.get(url, timeout=10).content == PNG  # Twilio fetches exactly this
    [message] = [m for m in timeline(world, made.lead_id, "message") if m["direction"] == "outbound"]
    shown = world.get(f"/leads/{made.lead_id}/timeline", s.agent_token).json["items"]
    [attachment] = next(e for e in shown if e.get("message_id") == message["message_id"])["attachments"]
    assert attachment["attachment_id"] == attachment_id and attachment["content_type"] == "image/png"
    assert requests.get(attachment["url"], timeout=10).content == PNG


def test_a_wrong_type_or_6_mb_upload_is_refused_and_nothing_is_sent(world: World) -> None:
    s = store(world)
    made = lead(world, s)
    path = f"/leads/{made.lead_id}/attachments"
    too_big = world.post(path, s.agent_token, {"filename": "big.png", "content_type": "image/png",
                                               "bytes": 6 * 1024 * 1024})
    assert (too_big.status, too_big.json["error"]["details"][0]["field"]) == (413, "bytes")
    html = world.post(path, s.agent_token, {"filename": "x.html", "content_type": "text/html", "bytes": 10})
    assert (html.status, html.json["error"]["details"][0]["field"]) == (400, "content_type")
    # declared a picture, uploaded a web page; declared small, uploaded 6 MB
    for body in (b"<html><script>alert(1)</script></html>", b"\x89PNG\r\n\x1a\n" + b"0" * (6 * 1024 * 1024)):
        attachment_id = _upload(world, s, made.lead_id, body, declared=1000)
        reply = world.post(f"/leads/{made.lead_id}/messages", s.agent_token,
                           {"body": "look", "attachment_ids": [attachment_id]})
        assert reply.status in (400, 413) and reply.json["error"]["details"][0]["field"] == "attachment_ids[0]"
    assert [m for m in timeline(world, made.lead_id, "message") if m["direction"] == "outbound"] == []
    assert drain(world, "outbox") == 0


def test_an_inbound_mms_picture_is_copied_and_readable_from_its_url(world: World) -> None:
    s = store(world)
    made = lead(world, s)
    fetcher = FakeMediaFetcher()
    world.deps.media_fetcher = fetcher
    media_url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
    fetcher.files[media_url] = (PNG, "image/png")
    params = twilio_params("inbound_sms.txt", Body="Here is my trade-in", NumMedia="1", MediaUrl0=media_url,
                           MediaContentType0="image/png", MessageSid="MM" + "7" * 32)
    assert twilio_post(world, "/webhooks/twilio/sms", params).status == 200
    drain(world, "inbound")
    shown = world.get(f"/leads/{made.lead_id}/timeline", s.agent_token).json["items"]
    [message] = [e for e in shown if e["type"] == "message" and e.get("body") == "Here is my trade-in"]
    [picture] = message["attachments"]
    assert picture["content_type"] == "image/png" and picture["bytes"] == len(PNG)
    assert requests.get(picture["url"], timeout=10).content == PNG
    assert fetcher.fetched == [media_url]
