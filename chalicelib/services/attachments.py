"""Pictures and files of conversations, in the media bucket of their own.

- `create_upload`: an agent asks to attach a file (images or PDF, ≤ 5 MB): a pending upload record
  and a presigned POST that lets the browser put exactly that into `uploads/`.
- `ready_to_send`: a message names its attachment ids; each upload is checked (there, within the
  limit, its first bytes are an allowed type and the declared one) and moved into `media/` before
  the message is written; a bad one is a 400 / 413 naming `attachment_ids[i]`, and nothing is sent.
- `copy_inbound`: the inbound queue's job for what a customer sent by MMS or Messenger: each file is
  fetched from the provider and copied into `media/`, then the message shows the copies.
- `present`: every message's `attachments` as `[{attachment_id, content_type, url}]`, the URL a
  presigned GET made when the timeline is read."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain import media as rules
from chalicelib.domain.errors import AlreadyDecided, LostRace, NotFound, TooLarge, ValidationFailed
from chalicelib.domain.leads import Lead
from chalicelib.domain.messaging import SendFailed
from chalicelib.domain.tenancy import Principal
from chalicelib.domain.timeline import TimelineEvent
from chalicelib.ids import new_id
from chalicelib.observability import logger
from chalicelib.schemas.queues import CopyMedia
from chalicelib.services.access import MAX_ID_CHARS, visible_lead

UPLOAD_SECONDS = 900
PENDING_TTL = timedelta(days=1)
MAX_PER_MESSAGE = 10  # Twilio's MMS limit


def create_upload(deps: Deps, actor: Principal, lead_id: str, filename: str, content_type: str,
                  size: int) -> dict[str, Any]:
    lead = visible_lead(deps, actor, lead_id)
    content_type = content_type.lower()
    problem = rules.sendable_type_problem(content_type)
    if problem:
        raise ValidationFailed.field("content_type", problem)
    if size > rules.MAX_UPLOAD_BYTES:
        raise TooLarge(f"bytes: {size} is over the {rules.MAX_UPLOAD_BYTES}-byte limit",
                       details=[{"field": "bytes", "message": f"at most {rules.MAX_UPLOAD_BYTES}"}])
    now = deps.clock.now()
    upload = rules.Upload(attachment_id=new_id("att", now), lead_id=lead.lead_id, account_id=lead.account_id,
                          filename=rules.safe_filename(filename, content_type), content_type=content_type, bytes=size,
                          created_by=actor.user_id, created_at=iso(now))
    deps.attachments.add(upload, int((now + PENDING_TTL).timestamp()))
    url, fields = deps.media.presign_upload(rules.upload_key(lead.account_id, upload.attachment_id), content_type,
                                            rules.MAX_UPLOAD_BYTES, UPLOAD_SECONDS)
    return {"attachment_id": upload.attachment_id, "upload_url": url, "upload_fields": fields,
            "content_type": content_type, "max_bytes": rules.MAX_UPLOAD_BYTES,
            "expires_at": iso(now + timedelta(seconds=UPLOAD_SECONDS))}


def ready_to_send(deps: Deps, lead: Lead, attachment_ids: list[str]) -> list[dict[str, Any]]:
    """The message's attachments (each checked and in `media/`), in the order given."""
    if len(attachment_ids) > MAX_PER_MESSAGE:
        raise ValidationFailed.field("attachment_ids", f"at most {MAX_PER_MESSAGE} per message")
    problems: list[dict[str, str]] = []
    ready: list[dict[str, Any]] = []
    too_large = False
    for i, attachment_id in enumerate(dict.fromkeys(attachment_ids)):
        field = f"attachment_ids[{i}]"
        upload = deps.attachments.get(attachment_id) if len(attachment_id) <= MAX_ID_CHARS else None
        if upload is None or upload.lead_id != lead.lead_id:
            problems.append({"field": field, "message": "no such attachment on this lead"})
            continue
        checked = upload if upload.state == "ready" else _check_upload(deps, upload)
        if isinstance(checked, tuple):
            code, message = checked
            too_large = too_large or code == "too_large"
            problems.append({"field": field, "message": message})
            continue
        ready.append(checked.attachment())
    if problems:
        error = TooLarge if too_large else ValidationFailed
        raise error("attachments cannot be sent: " + ", ".join(p["field"] for p in problems), details=problems)
    return ready


