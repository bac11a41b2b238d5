"""Email to customers through Amazon SES (v2, raw MIME built by domain/email_out.compose): the
email half of the MessageSender port. The store's `email_from` domain must be a verified SES
identity (docs/conversations.md); SES replaces our Message-ID with its own and returns its id."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.aws import aws_error_code, client
from chalicelib.domain.messaging import OutboundMessage, SendFailed, SendResult

# SES refusals a retry will not change: a rejected message, an unverified or unknown sender, a
# suspended account (transient: throttling, a paused account, SES's own errors).
SES_PERMANENT = {"MessageRejected", "MailFromDomainNotVerifiedException", "NotFoundException",
                 "BadRequestException", "AccountSuspendedException"}


class SesEmailSender:
    def send(self, message: OutboundMessage) -> SendResult:
        if message.raw is None or not message.sender:
            raise SendFailed("an email needs its MIME message and a sender", permanent=True)
        ses = client("sesv2")
        try:
            resp: dict[str, Any] = ses.send_email(FromEmailAddress=message.sender,
                                                  Destination={"ToAddresses": [message.to]},
                                                  Content={"Raw": {"Data": message.raw}})
        except ses.exceptions.ClientError as exc:
            code = aws_error_code(exc) or "error"
            raise SendFailed(f"SES {code}: {exc}", permanent=code in SES_PERMANENT) from exc
        return SendResult(provider_id=str(resp.get("MessageId", "")), status="sent")
