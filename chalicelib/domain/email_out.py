"""An email to a customer, built by domain/mime.py (the standard library's `email` package, policy.SMTP:
every header made by the header registry, folded and encoded by it, never by string concatenation):
the store's From, the lead's reply address, thread headers so mail clients keep one
conversation, plain text + HTML, attachments, and RFC 8058 one-click List-Unsubscribe.

The reply address carries the lead's token in its local part (`sales+<token>@dealer.com`): an
answer to it finds its lead whatever the customer's client does with the subject. Pure."""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime

from chalicelib.domain.email_text import text_to_html
from chalicelib.domain.mail import Attachment, Email
from chalicelib.domain.mime import address, build_message

# 120 random bits in lower-case base32: survives mail systems that lower-case local parts.
_TOKEN = re.compile(r"^[a-z2-7]{24}$")
MAX_THREAD_IDS = 10
# What of the thread fits one header line domain/mime.py takes (it cuts longer values).
MAX_REFERENCES_CHARS = 880
UNSUBSCRIBE_SUBJECT = "unsubscribe"


def new_reply_token() -> str:
    return base64.b32encode(secrets.token_bytes(15)).decode().lower()


def split_address(address: str) -> tuple[str, str]:
    local, _, domain = address.strip().rpartition("@")
    return local, domain.lower()


def reply_address(mailbox: str, token: str) -> str:
    """`sales@dealer.com` + token -> `sales+<token>@dealer.com` (any tag the mailbox had is replaced)."""
    local, domain = split_address(mailbox)
    return f"{local.split('+', 1)[0]}+{token}@{domain}"


def reply_token_of(address: str) -> str | None:
    """The lead token of a reply address, or None when the address carries none."""
    local, _ = split_address(address.lower())
    _, plus, tag = local.partition("+")
    return tag if plus and _TOKEN.match(tag) else None


def mailbox_of(address: str) -> str:
    """The mailbox an address is delivered to: `sales+anything@dealer.com` -> `sales@dealer.com`."""
    local, domain = split_address(address.lower())
    return f"{local.split('+', 1)[0]}@{domain}"


def one_line(text: str, limit: int = 200) -> str:
    """A header-safe single line: control characters and line breaks become spaces."""
    flat = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(flat.split())[:limit]


def default_subject(thread_subject: str | None, store_name: str, vehicle: str | None) -> str:
    """An answer keeps the customer's subject ("Re: ..."); a first email names the store and the car."""
    if thread_subject:
        subject = one_line(thread_subject)
        return subject if subject.lower().startswith(("re:", "aw:", "sv:")) else f"Re: {subject}"
    return one_line(f"{store_name}: your {vehicle} inquiry" if vehicle else f"{store_name}: your inquiry")


def thread_after(references: list[str] | tuple[str, ...], message_id: str) -> list[str]:
    """The References a lead keeps after one more message of its thread (the last ten)."""
    kept = [r for r in references if r != message_id]
    return [*kept, message_id][-MAX_THREAD_IDS:]


@dataclass(frozen=True)
class OutgoingFile:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class EmailDraft:
    from_address: str
    from_name: str
    to: str
    to_name: str | None
    reply_to: str
    subject: str
    text: str
    message_id: str  # "<...>": Amazon SES replaces it; the sandbox keeps it
    date: datetime
    references: tuple[str, ...] = ()  # the thread, oldest first; the last is what this answers
    unsubscribe_url: str | None = None  # https, RFC 8058 one-click (POST)
    unsubscribe_mailto: str | None = None
    attachments: tuple[OutgoingFile, ...] = field(default_factory=tuple)


def compose(draft: EmailDraft) -> bytes:
    """The message as it goes on the wire (CRLF line ends), built by domain/mime.py like every mail."""
    headers = {"Date": format_datetime(draft.date), "Message-ID": draft.message_id}
    references = list(draft.references)
    while references and len(" ".join(references)) > MAX_REFERENCES_CHARS:
        references.pop(0)  # the oldest go first: the last one is what this answers
    if references:
        headers["In-Reply-To"] = references[-1]
        headers["References"] = " ".join(references)
    links = []
    if draft.unsubscribe_url:
        links.append(f"<{draft.unsubscribe_url}>")
    if draft.unsubscribe_mailto:
        links.append(f"<mailto:{draft.unsubscribe_mailto}?subject={UNSUBSCRIBE_SUBJECT}>")
    if links:
        headers["List-Unsubscribe"] = ", ".join(links)
        if draft.unsubscribe_url:
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    text = draft.text + _footer_text(draft)
    email = Email(to=[draft.to], subject=one_line(draft.subject, 300), text=text, html=text_to_html(text),
                  reply_to=[draft.reply_to],
                  attachments=[Attachment(filename=f.filename, content=f.content, content_type=f.content_type)
                               for f in draft.attachments])
    return build_message(address(draft.from_address, one_line(draft.from_name, 100)), email, headers).as_bytes()


def _footer_text(draft: EmailDraft) -> str:
    if not draft.unsubscribe_url:
        return ""
    return f"\n\n--\nTo stop emails from {one_line(draft.from_name, 100)}: {draft.unsubscribe_url}"
