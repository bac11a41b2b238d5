"""Email, calls and pictures on the local stack, over real HTTP, SMTP and S3 with the real clock
(one stack for the module):

- an email-only lead answered by email; the customer's reply sent with smtplib to the stack's SMTP
  port is in the timeline within 2 s; the same Message-ID delivered again is stored once; malformed
  MIME is refused by SMTP and nothing is stored;
- a call: the sandbox dialer records it, Twilio's signed voice and status webhooks give one `call`
  event and clear awaiting; forged webhooks are 403 and store nothing;
- a picture uploaded with its presigned POST goes out as MMS media in the sandbox; an inbound MMS's
  picture (served by the test) is copied into the media bucket and downloadable from its URL; a
  6 MB or wrong-type upload is refused."""

from __future__ import annotations

import http.server
import smtplib
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import boto3
import pytest
import requests

from chalicelib.domain.signatures import twilio_signature
from tests.e2e.conftest import RoutedStore, StackProcess, free_port, routed_store, wait_for

pytestmark = pytest.mark.e2e

DOMAIN = "maple-motors.com"
STORE_MAIL = f"sales@{DOMAIN}"
STORE_NUMBER = "+13125550140"
AGENT_PHONE = "+13125550141"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
# Messages wait out the customer's quiet hours (21:00-08:00 where their phone, else the store, is):
# the store and its customers are put where it is day now, so what is sent goes at once.
DAYTIME = [("Europe/London", "+44207946{:04d}"), ("America/New_York", "+1212555{:04d}"),
           ("Pacific/Honolulu", "+1808555{:04d}"), ("Australia/Sydney", "+6129876{:04d}")]
ZONE, PHONE = next((zone, phone) for zone, phone in DAYTIME
                   if 9 <= datetime.now(UTC).astimezone(ZoneInfo(zone)).hour < 20)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    home: Path = tmp_path_factory.mktemp("channels") / "home"
    home.mkdir()
    running = StackProcess(home=home, port=free_port(), aws_port=free_port(), smtp_port=free_port(),
                           start_timeout=120).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def shop(stack: StackProcess) -> RoutedStore:
    made = routed_store(stack, DOMAIN, 300, sms_number=STORE_NUMBER, email_from=STORE_MAIL, timezone=ZONE)
    # The group's admin calls (an agent sees only the leads offered to them).
    assert made.http("PATCH", "/me", {"phone": AGENT_PHONE}).status_code == 200
    return made


def sandbox(stack: StackProcess, account_id: str) -> list[dict[str, Any]]:
    """What the sandbox sender and dialer recorded for the store (read from the stack's endpoint)."""
    table = boto3.resource("dynamodb", endpoint_url=stack.info()["aws_endpoint"], region_name="us-east-1",
                           aws_access_key_id="local", aws_secret_access_key="local").Table("leadline")
    return list(table.query(KeyConditionExpression="PK = :pk", ExpressionAttributeValues={
        ":pk": f"SANDBOX#{account_id}"}, ConsistentRead=True)["Items"])


def events(shop: RoutedStore, lead_id: str, type_: str) -> list[dict[str, Any]]:
    reply = shop.http("GET", f"/leads/{lead_id}/timeline")
    assert reply.status_code == 200, reply.text
    return [e for e in reply.json()["items"] if e["type"] == type_]


def new_lead(shop: RoutedStore, **fields: Any) -> str:
    made = shop.http("POST", f"/accounts/{shop.account_id}/leads", {"source": "Web", "channel": "web", **fields})
    assert made.status_code == 201, made.text
    return str(made.json()["lead_id"])


def signed_post(url: str, params: dict[str, str], token: str = "dev-twilio-token") -> requests.Response:
    signature = twilio_signature(token, url, {k: [v] for k, v in params.items()})
    return requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)


def deliver(stack: StackProcess, raw: bytes, to: str) -> tuple[int, bytes]:
    """One SMTP transaction; the DATA reply (the stack answers once the mail is stored or refused)."""
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=10) as smtp:
        smtp.ehlo()
        smtp.mail("maria.lopez@example.com")
        code, _ = smtp.rcpt(to)
        assert code == 250
        return smtp.data(raw)


# -- email -------------------------------------------------------------------------------------------

