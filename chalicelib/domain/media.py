"""Pictures and files on a conversation: what may be uploaded and sent, what a file really is
(its first bytes, not what the uploader declared), and how a message lists its attachments.

Pure: bytes and records in, decisions out. The media bucket (adapters/media.py) holds the
files; services/attachments.py checks uploads and copies what customers send."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from chalicelib.model import BaseModel

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # Twilio's MMS limit, and plenty for a photo or a PDF
# What a customer's message may carry into the bucket (an MMS totals 5 MB; Messenger sends up to 25 MB).
MAX_INBOUND_BYTES = 25 * 1024 * 1024
# What a store may send: pictures every channel shows, and PDF (MMS and email carry it).
SENDABLE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf")
# Shown inline in a browser; anything else a customer sends is served as a download.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
SNIFF_BYTES = 16
# A presigned GET long enough for Twilio or Meta to fetch a picture we send (they fetch at once,
# and Twilio retries for a while); views get a short one.
PROVIDER_URL_SECONDS = 3600
VIEW_URL_SECONDS = 900

UploadState = Literal["pending", "ready"]

_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
               "application/pdf": "pdf"}


def sniff(head: bytes) -> str | None:
    """The type a file's first bytes say it is (JPEG, PNG, GIF, WebP, PDF), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def sendable_type_problem(content_type: str) -> str | None:
    """Why a declared type may not be uploaded (None: it may)."""
    if content_type.lower() not in SENDABLE_TYPES:
        return "must be one of " + ", ".join(SENDABLE_TYPES)
    return None


def upload_problem(declared: str, size: int | None, head: bytes) -> tuple[str, str] | None:
    """What is wrong with an uploaded object, as (code, message), or None when it may be sent:
    missing, over the limit, not what its first bytes say it is, or another type than declared."""
    if size is None:
        return "not_uploaded", "nothing was uploaded for this attachment yet"
    if size == 0:
        return "empty", "the uploaded file is empty"
    if size > MAX_UPLOAD_BYTES:
        return "too_large", f"the uploaded file is {size} bytes; at most {MAX_UPLOAD_BYTES}"
    real = sniff(head)
    if real is None:
        return "wrong_type", "the uploaded file is not a JPEG, PNG, GIF or WebP picture or a PDF"
    if real != declared.lower():
        return "wrong_type", f"the uploaded file is {real}, not the declared {declared}"
    return None


def safe_filename(name: str | None, content_type: str) -> str:
    """A filename fit for a MIME header and a download: no path, no control characters, short."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|:*?').strip(" .")
    if not cleaned:
        cleaned = f"attachment.{_EXTENSIONS.get(content_type, 'bin')}"
    if len(cleaned) > 100:
        stem, dot, ext = cleaned.rpartition(".")
        cleaned = (stem[: 95 - len(ext)] + dot + ext) if dot and len(ext) <= 5 else cleaned[:100]
    return cleaned


def media_key(account_id: str, attachment_id: str) -> str:
    """Where a checked or copied file lives in the media bucket (kept for the bucket's retention)."""
    return f"media/{account_id}/{attachment_id}"


def upload_key(account_id: str, attachment_id: str) -> str:
    """Where a client uploads a file before it is checked (the bucket forgets these after a day)."""
    return f"uploads/{account_id}/{attachment_id}"


def inbound_attachment_id(provider: str, provider_id: str, index: int) -> str:
    """The same id for the same file of the same provider message, however often it is copied."""
    digest = hashlib.sha256(f"{provider}\x1f{provider_id}\x1f{index}".encode()).hexdigest()[:26]
    return f"att_{digest}"


class Upload(BaseModel):
    """A file a user asked to upload for a lead; `ready` once checked and moved into media/."""

    attachment_id: str
    lead_id: str
    account_id: str
    filename: str
    content_type: str
    bytes: int
    state: UploadState = "pending"
    created_by: str
    created_at: str

    def attachment(self) -> dict[str, Any]:
        """How a message lists it (its URL is made when someone reads the message)."""
        return {"attachment_id": self.attachment_id, "content_type": self.content_type, "filename": self.filename,
                "bytes": self.bytes, "key": media_key(self.account_id, self.attachment_id)}


def attachment_view(attachment: dict[str, Any], url: str | None) -> dict[str, Any]:
    """A message's attachment as the API shows it: {attachment_id, content_type, url, ...}; the
    bucket key stays inside."""
    shown = {k: v for k, v in attachment.items() if k != "key"}
    if url is not None:
        shown["url"] = url
    return shown
