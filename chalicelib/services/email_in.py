"""A customer's email arriving: one code path for the local SMTP server (leadline/local/smtp.py)
and the deployed SES receipt rule (SES → S3 → the inbound queue's consumer).

1. The recipients route it: a lead's reply address (`sales+<token>@dealer.com`) to that lead; a
   store's `email_from` to the store, where a known sender joins their open lead and an unknown
   one becomes a lead (source `Email`, routed like any new lead). Anything else: no such mailbox.
2. The MIME is read (domain/email_in.parse_mail): broken or huge mail is refused before anything
   is stored, with the SMTP reply to give; auto-replies and bounces are taken and ignored.
3. Its attachments go to the media bucket under keys made from the message (a repeat overwrites
   the same objects), then the message is stored through the inbound path SMS uses
   (services/new_contact.py) with a dedup key on the Message-ID: a second
   delivery of the same mail is stored once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain import email_out
from chalicelib.domain import media as media_rules
from chalicelib.domain.email_in import MailRefused, ParsedMail, parse_mail
from chalicelib.domain.inbound import InboundMessage, NotThisLead
from chalicelib.observability import logger
from chalicelib.schemas.queues import SesMailReceived
from chalicelib.services import email_out as sending
from chalicelib.services import inbound, new_contact

PROVIDER: Literal["email"] = "email"
NO_MAILBOX = MailRefused(550, "5.1.1", "no such mailbox here")


@dataclass(frozen=True)
class Route:
    account_id: str
    lead_id: str | None  # a reply address names its lead; a store address does not
    recipient: str


@dataclass(frozen=True)
class MailOutcome:
    status: Literal["stored", "duplicate", "ignored", "unsubscribed", "queued"]
    lead_id: str | None = None
    message_id: str | None = None


def route(deps: Deps, addresses: list[str] | tuple[str, ...]) -> Route | None:
    """Who a mail is for: a lead's reply address first, else a store's address."""
    for address in addresses:
        token = email_out.reply_token_of(address)
        owner = deps.mailboxes.token_owner(token) if token else None
        if owner is not None:
            return Route(account_id=owner[1], lead_id=owner[0], recipient=address.lower())
    for address in addresses:
        account_id = deps.accounts.mailbox_owner(email_out.mailbox_of(address))
        if account_id is not None:
            return Route(account_id=account_id, lead_id=None, recipient=address.lower())
    return None


def accepts(deps: Deps, recipient: str) -> bool:
    """For SMTP's RCPT TO: is this a mailbox of ours?"""
    return route(deps, [recipient]) is not None


def mail_arrived(deps: Deps, raw: bytes, recipients: list[str]) -> MailOutcome:
    """Take one email delivered to `recipients` (the envelope's RCPT TO). Raises MailRefused
    (nothing stored) for mail we will not take."""
    mail = parse_mail(raw)
    # The envelope says who it was delivered to (Bcc included); the headers only when it is not known.
    where = route(deps, recipients or list(mail.recipients))
    if where is None:
        raise NO_MAILBOX
    if mail.automatic:
        logger.info("automatic email ignored (auto-reply, bounce or bulk)", extra={"account_id": where.account_id})
        return MailOutcome("ignored")
    token = email_out.reply_token_of(where.recipient)
    if where.lead_id and token and mail.subject.strip().lower() == email_out.UNSUBSCRIBE_SUBJECT:
        sending.unsubscribe(deps, token)
        return MailOutcome("unsubscribed", lead_id=where.lead_id)
    dedup_id = hashlib.sha256(f"{where.account_id}\x1f{mail.message_id}".encode()).hexdigest()
    seen = deps.deliveries.seen(PROVIDER, dedup_id)
    if seen and seen.get("message_id"):
        logger.info("repeated email ignored", extra={"lead_id": seen.get("lead_id")})
        return MailOutcome("duplicate", lead_id=seen.get("lead_id"), message_id=seen.get("message_id"))
    message = _inbound_message(deps, mail, where, dedup_id)
    result = _store_mail(deps, where, message)
    if result.duplicate:
        return MailOutcome("duplicate", lead_id=result.lead_id, message_id=result.message_id)
    return MailOutcome("stored", lead_id=result.lead_id, message_id=result.message_id)


def _inbound_message(deps: Deps, mail: ParsedMail, where: Route, dedup_id: str) -> InboundMessage:
    attachments = []
    for i, attached in enumerate(mail.attachments):
        attachment_id = media_rules.inbound_attachment_id(PROVIDER, dedup_id, i)
        key = media_rules.media_key(where.account_id, attachment_id)
        real = media_rules.sniff(attached.content[: media_rules.SNIFF_BYTES]) or attached.content_type
        filename = media_rules.safe_filename(attached.filename, real)
        deps.media.put(key, attached.content, real, filename)
        attachments.append({"attachment_id": attachment_id, "content_type": real, "filename": filename,
                            "bytes": len(attached.content), "key": key})
    return InboundMessage(provider=PROVIDER, provider_id=dedup_id, channel="email", sender=mail.sender,
                          recipient=where.recipient, body=mail.text, received_at=iso(deps.clock.now()),
                          attachments=attachments, subject=mail.subject or None, sender_name=mail.sender_name,
                          thread=list(mail.thread))


def _store_mail(deps: Deps, where: Route, message: InboundMessage) -> inbound.InboundResult:
    if where.lead_id is not None:
        try:
            return new_contact.on_lead(deps, where.account_id, where.lead_id, message)
        except NotThisLead:
            pass  # a sold or dead lead: the customer starts a new one
    # The sender's open lead, else a new one made and routed (the lead tried above is not tried again).
    tried = {"lead_id": where.lead_id} if where.lead_id is not None else None
    return new_contact.make_lead(deps, where.account_id, message, tried)


def ses_mail_arrived(deps: Deps, notice: SesMailReceived) -> MailOutcome:
    """Deployed: SES stored the mail in the media bucket and notified the inbound queue. Mail SES
    judged spam or a virus, and mail we refuse, is dropped with a log line (SES has accepted it;
    there is nobody to answer with an SMTP error)."""
    receipt = notice.receipt
    if receipt.action.bucketName != deps.settings.media_bucket or not receipt.action.objectKey.startswith(
            INBOUND_MAIL_PREFIX):
        logger.warning("SES notice for another bucket or prefix ignored")
        return MailOutcome("ignored")
    if receipt.virusVerdict.status == "FAIL" or receipt.spamVerdict.status == "FAIL":
        logger.info("email SES judged spam or a virus dropped", extra={"ses_message_id": notice.mail.messageId})
        return MailOutcome("ignored")
    raw = deps.media.get(receipt.action.objectKey)
    try:
        return mail_arrived(deps, raw, receipt.recipients)
    except MailRefused as exc:
        logger.warning("email refused", extra={"ses_message_id": notice.mail.messageId, "reason": exc.smtp_reply})
        return MailOutcome("ignored")


INBOUND_MAIL_PREFIX = "inbound-mail/"