def test_an_email_lead_is_answered_by_email_and_the_reply_by_smtp_lands_within_2_s(
        stack: StackProcess, shop: RoutedStore) -> None:
    lead_id = new_lead(shop, first_name="Maria", last_name="Lopez", email="maria.lopez@example.com",
                       message="Is the CR-V still there?")
    sent = shop.http("POST", f"/leads/{lead_id}/messages", {"body": "Hi {{lead.first_name}}, it is!"})
    assert sent.status_code == 202, sent.text
    email = wait_for(lambda: [x for x in sandbox(stack, shop.account_id) if x["channel"] == "email"],
                     10, "the email in the sandbox")[0]
    headers = email["email"]["headers"]
    assert email["to"] == "maria.lopez@example.com" and STORE_MAIL in headers["From"]
    reply_to = headers["Reply-To"].split("<")[-1].rstrip(">")
    assert reply_to.startswith("sales+") and reply_to.endswith(f"@{DOMAIN}")

    answer = EmailMessage()
    answer["From"] = "Maria Lopez <maria.lopez@example.com>"
    answer["To"] = reply_to
    answer["Subject"] = "Re: " + str(headers["Subject"])
    answer["Message-ID"] = "<reply-1@mail.example.com>"
    answer["In-Reply-To"] = str(headers["Message-ID"])
    answer.set_content("Great, I will come Saturday at 10.\n\nOn Monday Maple Motors wrote:\n> Hi Maria, it is!\n")
    # The stack answers DATA once the mail is stored (or refused): from the 250 on it is in the timeline.
    started = time.monotonic()
    code, text = deliver(stack, answer.as_bytes(), reply_to)
    took = time.monotonic() - started
    assert code == 250 and took <= 2.0, (code, text, took)

    def arrived() -> list[dict[str, Any]]:
        return [m for m in events(shop, lead_id, "message") if m["direction"] == "inbound" and m["channel"] == "email"]

    [message] = arrived()
    assert message["body"] == "Great, I will come Saturday at 10."

    code, text = deliver(stack, answer.as_bytes(), reply_to)  # the same Message-ID again
    assert (code, text) == (250, b"2.0.0 duplicate")
    assert len(arrived()) == 1
    assert shop.http("GET", f"/leads/{lead_id}").json()["email_opted_out"] is False


def test_malformed_mime_is_refused_by_smtp_and_nothing_is_stored(stack: StackProcess, shop: RoutedStore) -> None:
    before = shop.http("GET", f"/leads?account_id={shop.account_id}").json()["items"]
    broken = (b"From: someone@example.com\r\nTo: " + STORE_MAIL.encode() + b"\r\nSubject: hi\r\n"
              b"Message-ID: <broken-1@example.com>\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: multipart/mixed\r\n\r\nno boundary anywhere\r\n")
    code, text = deliver(stack, broken, STORE_MAIL)
    assert 500 <= code < 600, text
    assert shop.http("GET", f"/leads?account_id={shop.account_id}").json()["items"] == before


# -- calls -------------------------------------------------------------------------------------------

def test_a_calls_signed_webhooks_give_one_call_event_and_clear_awaiting(stack: StackProcess,
                                                                        shop: RoutedStore) -> None:
    lead_id = new_lead(shop, first_name="Tom", phone=PHONE.format(142))
    assert shop.http("GET", f"/leads/{lead_id}").json()["awaiting_since"] is not None
    started = shop.http("POST", f"/leads/{lead_id}/call")
    assert started.status_code == 202, started.text
    call_id = started.json()["call_id"]
    placed = wait_for(lambda: [x for x in sandbox(stack, shop.account_id) if x.get("call_id") == call_id],
                      5, "the call in the sandbox")[0]
    assert (placed["to"], placed["sender"], placed["customer"]) == (AGENT_PHONE, STORE_NUMBER, PHONE.format(142))

    forged = requests.post(placed["status_url"], data={"CallSid": placed["provider_id"], "CallStatus": "completed",
                                                      "CallDuration": "300"},
                           headers={"X-Twilio-Signature": "Zm9yZ2Vk"}, timeout=10)
    assert forged.status_code == 403
    assert [e["status"] for e in events(shop, lead_id, "call")] == ["queued"]

    voice = signed_post(placed["answer_url"], {"CallSid": placed["provider_id"], "CallStatus": "in-progress"})
    assert voice.status_code == 200 and f"{PHONE.format(142)}</Number>" in voice.text
    customer_url = voice.text.split('statusCallback="')[1].split('"')[0].replace("&amp;", "&")
    for url, status, more in ((placed["status_url"], "ringing", {}), (placed["status_url"], "in-progress", {}),
                              (customer_url, "ringing", {}), (customer_url, "in-progress", {}),
                              (customer_url, "completed", {"CallDuration": "95"}),
                              (placed["status_url"], "completed", {"CallDuration": "110"})):
        done = signed_post(url, {"CallSid": placed["provider_id"], "CallStatus": status, **more})
        assert done.status_code == 204, done.text
    [call] = events(shop, lead_id, "call")
    assert (call["call_id"], call["status"], call["duration_s"]) == (call_id, "completed", 95)
    assert shop.http("GET", f"/leads/{lead_id}").json()["awaiting_since"] is None


