"""Mail as bytes: every message Leadline sends is built here, with the standard library's `email`
package and its SMTP policy — never by joining strings.

Header values (a subject naming a customer, a store's name as the sender's display name) go
through `header_text` (domain/text.clean_line: no CR, LF or other control character can add or
fold a header) and then the policy's header registry, which encodes non-ASCII text (RFC 2047) and
folds long lines. Addresses are parsed as addresses (`address`): one with CR/LF or that is not an
address is an error, never a header. SES gets the bytes (adapters/mail.py), so what is sent is
exactly what was built and tested here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage

from chalicelib.domain.mail import Email
from chalicelib.domain.text import clean_line

# Header lines may be 998 characters (RFC 5322); a subject far shorter reads better in any inbox.
SUBJECT_MAX_CHARS = 250


def header_text(value: str, limit: int = SUBJECT_MAX_CHARS) -> str:
    """Text fit for a header value: one line, no control characters, at most `limit` characters."""
    text = clean_line(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def address(addr_spec: str, display_name: str = "") -> Address:
    """A mailbox; a non-ASCII domain becomes its IDNA (punycode) form. ValueError for anything
    that is not one address."""
    local, at, domain = addr_spec.strip().rpartition("@")
    if not at or not local or not domain:
        raise ValueError("not an email address")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError("the address's domain is not a valid name") from exc
    return Address(display_name=header_text(display_name, 200), username=local, domain=ascii_domain)


def build_message(sender: Address, email: Email, headers: Mapping[str, str] | None = None) -> EmailMessage:
    """The MIME message for `email` from `sender`: text (and HTML) with any attachments. `headers`
    adds more (Message-ID, In-Reply-To, References...), each value made safe by `header_text`."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = _addresses(email.to)
    if email.reply_to:
        msg["Reply-To"] = _addresses(email.reply_to)
    msg["Subject"] = header_text(email.subject)
    for name, value in (headers or {}).items():
        msg[name] = header_text(value, 900)
    msg.set_content(email.text)
    if email.html:
        msg.add_alternative(email.html, subtype="html")
    for att in email.attachments:
        maintype, _, subtype = att.content_type.partition("/")
        msg.add_attachment(att.content, maintype=maintype, subtype=subtype or "octet-stream",
                           filename=header_text(att.filename, 200))
    return msg


def _addresses(addrs: Sequence[str]) -> tuple[Address, ...]:
    return tuple(address(a) for a in addrs)
