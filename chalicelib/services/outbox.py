"""The outbox: handing outbound messages to the sender, their delivery states, and the sweep of
due messages.

Sending is three steps, each idempotent:
1. a use case writes the message (timeline event + outbox item) in the lead's transaction, then
   puts a job on the outbox queue (`enqueue_send`: queued) or leaves it to the sweep (scheduled);
2. the outbox consumer claims the message (status queued, no live claim, lead not opted out —
   one transaction) and hands it to the sender (`deliver`);
3. the result moves it to sent / delivered, or back to queued with a backoff, or failed; the
   provider's callbacks move it forward (`record_delivery_status`), never back.
Every outbox item waiting to be handed over stays in the due index, so the every-minute sweep
re-enqueues any whose job was lost: a message is never silently lost."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.clock import iso, parse_time
from chalicelib.deps import Deps
from chalicelib.domain import conversations as rules
from chalicelib.domain.changes import Change
from chalicelib.domain.errors import ClaimHeld, Conflict, LeadOptedOut, LostRace, NotFound
from chalicelib.domain.leads import Lead
from chalicelib.domain.messaging import OutboundMessage, SendFailed
from chalicelib.domain.outbox import OutboxMessage, ProviderMessage
from chalicelib.domain.records import human_response
from chalicelib.observability import logger
from chalicelib.schemas.queues import SendMessage
from chalicelib.services.lead_changes import change_lead, report_event
from chalicelib.services.signing import TwilioPost, check_twilio, status_signer

OUTBOX = "outbox"
# A queued message whose queue job went missing is re-enqueued by the sweep after this long.
QUEUED_GRACE = timedelta(minutes=2)
# How long a consumer owns a message it is sending; past it (a crashed consumer) another may send it.
CLAIM_SECONDS = 60
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = (30, 120, 300, 900)


def enqueue_send(deps: Deps, message_id: str, delay_seconds: int = 0) -> None:
    deps.queues.send(OUTBOX, SendMessage(message_id=message_id).model_dump(mode="json"), delay_seconds=delay_seconds)


def deliver(deps: Deps, message_id: str) -> str | None:
    """Hand one message to the sender if (and only if) it is due, queued, unclaimed, and its lead
    has not opted out. Safe to call any number of times; returns the status it left it in."""
    message = deps.outbox.get(message_id)
    if message is None:
        logger.warning("outbox job for an unknown message", extra={"message_id": message_id})
        return None
    now = deps.clock.now()
    if message.status == "scheduled":
        if message.send_at and parse_time(message.send_at) > now:
            return message.status  # an early job: the sweep brings it again when due
        message = _fire(deps, message)
    if message.status != "queued":
        return message.status
    try:
        deps.outbox.claim(message, iso(now), iso(now + timedelta(seconds=CLAIM_SECONDS)))
    except LeadOptedOut:
        return _drop(deps, message, "opted_out")
    except ClaimHeld:
        return None  # another consumer holds it, or it moved on
    attempt = message.attempts + 1
    # Read at the moment of sending, so a store moved to another Twilio account meanwhile sends from it.
    twilio_account = _twilio_account_of(deps, message.account_id) if message.channel == "sms" else None
    try:
        result = deps.sender.send(_outbound(deps, message, twilio_account))
    except SendFailed as exc:
        if exc.permanent or attempt >= MAX_ATTEMPTS:
            return _finish(deps, message, "failed", error=str(exc))
        return _retry_later(deps, message, attempt, str(exc))
    except Conflict as exc:  # the Messenger window closed before it could go
        return _finish(deps, message, "failed", error=exc.message)
    status = "delivered" if result.status == "delivered" else "sent"
    return _finish(deps, message, status, provider_id=result.provider_id, provider_account=twilio_account)


def _outbound(deps: Deps, message: OutboxMessage, twilio_account: str | None) -> OutboundMessage:
    """What the sender needs: an email as its MIME bytes (thread, reply address, files as they are
    now); an SMS or Messenger message with presigned URLs the provider fetches its files from."""
    if message.channel == "email":
        from chalicelib.services.email_out import compose_for, sender_address

        account = deps.accounts.require(message.account_id)
        return OutboundMessage(channel="email", to=message.to, body=message.body,
                               sender=message.sender or sender_address(deps, account.email_from),
                               account_id=message.account_id, message_id=message.message_id,
                               raw=compose_for(deps, message))
    from chalicelib.services.attachments import provider_urls

    files = [a for a in message.attachments if a.get("key")]
    tag = _messenger_tag(deps, message) if message.channel == "messenger" else None
    return OutboundMessage(
        channel="messenger" if message.channel == "messenger" else "sms", to=message.to, body=message.body,
        sender=message.sender, account_id=message.account_id, message_id=message.message_id,
        media_urls=(*message.media_urls, *provider_urls(deps, files)),
        media_types=(*("image" for _ in message.media_urls), *(str(a["content_type"]) for a in files)),
        tag=tag, twilio_account_sid=twilio_account)


def _twilio_account_of(deps: Deps, account_id: str) -> str | None:
    account = deps.accounts.get(account_id)
    return account.twilio_account_sid if account else None


def _messenger_tag(deps: Deps, message: OutboxMessage) -> str | None:
    lead = deps.leads.require(message.lead_id)
    return rules.messenger_tag(rules.customer_last_message_time(lead), deps.clock.now(), human=not message.automated)


def _fire(deps: Deps, message: OutboxMessage) -> OutboxMessage:
    """A due scheduled message becomes queued — or dropped when the lead opted out or messaging
    was stopped meanwhile; decided in the lead's transaction, so it cannot miss an opt-out."""
    now = deps.clock.now()

    def decide(lead: Lead) -> Change[str]:
        drop = lead.opted_out or lead.stop_messaging
        status = "dropped" if drop else "queued"
        extra = {"dropped_reason": "opted_out" if lead.opted_out else "messaging_stopped"} if drop else {}
        writes = deps.outbox.move(message.lead_id, message.message_id, status, ("scheduled",),
                                  shown={**extra, "at_fired": iso(now)},
                                  due_at=None if drop else iso(now + QUEUED_GRACE))
        updates: dict[str, Any] = {"scheduled_messages": max(0, lead.scheduled_messages - 1)}
        reports: list[Any] = []
        if not drop:
            # It goes now: the inbox row's latest message, whoever wrote it (a person or an automated one).
            updates.update(rules.outbound_last_message(rules.customer_last_message_at(lead), iso(now), message.body,
                                                       len(message.media_urls)))
            reports.append(report_event(deps, lead, "message_outbound", user_id=message.by,
                                        automated=message.automated, channel=message.channel))
            if not message.automated:
                first, more = human_response(lead, message.by, "message", deps.clock.now())
                updates.update(first)
                reports += more
        return Change(updates=updates, reports=reports, writes=writes, result=status)

    try:
        status = change_lead(deps, message.lead_id, decide, touch=True).result
    except (LostRace, NotFound):
        return deps.outbox.get(message.message_id) or message
    if status == "dropped":
        logger.info("scheduled message dropped", extra={"message_id": message.message_id})
    return message.model_copy(update={"status": status})


