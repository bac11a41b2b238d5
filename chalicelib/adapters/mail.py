"""Email through SES (v2): the Mailer port (chalicelib/domain/mail.py)."""

from __future__ import annotations

from chalicelib.adapters.aws import client
from chalicelib.config import get_settings
from chalicelib.domain.mail import Email


class SesMailer:
    """Sends an Email; returns the SES message id."""

    def send(self, email: Email) -> str:
        sender = get_settings().mail_from
        if email.attachments:
            raw = _mime(sender, email)
            resp = client("sesv2").send_email(FromEmailAddress=sender, Destination={"ToAddresses": email.to},
                                              Content={"Raw": {"Data": raw}})
        else:
            body: dict[str, dict[str, str]] = {"Text": {"Data": email.text, "Charset": "UTF-8"}}
            if email.html:
                body["Html"] = {"Data": email.html, "Charset": "UTF-8"}
            resp = client("sesv2").send_email(
                FromEmailAddress=sender, Destination={"ToAddresses": email.to},
                ReplyToAddresses=email.reply_to,
                Content={"Simple": {"Subject": {"Data": email.subject, "Charset": "UTF-8"}, "Body": body}},
            )
        return str(resp.get("MessageId", ""))


def _mime(sender: str, email: Email) -> bytes:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(email.to)
    msg["Subject"] = email.subject
    if email.reply_to:
        msg["Reply-To"] = ", ".join(email.reply_to)
    msg.set_content(email.text)
    if email.html:
        msg.add_alternative(email.html, subtype="html")
    for att in email.attachments:
        maintype, _, subtype = att.content_type.partition("/")
        msg.add_attachment(att.content, maintype=maintype, subtype=subtype or "octet-stream", filename=att.filename)
    return msg.as_bytes()
