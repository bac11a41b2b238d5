"""Tell people about leads: every alert (domain/alerts.py) goes to each channel its user chose —
in-app at once; email, SMS and the personal forwarding address through the outbox queue, so a slow
mail server or SMS gateway never slows the change that caused it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain.alerts import Alert
from chalicelib.domain.changes import Write
from chalicelib.domain.notifications import Notification
from chalicelib.domain.tenancy import Principal
from chalicelib.domain.users import User
from chalicelib.ids import new_id
from chalicelib.schemas.queues import DeliverNotification

# In-app notifications are kept this long (then DynamoDB's TTL removes them).
NOTIFICATION_DAYS = 90
# How long an email / SMS notification's delivery is remembered (a redelivered job is skipped).
DELIVERED_DAYS = 7


@dataclass
class Notices:
    """Notifications decided before they are written: the in-app ones can be writes of the caller's
    transaction (`writes`), the email, SMS and forwarding ones are queued once it has committed
    (`send_deliveries`)."""

    ttl: int
    sent: list[Notification] = field(default_factory=list)
    in_app: list[Notification] = field(default_factory=list)
    deliveries: list[DeliverNotification] = field(default_factory=list)

    def writes(self, deps: Deps) -> list[Write]:
        return [deps.notifications.added(note, self.ttl) for note in self.in_app]


def deliveries_of(user: User, alert: Alert, notification_id: str) -> list[DeliverNotification]:
    """The email, SMS and forwarding jobs `user`'s choices ask for (one per address)."""
    jobs: list[DeliverNotification] = []
    email = DeliverNotification(channel="email", to=user.email, subject=alert.subject, text=alert.text,
                                html=alert.html, notification_id=notification_id)
    if user.notify.email:
        jobs.append(email)
    forward = user.notify.forward_email
    if forward and not (user.notify.email and forward == user.email):
        jobs.append(email.model_copy(update={"channel": "forward_email", "to": forward}))
    if user.notify.sms and user.phone:
        jobs.append(DeliverNotification(channel="sms", to=user.phone, text=alert.sms, notification_id=notification_id,
                                        account_id=alert.account_id))
    return jobs


def notices(deps: Deps, users: Iterable[User], alert: Alert, into: Notices | None = None) -> Notices:
    """What sending `alert` to each of `users` takes, per their choices (deleted users are skipped;
    added to `into`, if given)."""
    now = deps.clock.now()
    ttl = int((now + timedelta(days=NOTIFICATION_DAYS)).timestamp())
    found = into if into is not None else Notices(ttl)
    for user in {u.user_id: u for u in users}.values():
        if user.deleted:
            continue
        note = Notification(notification_id=new_id("ntf", now), user_id=user.user_id, kind=alert.kind,
                            title=alert.title, body=alert.body, text=alert.title, at=iso(now), lead_id=alert.lead_id,
                            account_id=alert.account_id)
        if user.notify.in_app:
            found.in_app.append(note)
        found.deliveries += deliveries_of(user, alert, note.notification_id)
        found.sent.append(note)
    return found


def send_deliveries(deps: Deps, deliveries: list[DeliverNotification]) -> None:
    if deliveries:
        deps.queues.send_batch("outbox", [d.model_dump(mode="json", exclude_none=True) for d in deliveries])


def notify(deps: Deps, users: Iterable[User], alert: Alert) -> list[Notification]:
    """Send `alert` to each of `users` now (in-app notifications written, the rest queued); returns the
    notifications made."""
    found = notices(deps, users, alert)
    for note in found.in_app:
        deps.notifications.add(note, found.ttl)
    send_deliveries(deps, found.deliveries)
    return found.sent


def deliver_notification(deps: Deps, job: DeliverNotification) -> None:
    """The outbox consumer's half: send one email or SMS notification.

    A redelivered job is skipped once its delivery is recorded; the record is written after
    the send, so a crash in between repeats a notification rather than losing it."""
    from chalicelib.domain.mail import Email
    from chalicelib.domain.messaging import OutboundMessage

    notification_id, channel = job.notification_id, job.channel
    if notification_id and deps.notifications.delivered(notification_id, channel):
        return
    if channel in ("email", "forward_email"):
        deps.mailer.send(Email(to=[job.to], subject=job.subject or "Leadline", text=job.text, html=job.html))
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
