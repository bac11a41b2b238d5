"""A customer's email as it arrived (RFC 5322 / MIME bytes), read with the standard library's
`email` package (policy.default): who sent it, its thread headers, its words (plain text, or
the HTML reduced to text, with the quoted history of a reply trimmed) and its attachments.

Mail that cannot be read safely is refused before anything is stored, with the SMTP reply a
sending server understands (`MailRefused`): too large, broken MIME structure or encoding, no
usable sender. Pure: bytes in, a ParsedMail or a refusal out."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from email import errors, policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses

from chalicelib.domain.email_text import html_to_text, trim_quoted

MAX_MAIL_BYTES = 25 * 1024 * 1024
MAX_ATTACHMENTS = 10
MAX_TEXT_CHARS = 20_000
MAX_SUBJECT_CHARS = 300
MAX_HEADER_ID_CHARS = 300

# Structure or encoding broken so badly that what we would store is not what was sent.
FATAL_DEFECTS = (
    errors.NoBoundaryInMultipartDefect, errors.StartBoundaryNotFoundDefect, errors.CloseBoundaryNotFoundDefect,
    errors.MultipartInvariantViolationDefect, errors.MissingHeaderBodySeparatorDefect,
    errors.FirstHeaderLineIsContinuationDefect, errors.InvalidBase64CharactersDefect,
    errors.InvalidBase64PaddingDefect, errors.InvalidBase64LengthDefect,
    errors.InvalidMultipartContentTransferEncodingDefect,
)


class MailRefused(Exception):
    """Mail we will not take: `smtp_code` and `enhanced` (RFC 3463) are what an SMTP server answers."""

    def __init__(self, smtp_code: int, enhanced: str, reason: str) -> None:
        super().__init__(reason)
        self.smtp_code = smtp_code
        self.enhanced = enhanced
        self.reason = reason

    @property
    def smtp_reply(self) -> str:
        return f"{self.smtp_code} {self.enhanced} {self.reason}"


@dataclass(frozen=True)
class MailAttachment:
    filename: str | None
    content_type: str
    content: bytes


@dataclass(frozen=True)
class ParsedMail:
    message_id: str  # "<...>"; one made from the bytes when the mail has none
    sender: str  # the From address, lower case
    sender_name: str | None
    subject: str
    text: str  # the customer's words, quoted history trimmed
    recipients: tuple[str, ...]  # To, Cc, Delivered-To, X-Original-To (lower case)
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    attachments: tuple[MailAttachment, ...] = field(default_factory=tuple)
    automatic: bool = False  # an auto-reply, a bounce or bulk mail: never a person's answer

    @property
    def thread(self) -> tuple[str, ...]:
        """The References a reply to this mail carries: its own chain, then its Message-ID."""
        chain = list(self.references) or ([self.in_reply_to] if self.in_reply_to else [])
        return tuple([*chain[-9:], self.message_id])


def parse_mail(raw: bytes) -> ParsedMail:
    if len(raw) > MAX_MAIL_BYTES:
        raise MailRefused(552, "5.3.4", f"message too big: {len(raw)} bytes, at most {MAX_MAIL_BYTES}")
    if not raw.strip():
        raise MailRefused(554, "5.6.0", "empty message")
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    _refuse_broken(msg)
    sender, name = _sender(msg)
    text = _text(msg)
    replying_to = _ids(_header(msg, "In-Reply-To"))
    return ParsedMail(
        message_id=_message_id(msg, raw), sender=sender, sender_name=name,
        subject=" ".join(_header(msg, "Subject").split())[:MAX_SUBJECT_CHARS], text=text[:MAX_TEXT_CHARS],
        recipients=tuple(_addresses(msg, "To", "Cc", "Delivered-To", "X-Original-To")),
        in_reply_to=replying_to[-1] if replying_to else None,
        references=tuple(_ids(_header(msg, "References"))[-20:]),
        attachments=tuple(_attachments(msg)), automatic=_automatic(msg))


def _refuse_broken(msg: Message) -> None:
    if not msg.keys():
        raise MailRefused(554, "5.6.0", "malformed message: no header fields")
    for part in msg.walk():
        if not part.is_multipart():
            part.get_payload(decode=True)  # decoding is what finds a broken base64 body
        for defect in part.defects:
            if isinstance(defect, FATAL_DEFECTS):
                raise MailRefused(554, "5.6.0", f"malformed MIME: {type(defect).__name__}")


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except (errors.HeaderParseError, ValueError, IndexError, TypeError):
        return ""
    return str(value) if value is not None else ""


def _sender(msg: Message) -> tuple[str, str | None]:
    try:
        header = msg.get("From")
        addresses: tuple[Address, ...] = getattr(header, "addresses", ()) if header is not None else ()
    except (errors.HeaderParseError, ValueError, IndexError, TypeError):
        addresses = ()
    for address in addresses:
        spec = address.addr_spec.strip().lower()
        if address.username and address.domain and "@" in spec and len(spec) <= 254:
            return spec, (" ".join(address.display_name.split()) or None)
    raise MailRefused(550, "5.1.7", "the From header has no usable sender address")


def _addresses(msg: Message, *names: str) -> list[str]:
    found: list[str] = []
    for name in names:
        for _, addr in getaddresses(_header_all(msg, name)):
            addr = addr.strip().lower()
            if "@" in addr and addr not in found:
                found.append(addr)
    return found


def _header_all(msg: Message, name: str) -> list[str]:
    try:
        return [str(v) for v in (msg.get_all(name) or [])]
    except (errors.HeaderParseError, ValueError, IndexError, TypeError):
        return []


def _ids(value: str) -> list[str]:
    """Message ids (`<...>`) of an In-Reply-To / References header, in order."""
    found = []
    for token in value.replace(">", "> ").split():
        token = token.strip()
        if token.startswith("<") and token.endswith(">") and 2 < len(token) <= MAX_HEADER_ID_CHARS:
            found.append(token)
    return found


def _message_id(msg: Message, raw: bytes) -> str:
    ids = _ids(_header(msg, "Message-ID"))
    if ids:
        return ids[0]
    # No id: the same bytes delivered twice are still the same message.
    return f"<{hashlib.sha256(raw).hexdigest()}@leadline.no-message-id>"


def _text(msg: Message) -> str:
    if not isinstance(msg, EmailMessage):
        return ""
    plain = msg.get_body(preferencelist=("plain",))
    if plain is not None:
        text = _decoded_text(plain)
        if text.strip():
            return trim_quoted(text)
    html = msg.get_body(preferencelist=("html",))
    return trim_quoted(html_to_text(_decoded_text(html))) if html is not None else ""


def _decoded_text(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        return content if isinstance(content, str) else content.decode("utf-8", errors="replace")
    except (LookupError, ValueError, AssertionError):
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""


def _attachments(msg: Message) -> list[MailAttachment]:
    if not isinstance(msg, EmailMessage):
        return []
    bodies = {id(p) for p in (msg.get_body(preferencelist=("plain",)), msg.get_body(preferencelist=("html",))) if p}
    found: list[MailAttachment] = []
    for part in msg.walk():
        if part.is_multipart() or id(part) in bodies:
            continue
        content_type = part.get_content_type()
        filename = part.get_filename()
        inline_text = content_type in ("text/plain", "text/html") and part.get_content_disposition() != "attachment"
        if inline_text and not filename:
            continue  # another alternative of the body
        if content_type in ("message/delivery-status", "message/disposition-notification"):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes) or not payload:
            continue
        found.append(MailAttachment(filename=" ".join(filename.split())[:200] if filename else None,
                                    content_type=content_type, content=payload))
        if len(found) >= MAX_ATTACHMENTS:
            break
    return found


def _automatic(msg: Message) -> bool:
    """RFC 3834 Auto-Submitted, bulk precedence, auto-reply markers, delivery reports."""
    auto = _header(msg, "Auto-Submitted").strip().lower()
    if auto and auto != "no":
        return True
    if _header(msg, "Precedence").strip().lower() in ("bulk", "junk", "list", "auto_reply"):
        return True
    if _header(msg, "X-Autoreply") or _header(msg, "X-Autorespond"):
        return True
    return msg.get_content_type() == "multipart/report"
