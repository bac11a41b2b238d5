"""Tell staff about offers, assignments, mentions: in-app at once, email and SMS through
the outbox queue (so a slow mail server never slows a request), per user preference."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain.notifications import Notification
from chalicelib.domain.tenancy import Principal
from chalicelib.domain.users import User
from chalicelib.ids import new_id
from chalicelib.schemas.queues import DeliverNotification

# In-app notifications are kept this long (then DynamoDB's TTL removes them).
NOTIFICATION_DAYS = 90
# How long an email / SMS notification's delivery is remembered (a redelivered job is skipped).
DELIVERED_DAYS = 7


def notify(deps: Deps, users: Iterable[User], kind: str, text: str, lead_id: str | None = None,
           account_id: str | None = None) -> list[Notification]:
    now = deps.clock.now()
    ttl = int((now + timedelta(days=NOTIFICATION_DAYS)).timestamp())
    sent: list[Notification] = []
    deliveries: list[DeliverNotification] = []
    for user in users:
        if user.deleted:
            continue
        note = Notification(notification_id=new_id("ntf", now), user_id=user.user_id, kind=kind,  # type: ignore[arg-type]
                            text=text, at=iso(now), lead_id=lead_id, account_id=account_id)
        if user.notify.in_app:
            deps.notifications.add(note, ttl)
        if user.notify.email:
            deliveries.append(DeliverNotification(channel="email", to=user.email, text=text, subject=_subject(kind),
                                                  notification_id=note.notification_id))
        if user.notify.sms and user.phone:
            deliveries.append(DeliverNotification(channel="sms", to=user.phone, text=text,
                                                  notification_id=note.notification_id, account_id=account_id))
        sent.append(note)
    if deliveries:
        deps.queues.send_batch("outbox", [d.model_dump(mode="json", exclude_none=True) for d in deliveries])
    return sent


def _subject(kind: str) -> str:
    return {"offer": "New lead offered to you", "assignment": "A lead was assigned to you",
            "mention": "You were mentioned on a lead", "coalesced": "Your lead came back",
            "delinquent": "A lead went unanswered", "stale": "A lead is waiting for a reply"}.get(kind, "Leadline")


def deliver_notification(deps: Deps, job: DeliverNotification) -> None:
    """The outbox consumer's half: send one email or SMS notification.

    A redelivered job is skipped once its delivery is recorded; the record is written after
    the send, so a crash in between repeats a notification rather than losing it."""
    from chalicelib.domain.mail import Email
    from chalicelib.domain.messaging import OutboundMessage

    notification_id, channel = job.notification_id, job.channel
    if notification_id and deps.notifications.delivered(notification_id, channel):
        return
    if channel == "email":
        deps.mailer.send(Email(to=[job.to], subject=job.subject or "Leadline", text=job.text))
    else:
        deps.sender.send(OutboundMessage(channel="sms", to=job.to, body=job.text, account_id=job.account_id))
    if notification_id:
        deps.notifications.mark_delivered(notification_id, channel,
                                          int((deps.clock.now() + timedelta(days=DELIVERED_DAYS)).timestamp()))


def my_notifications(deps: Deps, actor: Principal, limit: int, cursor: str | None,
                     unread_only: bool) -> tuple[list[Notification], str | None]:
    """The caller's notifications, newest first."""
    return deps.notifications.page(actor.user_id, limit, cursor, unread_only=unread_only)


def mark_read(deps: Deps, actor: Principal, notification_id: str) -> Notification:
    return deps.notifications.mark_read(actor.user_id, notification_id)