def _drop(deps: Deps, message: OutboxMessage, reason: str) -> str | None:
    now = iso(deps.clock.now())
    try:
        deps.transactions.commit(deps.outbox.move(message.lead_id, message.message_id, "dropped", ("queued",),
                                                  shown={"dropped_reason": reason}, release=True,
                                                  claim_free_at=now))
    except LostRace:
        return None
    logger.info("queued message dropped", extra={"message_id": message.message_id, "reason": reason})
    return "dropped"


def _finish(deps: Deps, message: OutboxMessage, status: str, provider_id: str | None = None,
            error: str | None = None, provider_account: str | None = None) -> str:
    now = iso(deps.clock.now())
    fields: dict[str, Any] = {"attempts": message.attempts + 1}
    shown: dict[str, Any] = {f"{status}_at": now, "attempts": message.attempts + 1}
    if provider_id:
        fields["provider_id"] = shown["provider_id"] = provider_id
    if error:
        fields["last_error"] = shown["error"] = error[:500]
    writes = deps.outbox.move(message.lead_id, message.message_id, status, ("queued",), shown=shown,
                              set_fields=fields, release=True)
    if provider_id:
        writes.append(deps.deliveries.record_provider_id(
            _provider(message.channel), provider_id, message.lead_id, message.message_id,
            account_id=message.account_id, provider_account=provider_account))
    try:
        deps.transactions.commit(writes)
    except LostRace:
        # A delivery callback got there first (it only ever moves the state forward).
        logger.info("message state moved on before the send result", extra={"message_id": message.message_id})
    log = logger.warning if status == "failed" else logger.info
    log("message handed over" if status != "failed" else "message failed",
        extra={"message_id": message.message_id, "status": status})
    return status


