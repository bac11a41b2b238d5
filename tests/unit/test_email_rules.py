"""Email, pure: reading a customer's mail (the stdlib `email` package, policy.default), trimming the
quoted history of a reply, HTML reduced to text, refusing broken or huge MIME with the SMTP reply to
give; building ours (headers by the header registry, threading, RFC 8058 one-click unsubscribe,
text + HTML, attachments); reply addresses; what a file really is."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from chalicelib.domain import email_out, media
from chalicelib.domain.email_in import MAX_MAIL_BYTES, MailRefused, parse_mail
from chalicelib.domain.email_text import html_to_text, text_to_html, trim_quoted

MAIL = Path(__file__).resolve().parents[1] / "events" / "email"


def mail(name: str) -> bytes:
    return (MAIL / f"{name}.eml").read_bytes()


def test_a_gmail_reply_is_its_new_words_with_its_thread() -> None:
    parsed = parse_mail(mail("gmail_reply"))
    assert parsed.text == "Yes, Saturday at 10 works. Can I bring my trade-in?\n\nMaria"
    assert (parsed.sender, parsed.sender_name) == ("maria.lopez@example.com", "Maria Lopez")
    assert parsed.message_id == "<CAF=gmail-reply-1@mail.gmail.com>"
    assert parsed.thread == ("<0100018f-ses-1@email.amazonses.com>", "<CAF=gmail-reply-1@mail.gmail.com>")
    assert parsed.recipients == ("sales+token@acme-honda.example",) and not parsed.automatic


def test_an_outlook_html_only_reply_in_windows_1252() -> None:
    parsed = parse_mail(mail("outlook_html_reply"))
    assert parsed.text == "What\u2019s the out-the-door price on the CR-V?\n\nDana"
    assert parsed.sender_name == "Whitfield, Dana" and parsed.subject == "RE: Acme Honda: your inquiry"
    assert parsed.thread[-1] == "<SN6PR01MB-outlook-1@SN6PR01MB.prod.outlook.com>" and len(parsed.thread) == 3


def test_attachments_are_kept_and_automatic_mail_is_marked() -> None:
    parsed = parse_mail(mail("new_inquiry_with_photo"))
    [photo] = parsed.attachments
    assert (photo.filename, photo.content_type, media.sniff(photo.content)) == ("focus.png", "image/png", "image/png")
    assert parse_mail(mail("auto_reply")).automatic


@pytest.mark.parametrize("raw, code", [
    (mail("broken_mime"), 554),
    (b"", 554),
    (b"just some words, no header at all", 554),
    (b"Subject: no sender\r\n\r\nhello", 550),
    (b"From: not an address\r\nSubject: x\r\n\r\nhello", 550),
    (b"From: a@b.com\r\nContent-Type: multipart/mixed\r\n\r\nno boundary", 554),
    (b"From: a@b.com\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%not base64%%%", 554),
])
def test_broken_mail_is_refused_with_an_smtp_reply(raw: bytes, code: int) -> None:
    with pytest.raises(MailRefused) as err:
        parse_mail(raw)
    assert err.value.smtp_code == code and err.value.smtp_reply.startswith(f"{code} 5.")


def test_huge_mail_is_refused_before_it_is_read() -> None:
    with pytest.raises(MailRefused) as err:
        parse_mail(b"x" * (MAX_MAIL_BYTES + 1))
    assert err.value.smtp_reply.startswith("552 5.3.4")


def test_a_mail_without_message_id_is_named_by_its_bytes() -> None:
    raw = b"From: a@b.com\r\nSubject: hi\r\n\r\nhello"
    assert parse_mail(raw).message_id == parse_mail(raw).message_id != parse_mail(raw + b"!").message_id


def test_quoted_history_is_trimmed_in_the_usual_shapes() -> None:
    assert trim_quoted("Sounds good\n\nOn Tue, Nov 3, 2026 at 9:00 AM Acme <a@b.com> wrote:\n> hi") == "Sounds good"
    assert trim_quoted("Sure\nOn Tue, Nov 3, 2026 at 9:00 AM Acme Honda\n<sales@acme.com> wrote:\n> x") == "Sure"
    assert trim_quoted("Ok\n\n-----Original Message-----\nFrom: x") == "Ok"
    assert trim_quoted("Ok\n________________________________\nFrom: Acme\nSent: today") == "Ok"
    assert trim_quoted("Claro\n\nEl mar, 3 nov 2026 a las 9:00, Acme escribió:\n> hola") == "Claro"
    assert trim_quoted("> only a quote") == "> only a quote"  # nothing else: keep it


def test_html_to_text_drops_markup_scripts_and_quotes() -> None:
    html = ("<html><head><style>p{}</style><script>x()</script></head><body><p>Hi &amp; thanks</p>"
            "<p>Line<br>two</p><blockquote type='cite'>old</blockquote><p>after the quote</p></body></html>")
    assert html_to_text(html) == "Hi & thanks\n\nLine\ntwo"


def test_text_to_html_escapes_and_links() -> None:
    html = text_to_html('Hi <Maria> & co\n\nSee https://acme.example/cars?id=1&x=2. "Thanks"')
    assert "<p>Hi &lt;Maria&gt; &amp; co</p>" in html
    assert '<a href="https://acme.example/cars?id=1&amp;x=2">https://acme.example/cars?id=1&amp;x=2</a>.' in html
    assert "&quot;Thanks&quot;" in html and "<script" not in html


def test_reply_addresses_carry_the_token_and_survive_lower_casing() -> None:
    token = email_out.new_reply_token()
    assert len(token) == 24 and token == token.lower()
    address = email_out.reply_address("Sales+old@Acme-Honda.example", token)
    assert address == f"Sales+{token}@acme-honda.example"
    assert email_out.reply_token_of(address.lower()) == email_out.reply_token_of(address.upper()) == token
    assert email_out.reply_token_of("sales@acme-honda.example") is None
    assert email_out.reply_token_of("sales+short@acme-honda.example") is None
    assert email_out.mailbox_of("Sales+Anything@Acme-Honda.example") == "sales@acme-honda.example"


def _draft(**overrides: object) -> email_out.EmailDraft:
    values: dict[str, object] = dict(
        from_address="sales@acme-honda.example", from_name="Acme Honda", to="maria@example.com",
        to_name="Maria Lopez", reply_to="sales+abc@acme-honda.example", subject="Re: your Civic",
        text="Hi Maria,\n\nSaturday works.", message_id="<msg_1@acme-honda.example>",
        date=datetime(2026, 11, 2, 15, 0, tzinfo=UTC), references=("<a@x>", "<b@y>"),
        unsubscribe_url="https://api.example/email/unsubscribe/abc", unsubscribe_mailto="sales+abc@acme-honda.example",
        attachments=(email_out.OutgoingFile("civic.jpg", "image/jpeg", b"\xff\xd8\xff" + b"1" * 20),))
    values.update(overrides)
    return email_out.EmailDraft(**values)  # type: ignore[arg-type]


def test_an_email_is_threaded_unsubscribable_and_readable_by_any_client() -> None:
    raw = email_out.compose(_draft())
    assert b"\r\n" in raw
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert str(msg["From"]) == "Acme Honda <sales@acme-honda.example>"
    assert str(msg["Reply-To"]) == "sales+abc@acme-honda.example"
    assert (msg["In-Reply-To"], msg["References"]) == ("<b@y>", "<a@x> <b@y>")
    assert msg["List-Unsubscribe"] == ("<https://api.example/email/unsubscribe/abc>, "
                                       "<mailto:sales+abc@acme-honda.example?subject=unsubscribe>")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    assert text.startswith("Hi Maria,\n\nSaturday works.\n\n--\nTo stop emails from Acme Honda: https://api")
    assert "<p>Hi Maria,</p>" in msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    [photo] = list(msg.iter_attachments())
    assert photo.get_filename() == "civic.jpg" and photo.get_content_type() == "image/jpeg"


def test_header_injection_is_impossible() -> None:
    raw = email_out.compose(_draft(subject="Hi\r\nBcc: victim@example.com", from_name="Acme\nX-Evil: 1",
                                   to_name="Maria\r\nCc: x@y.z"))
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert msg["Bcc"] is None and msg["Cc"] is None and msg["X-Evil"] is None
    assert msg["Subject"] == "Hi Bcc: victim@example.com"


def test_default_subjects() -> None:
    first = email_out.default_subject(None, "Acme Honda", "2024 Honda Civic")
    assert first == "Acme Honda: your 2024 Honda Civic inquiry"
    assert email_out.default_subject("Trade-in photos", "Acme", None) == "Re: Trade-in photos"
    assert email_out.default_subject("RE: price", "Acme", None) == "RE: price"


@pytest.mark.parametrize("head, kind", [
    (b"\xff\xd8\xff\xe0", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"GIF89a", "image/gif"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"), (b"%PDF-1.7", "application/pdf"),
    (b"<html>", None), (b"MZ\x90\x00", None),
])
def test_what_a_file_really_is(head: bytes, kind: str | None) -> None:
    assert media.sniff(head) == kind


def test_an_upload_is_checked_by_its_bytes() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00"
    assert media.upload_problem("image/png", 100, png) is None
    assert media.upload_problem("image/png", None, b"")[0] == "not_uploaded"  # type: ignore[index]
    assert media.upload_problem("image/png", 6 * 1024 * 1024, png)[0] == "too_large"  # type: ignore[index]
    assert media.upload_problem("image/png", 100, b"<html><script>")[0] == "wrong_type"  # type: ignore[index]
    mislabelled = media.upload_problem("image/jpeg", 100, png)
    assert mislabelled == ("wrong_type", "the uploaded file is image/png, not the declared image/jpeg")
    assert media.safe_filename("../../etc/pass\x00wd", "image/png") == "passwd"
    assert media.safe_filename("", "application/pdf") == "attachment.pdf"
