"""Tell staff about offers, assignments, mentions: in-app at once, email and SMS through
the outbox queue (so a slow mail server never slows a request), per user preference."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from chalicelib.adapters.dynamodb.notifications import NOTIFICATION_DAYS, NotificationRepository
from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain.notifications import Notification
from chalicelib.domain.users import User
from chalicelib.ids import new_id

OUTBOX_NOTIFICATION = "notification"


def notify(deps: Deps, users: Iterable[User], kind: str, text: str, lead_id: str | None = None,
           account_id: str | None = None) -> list[Notification]:
    now = deps.clock.now()
    repo = NotificationRepository(deps.table)
    ttl = int((now + timedelta(days=NOTIFICATION_DAYS)).timestamp())
    sent: list[Notification] = []
    deliveries: list[dict[str, Any]] = []
    for user in users:
        if user.deleted:
            continue
        note = Notification(notification_id=new_id("ntf", now), user_id=user.user_id, kind=kind,  # type: ignore[arg-type]
                            text=text, at=iso(now), lead_id=lead_id, account_id=account_id)
        if user.notify.in_app:
            repo.add(note, ttl)
        if user.notify.email:
            deliveries.append({"kind": OUTBOX_NOTIFICATION, "channel": "email", "to": user.email, "text": text,
                               "subject": _subject(kind), "notification_id": note.notification_id})
        if user.notify.sms and user.phone:
            deliveries.append({"kind": OUTBOX_NOTIFICATION, "channel": "sms", "to": user.phone, "text": text,
                               "notification_id": note.notification_id, "account_id": account_id})
        sent.append(note)
    if deliveries:
        deps.queues.send_batch("outbox", deliveries)
    return sent


def _subject(kind: str) -> str:
    return {"offer": "New lead offered to you", "assignment": "A lead was assigned to you",
            "mention": "You were mentioned on a lead", "coalesced": "Your lead came back",
            "delinquent": "A lead went unanswered", "stale": "A lead is waiting for a reply"}.get(kind, "Leadline")


def deliver_notification(deps: Deps, job: dict[str, Any]) -> None:
    """The outbox consumer's half: send one email or SMS notification.

    A redelivered job is skipped once its delivery is recorded; the record is written after
    the send, so a crash in between repeats a notification rather than losing it."""
    from chalicelib.adapters.mail import Email
    from chalicelib.domain.messaging import OutboundMessage

    repo = NotificationRepository(deps.table)
    notification_id, channel = job.get("notification_id"), job["channel"]
    if notification_id and repo.delivered(notification_id, channel):
        return
    if channel == "email":
        deps.mailer.send(Email(to=[job["to"]], subject=job.get("subject") or "Leadline", text=job["text"]))
    elif job["channel"] == "sms":
        deps.sender.send(OutboundMessage(channel="sms", to=job["to"], body=job["text"],
                                         account_id=job.get("account_id")))
    if notification_id:
        repo.mark_delivered(notification_id, channel, int((deps.clock.now() + timedelta(days=7)).timestamp()))