def _check_upload(deps: Deps, upload: rules.Upload) -> rules.Upload | tuple[str, str]:
    source = rules.upload_key(upload.account_id, upload.attachment_id)
    size = deps.media.head(source)
    head = deps.media.read_start(source, rules.SNIFF_BYTES) if size else b""
    problem = rules.upload_problem(upload.content_type, size, head)
    if problem is not None:
        logger.info("upload refused", extra={"attachment_id": upload.attachment_id, "reason": problem[0]})
        return problem
    real = rules.sniff(head) or upload.content_type
    deps.media.copy(source, rules.media_key(upload.account_id, upload.attachment_id), real, upload.filename)
    with contextlib.suppress(AlreadyDecided):  # another message sent it first: the same checked copy
        deps.transactions.commit([deps.attachments.mark_ready(upload, real)])
    return upload.model_copy(update={"state": "ready", "content_type": real, "bytes": size or upload.bytes})


def provider_urls(deps: Deps, attachments: list[dict[str, Any]]) -> list[str]:
    """Presigned GETs Twilio / Meta can fetch what we send from."""
    return [deps.media.url(a["key"], rules.PROVIDER_URL_SECONDS) for a in attachments if a.get("key")]


def present(deps: Deps, events: list[TimelineEvent]) -> list[TimelineEvent]:
    """Events as the API shows them: each message's attachments with a presigned URL to read them."""
    shown = []
    for event in events:
        attachments = event.data.get("attachments") if event.type == "message" else None
        if attachments:
            views = [rules.attachment_view(a, deps.media.url(a["key"], rules.VIEW_URL_SECONDS) if a.get("key")
                                           else a.get("url")) for a in attachments]
            event = event.model_copy(update={"data": {**event.data, "attachments": views}})
        shown.append(event)
    return shown


# -- what customers send ---------------------------------------------------------------------------

def copy_inbound(deps: Deps, job: CopyMedia) -> list[dict[str, Any]]:
    """Fetch each file of a customer's message from the provider, keep it in `media/`, and show the
    copies on the message. Idempotent: the same files land under the same keys. A file that cannot
    be had (refused, too large) stays listed with its error; a transient failure raises (the queue
    retries the job)."""
    from chalicelib.adapters.media_fetch import MediaTooLarge

    copied: list[dict[str, Any]] = []
    for item in job.items:
        attachment = {"attachment_id": item.attachment_id,
                      "content_type": item.content_type or "application/octet-stream"}
        try:
            body, declared = deps.media_fetcher.fetch(item.url, rules.MAX_INBOUND_BYTES)
        except MediaTooLarge:
            copied.append({**attachment, "error": f"over {rules.MAX_INBOUND_BYTES} bytes"})
            continue
        except SendFailed as exc:
            if not exc.permanent:
                raise
            copied.append({**attachment, "error": str(exc)[:200]})
            continue
        real = rules.sniff(body[: rules.SNIFF_BYTES]) or declared or attachment["content_type"]
        key = rules.media_key(job.account_id, item.attachment_id)
        deps.media.put(key, body, real)
        copied.append({**attachment, "content_type": real, "bytes": len(body), "key": key})
    try:
        deps.transactions.commit([deps.attachments.show_on_message(job.lead_id, job.message_id, copied)])
    except LostRace as exc:
        raise NotFound("the message of these files is gone") from exc
    logger.info("inbound media copied", extra={"lead_id": job.lead_id, "message_id": job.message_id,
                                               "count": len(copied)})
    return copied