def _retry_later(deps: Deps, message: OutboxMessage, attempt: int, error: str) -> str:
    delay = BACKOFF_SECONDS[min(attempt - 1, len(BACKOFF_SECONDS) - 1)]
    due = deps.clock.now() + timedelta(seconds=delay) + QUEUED_GRACE
    deps.transactions.commit(deps.outbox.move(
        message.lead_id, message.message_id, "queued", ("queued",), release=True, due_at=iso(due),
        set_fields={"attempts": attempt, "last_error": error[:500]}, shown={"attempts": attempt, "error": error[:500]}))
    enqueue_send(deps, message.message_id, delay_seconds=delay)
    logger.warning("send failed; retrying", extra={"message_id": message.message_id, "attempt": attempt,
                                                   "delay_seconds": delay})
    return "queued"


def _provider(channel: str) -> str:
    return {"messenger": "meta", "email": "ses"}.get(channel, "twilio")


def sweep_due(deps: Deps, limit: int = 1000) -> int:
    """Every minute: put a job on the outbox for each message that is due (scheduled ones at their
    time, queued ones whose job went missing). Each is claimed first — its due time moves one grace
    on, on the condition that it is still the time read — so a message still waiting gets one job a
    grace period, not one a sweep, and two overlapping sweeps enqueue it once. The consumer's
    conditions make any other repeat harmless."""
    now = deps.clock.now()
    due = deps.outbox.due(iso(now), limit=limit)
    if not due:
        return 0
    claims = deps.outbox.claim_due(due, iso(now + QUEUED_GRACE))
    if claims.claimed:
        deps.queues.send_batch(OUTBOX, [SendMessage(message_id=m).model_dump(mode="json") for m in claims.claimed])
    if claims.moved_on:
        logger.info("sweep: due messages moved on before their claim", extra={"count": len(claims.moved_on)})
    return len(claims.claimed)


# -- delivery callbacks ------------------------------------------------------------------------

def status_arrived(deps: Deps, post: TwilioPost) -> str | None:
    """Twilio's status callback: the stored message names the Twilio account it was sent through,
    and that account signs its callbacks (services/signing.status_signer)."""
    message_sid = post.lookup_value("MessageSid")
    target = delivery_target(deps, "twilio", message_sid) if message_sid else None
    signer = status_signer(deps, post, target.provider_account if target else None, known=target is not None)
    check_twilio(deps, post, target.account_id if target else None, signer)
    _, status = post.required("MessageSid", "MessageStatus")
    return record_delivery_status(deps, "twilio", target, status, post.last("ErrorCode") or None)


def delivery_target(deps: Deps, provider: str, provider_id: str) -> ProviderMessage | None:
    """The message a provider's id names, with the account it was sent through: the webhook checks
    the callback's signature against that account before anything is recorded."""
    return deps.deliveries.provider_message(provider, provider_id)


def record_delivery_status(deps: Deps, provider: str, target: ProviderMessage | None, raw_status: str,
                           error_code: str | None = None) -> str | None:
    """A provider's delivery callback for the message `delivery_target` found: move it forward (never back)."""
    status = rules.TWILIO_STATUSES.get(raw_status.lower()) if provider == "twilio" else raw_status
    if status is None:
        return None
    if target is None:
        logger.info("delivery status for an unknown message", extra={"provider": provider})
        return None
    shown: dict[str, Any] = {f"{status}_at": iso(deps.clock.now())}
    if error_code:
        shown["error"] = f"provider error {error_code}"
    try:
        deps.transactions.commit(deps.outbox.move(target.lead_id, target.message_id, status,
                                                  rules.statuses_before(status), shown=shown))
    except LostRace:
        return None  # a repeat or an older callback arriving late
    return status
