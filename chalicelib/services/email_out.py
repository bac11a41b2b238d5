"""Email to customers: what a lead's first email sets up (its reply token), the message as it goes
out (built when the outbox sends it, so it carries the thread as it is then), and the RFC 8058
one-click unsubscribe, which opts the lead out of email only."""

from __future__ import annotations

from typing import Any

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain import email_out as rules
from chalicelib.domain.changes import Change, Write
from chalicelib.domain.leads import Lead
from chalicelib.domain.outbox import OutboxMessage
from chalicelib.observability import logger
from chalicelib.services.lead_changes import change_lead, timeline_event

UNSUBSCRIBE_PATH = "/email/unsubscribe/"


def sender_address(deps: Deps, email_from: str | None) -> str:
    """The store's own address, else the stage's sender."""
    return email_from or deps.settings.mail_from


def reply_token_change(deps: Deps, lead: Lead) -> tuple[dict[str, Any], list[Write]]:
    """The lead updates and writes that give a lead its reply token (nothing when it has one)."""
    if lead.reply_token:
        return {}, []
    token = rules.new_reply_token()
    return {"reply_token": token}, [deps.mailboxes.claim_token(token, lead.lead_id, lead.account_id)]


def unsubscribe_url(deps: Deps, token: str) -> str | None:
    base = deps.settings.public_base_url.rstrip("/")
    return f"{base}{UNSUBSCRIBE_PATH}{token}" if base else None


def compose_for(deps: Deps, message: OutboxMessage) -> bytes:
    """The MIME bytes of an outbound email, read at the moment of sending: the store's sender and
    name, the lead's reply address and thread, the files from the media bucket."""
    lead = deps.leads.require(message.lead_id)
    account = deps.accounts.require(message.account_id)
    sender = message.sender or sender_address(deps, account.email_from)
    token = lead.reply_token or ""
    reply_to = rules.reply_address(sender, token) if token else sender
    _, domain = rules.split_address(sender)
    files = tuple(rules.OutgoingFile(filename=str(a.get("filename") or "attachment"),
                                     content_type=str(a["content_type"]), content=deps.media.get(str(a["key"])))
                  for a in message.attachments if a.get("key"))
    thread = lead.email_thread or {}
    draft = rules.EmailDraft(
        from_address=sender, from_name=account.name, to=message.to,
        to_name=" ".join(p for p in (lead.first_name, lead.last_name) if p) or None, reply_to=reply_to,
        subject=message.subject or rules.default_subject(thread.get("subject"), account.name, None),
        text=message.body, message_id=f"<{message.message_id}@{domain}>", date=deps.clock.now(),
        references=tuple(thread.get("references") or ()),
        unsubscribe_url=unsubscribe_url(deps, token) if token else None,
        unsubscribe_mailto=reply_to if token else None, attachments=files)
    return rules.compose(draft)


def unsubscribe(deps: Deps, token: str) -> bool:
    """One-click unsubscribe (RFC 8058), or a reply whose subject is "unsubscribe": the lead gets
    no more email (SMS and Messenger are not affected). True when the token names a lead;
    repeating it changes nothing."""
    owner = deps.mailboxes.token_owner(token) if rules.reply_token_of(f"x+{token}@x") else None
    if owner is None:
        return False
    lead_id, _ = owner

    def decide(lead: Lead) -> Change[None] | None:
        if lead.email_opted_out:
            return None
        event = timeline_event(deps, lead, "opt_out", None, source="email_unsubscribe", channel="email")
        return Change(updates={"email_opted_out": True}, events=[event])

    change_lead(deps, lead_id, decide, touch=True)
    logger.info("lead unsubscribed from email", extra={"lead_id": lead_id, "at": iso(deps.clock.now())})
    return True