# -- pictures ----------------------------------------------------------------------------------------

def upload(shop: RoutedStore, lead_id: str, body: bytes) -> str:
    made = shop.http("POST", f"/leads/{lead_id}/attachments",
                     {"filename": "civic.png", "content_type": "image/png", "bytes": len(body)})
    assert made.status_code == 201, made.text
    posted = requests.post(made.json()["upload_url"], data=made.json()["upload_fields"],
                           files={"file": ("civic.png", body)}, timeout=10)
    assert posted.status_code in (200, 201, 204), posted.text
    return str(made.json()["attachment_id"])


def test_an_uploaded_picture_goes_out_as_mms_media(stack: StackProcess, shop: RoutedStore) -> None:
    lead_id = new_lead(shop, first_name="Ann", phone=PHONE.format(143))
    attachment_id = upload(shop, lead_id, PNG)
    sent = shop.http("POST", f"/leads/{lead_id}/messages", {"body": "The Civic", "attachment_ids": [attachment_id]})
    assert sent.status_code == 202, sent.text
    mms = wait_for(lambda: [x for x in sandbox(stack, shop.account_id)
                            if x["channel"] == "sms" and x["to"] == PHONE.format(143)],
                   10, "the MMS in the sandbox")[0]
    [url] = mms["media_urls"]
    assert requests.get(url, timeout=10).content == PNG  # what Twilio would fetch


def test_a_6_mb_or_wrong_type_upload_is_refused(shop: RoutedStore) -> None:
    lead_id = new_lead(shop, first_name="Bo", phone=PHONE.format(144))
    path = f"/leads/{lead_id}/attachments"
    big = shop.http("POST", path, {"filename": "big.png", "content_type": "image/png", "bytes": 6 * 1024 * 1024})
    page = shop.http("POST", path, {"filename": "x.html", "content_type": "text/html", "bytes": 100})
    assert (big.status_code, page.status_code) == (413, 400)


class _Picture(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, *args: Any) -> None:
        pass


def test_an_inbound_mms_picture_is_downloadable_from_its_presigned_url(stack: StackProcess,
                                                                        shop: RoutedStore) -> None:
    lead_id = new_lead(shop, first_name="Cy", phone=PHONE.format(145))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Picture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = stack.url + "/webhooks/twilio/sms"
        params = {"MessageSid": "MM" + "5" * 32, "AccountSid": "AC" + "0" * 32, "From": PHONE.format(145),
                  "To": STORE_NUMBER, "Body": "My trade-in", "NumMedia": "1",
                  "MediaUrl0": f"http://127.0.0.1:{server.server_address[1]}/media/ME1",
                  "MediaContentType0": "image/png"}
        assert signed_post(url, params).status_code == 200

        def copied() -> list[dict[str, Any]]:
            return [a for m in events(shop, lead_id, "message") if m.get("body") == "My trade-in"
                    for a in m.get("attachments", []) if urlsplit(a.get("url", "")).path.startswith("/leadline-media/")
                    or "leadline-media" in urlsplit(a.get("url", "")).netloc]

        [picture] = wait_for(copied, 10, "the copied picture")
    finally:
        server.shutdown()
        server.server_close()
    assert picture["content_type"] == "image/png"
    assert requests.get(picture["url"], timeout=10).content == PNG
