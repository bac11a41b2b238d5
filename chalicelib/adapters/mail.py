"""Email through SES (v2): the Mailer port (chalicelib/domain/mail.py). Every message goes as raw
MIME built by domain/mime.py (headers through the email package's policy), so SES sends exactly
the bytes that were built."""

from __future__ import annotations

from email.utils import parseaddr

from chalicelib.adapters.aws import client
from chalicelib.config import get_settings
from chalicelib.domain.mail import Email
from chalicelib.domain.mime import address, build_message


class SesMailer:
    """Sends an Email; returns the SES message id."""

    def send(self, email: Email) -> str:
        sender = get_settings().mail_from
        name, addr = parseaddr(sender)  # LEADLINE_MAIL_FROM may be "Name <address>"
        raw = build_message(address(addr, name), email).as_bytes()
        resp = client("sesv2").send_email(FromEmailAddress=sender, Destination={"ToAddresses": email.to},
                                          Content={"Raw": {"Data": raw}})
        return str(resp.get("MessageId", ""))
