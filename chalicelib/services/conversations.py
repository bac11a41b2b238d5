"""Conversation use cases: sending (now, scheduled, quiet hours), the outbox that hands messages
to the sender, delivery states, the due-message sweep, and the lead actions (responded,
appointments, escalate, CRM, opt-out, stop-messaging, skip-to-follow-up), saved replies.

Sending is three steps, each idempotent:
1. the request writes the message (timeline event + outbox item) in the lead's transaction,
   then puts a job on the outbox queue (queued) or leaves it to the sweep (scheduled);
2. the outbox consumer claims the message (status queued, no live claim, lead not opted
   out — one transaction) and hands it to the sender;
3. the result moves it to sent / delivered, or back to queued with a backoff, or failed.
Every outbox item waiting to be handed over stays in the due index (GSI7), so the
every-minute sweep re-enqueues any whose job was lost: a message is never silently lost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.adapters.dynamodb.conversations import (
    Appointment,
    ConversationRepository,
    OutboxMessage,
    ProviderMessage,
    SavedReply,
    cancelled_by,
)
from chalicelib.adapters.dynamodb.leads import LeadRepository
from chalicelib.adapters.dynamodb.table import TransactionCancelled
from chalicelib.clock import iso, parse_time
from chalicelib.deps import Deps
from chalicelib.domain import conversations as rules
from chalicelib.domain.accounts import Account
from chalicelib.domain.contacts import phone_timezones
from chalicelib.domain.errors import Conflict, NotFound, ValidationFailed
from chalicelib.domain.leads import LOCK_IDLE_MINUTES, Lead, active_lock, check_status_change
from chalicelib.domain.messaging import OutboundMessage, SendFailed
from chalicelib.domain.tenancy import Principal
from chalicelib.domain.timeline import Message, MessageStatus
from chalicelib.ids import new_id
from chalicelib.observability import logger
from chalicelib.services.lead_changes import Change, change_lead, report_event, timeline_event

OUTBOX_MESSAGE = "message"
# A queued message whose queue job went missing is re-enqueued by the sweep after this long.
QUEUED_GRACE = timedelta(minutes=2)
# How long a consumer owns a message it is sending; past it (a crashed consumer) another may send it.
CLAIM_SECONDS = 60
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = (30, 120, 300, 900)


# -- reading what the caller may see ----------------------------------------------------

def visible_lead(deps: Deps, actor: Principal, lead_id: str) -> Lead:
    lead = LeadRepository(deps.table).get(lead_id)
    if lead is None or not actor.can_see_lead(lead.group_id, lead.account_id, lead.assigned_to):
        raise NotFound("lead not found")
    return lead


def respect_lock(deps: Deps, actor: Principal, lead: Lead) -> dict[str, Any]:
    """Someone else's live lock refuses an agent's action (409 locked); the holder's own action
    keeps the lock alive. Returns the lead updates that do that."""
    now = deps.clock.now()
    holder = active_lock(lead, iso(now))
    if holder is not None and holder != actor.user_id:
        raise Conflict("another user is working on this lead", code="locked", extra={"locked_by": holder})
    return {"lock_expires_at": iso(now + timedelta(minutes=LOCK_IDLE_MINUTES))} if holder else {}


def human_response(deps: Deps, lead: Lead, user_id: str | None, activity: str) -> tuple[dict[str, Any], list[Any]]:
    """What a person's outbound activity records: the report event the response clock reads,
    and the lead's first response time the first time."""
    now = iso(deps.clock.now())
    updates: dict[str, Any] = {} if lead.first_response_at else {"first_response_at": now}
    return updates, [report_event(deps, lead, "human_response", user_id=user_id, activity=activity, automated=False)]


# -- sending -------------------------------------------------------------------------

def _channel_and_recipient(lead: Lead, account: Account) -> tuple[str, str, str | None]:
    if lead.channel == "messenger" and lead.messenger_psid:
        return "messenger", lead.messenger_psid, account.messenger_page_id
    if lead.phone:
        return "sms", lead.phone, account.sms_number
    if lead.messenger_psid:
        return "messenger", lead.messenger_psid, account.messenger_page_id
    raise Conflict("the lead has no phone number or Messenger id to write to", code="no_contact")


def compose(deps: Deps, actor: Principal, lead: Lead, account: Account, body: str | None,
            saved_reply_id: str | None, kind: str | None) -> str:
    if saved_reply_id:
        reply = ConversationRepository(deps.table).saved_reply(saved_reply_id)
        if reply is None or reply.account_id != lead.account_id:
            raise NotFound("saved reply not found", details=[{"field": "saved_reply_id", "message": "not found"}])
        template, field = reply.body, "saved_reply_id"
    elif kind:
        template, field = rules.kind_template(kind, account), "kind"
    else:
        template, field = body or "", "body"
    return rules.render(template, rules.smart_field_values(lead, account, actor.name or None), field=field)


def quiet_zones(lead: Lead, account: Account, channel: str) -> tuple[str, ...]:
    zones = phone_timezones(lead.phone) if channel == "sms" and lead.phone else ()
    return rules.recipient_zones(zones, account.timezone)


def send_message(deps: Deps, actor: Principal, lead_id: str, *, body: str | None = None,
                 saved_reply_id: str | None = None, kind: str | None = None, send_at: str | None = None,
                 media_url: str | None = None) -> dict[str, Any]:
    lead = visible_lead(deps, actor, lead_id)
    if lead.opted_out:
        raise Conflict("the customer opted out of messages", code="opted_out")
    respect_lock(deps, actor, lead)
    account = deps.accounts.require(lead.account_id)
    channel, to, sender = _channel_and_recipient(lead, account)
    text = compose(deps, actor, lead, account, body, saved_reply_id, kind)
    if not text and not media_url:
        raise ValidationFailed.field("body", "the message is empty")
    now = deps.clock.now()
    requested = parse_time(send_at) if send_at else None
    if requested is not None and requested < now - timedelta(minutes=1):
        raise ValidationFailed.field("send_at", "is in the past")
    go_at = rules.next_allowed_send(requested or now, quiet_zones(lead, account, channel))
    scheduled = requested is not None or go_at > now
    if channel == "messenger":
        rules.messenger_tag(_customer_last_message(lead), go_at, human=True)
    if scheduled and lead.stop_messaging:
        raise Conflict("messaging is stopped for this lead; only an immediate message can be sent",
                       code="messaging_stopped")
    message_id = new_id("msg", now)
    status: MessageStatus = "scheduled" if scheduled else "queued"
    attachments = [{"url": media_url, "content_type": "image"}] if media_url else []
    data = Message(message_id=message_id, direction="outbound", channel=channel, body=text, status=status,
                   automated=False, attachments=attachments, send_at=iso(go_at) if scheduled else None)
    outbox = OutboxMessage(message_id=message_id, lead_id=lead.lead_id, account_id=lead.account_id,
                           group_id=lead.group_id, channel=channel, to=to, sender=sender, body=text,
                           media_urls=[media_url] if media_url else [], automated=False, by=actor.user_id,
                           status=status, send_at=data.send_at, created_at=iso(now))
    due_at = iso(go_at) if scheduled else iso(now + QUEUED_GRACE)
    repo = ConversationRepository(deps.table)

    def decide(current: Lead) -> Change:
        if current.opted_out:
            raise Conflict("the customer opted out of messages", code="opted_out")
        # An agent wrote back: the lead no longer waits for the store.
        updates: dict[str, Any] = {"awaiting_since": None, **respect_lock(deps, actor, current)}
        reports: list[Any] = []
        if scheduled:
            updates["scheduled_messages"] = current.scheduled_messages + 1
        else:
            first, reports = human_response(deps, current, actor.user_id, "message")
            updates.update(first)
            reports.append(report_event(deps, current, "message_outbound", user_id=actor.user_id, automated=False,
                                        channel=channel))
        event = timeline_event(deps, current, "message", actor.user_id, event_id=message_id,
                               **data.model_dump(exclude_none=True))
        if not scheduled:
            # Going now: the inbox row shows it as the latest message (a scheduled one, when it goes).
            updates.update(rules.outbound_last_message(rules.customer_last_message_at(current), event.at, text,
                                                       len(attachments)))
        return Change(updates=updates, events=[event], reports=reports,
                      extra_ops=[repo.outbox_put_op(outbox, due_at)])

    change_lead(deps, lead.lead_id, decide, touch=True)
    if not scheduled:
        enqueue_send(deps, message_id)
    logger.info("message accepted", extra={"lead_id": lead.lead_id, "message_id": message_id, "status": status})
    result: dict[str, Any] = {"message_id": message_id, "status": status}
    if scheduled:
        result["send_at"] = data.send_at
    return result


def enqueue_send(deps: Deps, message_id: str, delay_seconds: int = 0) -> None:
    deps.queues.send("outbox", {"kind": OUTBOX_MESSAGE, "message_id": message_id}, delay_seconds=delay_seconds)


def cancel_message(deps: Deps, actor: Principal, lead_id: str, message_id: str) -> dict[str, Any]:
    lead = visible_lead(deps, actor, lead_id)
    repo = ConversationRepository(deps.table)
    outbox = repo.outbox(message_id)
    if outbox is None or outbox.lead_id != lead.lead_id:
        raise NotFound("message not found")
    if outbox.status != "scheduled":
        raise Conflict(f"the message is {outbox.status}, not scheduled", code="not_scheduled",
                       extra={"status": outbox.status})

    def decide(current: Lead) -> Change:
        ops = [repo.outbox_status_op(message_id, "cancelled", ("scheduled",)),
               repo.event_status_op(lead.lead_id, message_id, "cancelled",
                                    {"cancelled_by": actor.user_id, "cancelled_at": iso(deps.clock.now())})]
        return Change(updates={"scheduled_messages": max(0, current.scheduled_messages - 1),
                               **respect_lock(deps, actor, current)}, extra_ops=ops)

    try:
        change_lead(deps, lead.lead_id, decide)
    except TransactionCancelled as exc:
        now_status = (repo.outbox(message_id) or outbox).status
        raise Conflict(f"the message is {now_status}, not scheduled", code="not_scheduled",
                       extra={"status": now_status}) from exc
    return {"message_id": message_id, "status": "cancelled"}


# -- the outbox consumer ---------------------------------------------------------------

def deliver(deps: Deps, message_id: str) -> str | None:
    """Hand one message to the sender if (and only if) it is due, queued, unclaimed, and its lead
    has not opted out. Safe to call any number of times; returns the status it left it in."""
    repo = ConversationRepository(deps.table)
    message = repo.outbox(message_id)
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
        repo.claim(message, iso(now), iso(now + timedelta(seconds=CLAIM_SECONDS)))
    except TransactionCancelled as exc:
        if cancelled_by(exc, 1) and not cancelled_by(exc, 0):
            return _drop(deps, message, "opted_out")
        return None  # another consumer holds it, or it moved on
    attempt = message.attempts + 1
    # Read at the moment of sending, so a store moved to another Twilio account meanwhile sends from it.
    twilio_account = _twilio_account_of(deps, message.account_id) if message.channel != "messenger" else None
    try:
        tag = _messenger_tag(deps, message) if message.channel == "messenger" else None
        result = deps.sender.send(OutboundMessage(
            channel="messenger" if message.channel == "messenger" else "sms", to=message.to, body=message.body,
            sender=message.sender, account_id=message.account_id, message_id=message.message_id,
            media_urls=tuple(message.media_urls), tag=tag, twilio_account_sid=twilio_account))
    except SendFailed as exc:
        if exc.permanent or attempt >= MAX_ATTEMPTS:
            return _finish(deps, message, "failed", error=str(exc))
        return _retry_later(deps, message, attempt, str(exc))
    except Conflict as exc:  # the Messenger window closed before it could go
        return _finish(deps, message, "failed", error=exc.message)
    status = "delivered" if result.status == "delivered" else "sent"
    return _finish(deps, message, status, provider_id=result.provider_id, provider_account=twilio_account)


def _twilio_account_of(deps: Deps, account_id: str) -> str | None:
    account = deps.accounts.get(account_id)
    return account.twilio_account_sid if account else None


def _messenger_tag(deps: Deps, message: OutboxMessage) -> str | None:
    lead = LeadRepository(deps.table).require(message.lead_id)
    return rules.messenger_tag(_customer_last_message(lead), deps.clock.now(), human=not message.automated)


def _customer_last_message(lead: Lead) -> datetime | None:
    """The Messenger window counts from the customer's last message, not from ours."""
    at = rules.customer_last_message_at(lead)
    return parse_time(at) if at else None


def _fire(deps: Deps, message: OutboxMessage) -> OutboxMessage:
    """A due scheduled message becomes queued — or dropped when the lead opted out or messaging
    was stopped meanwhile; decided in the lead's transaction, so it cannot miss an opt-out."""
    repo = ConversationRepository(deps.table)
    now = deps.clock.now()
    outcome: dict[str, str] = {}

    def decide(lead: Lead) -> Change:
        drop = lead.opted_out or lead.stop_messaging
        status = "dropped" if drop else "queued"
        outcome["status"] = status
        extra = {"dropped_reason": "opted_out" if lead.opted_out else "messaging_stopped"} if drop else {}
        ops = [repo.outbox_status_op(message.message_id, status, ("scheduled",),
                                     due_at=None if drop else iso(now + QUEUED_GRACE)),
               repo.event_status_op(message.lead_id, message.message_id, status, {**extra, "at_fired": iso(now)})]
        updates: dict[str, Any] = {"scheduled_messages": max(0, lead.scheduled_messages - 1)}
        reports: list[Any] = []
        if not drop:
            # It goes now: the inbox row's latest message, whoever wrote it (a person or an automated one).
            updates.update(rules.outbound_last_message(rules.customer_last_message_at(lead), iso(now), message.body,
                                                       len(message.media_urls)))
            reports.append(report_event(deps, lead, "message_outbound", user_id=message.by,
                                        automated=message.automated, channel=message.channel))
            if not message.automated:
                first, more = human_response(deps, lead, message.by, "message")
                updates.update(first)
                reports += more
        return Change(updates=updates, reports=reports, extra_ops=ops)

    try:
        change_lead(deps, message.lead_id, decide, touch=True)
    except (TransactionCancelled, NotFound):
        return repo.outbox(message.message_id) or message
    if outcome["status"] == "dropped":
        logger.info("scheduled message dropped", extra={"message_id": message.message_id})
    return message.model_copy(update={"status": outcome["status"]})


def _drop(deps: Deps, message: OutboxMessage, reason: str) -> str | None:
    repo = ConversationRepository(deps.table)
    now = iso(deps.clock.now())
    try:
        deps.table.transact([
            repo.outbox_status_op(message.message_id, "dropped", ("queued",), release=True, claim_free_at=now),
            repo.event_status_op(message.lead_id, message.message_id, "dropped", {"dropped_reason": reason}),
        ])
    except TransactionCancelled:
        return None
    logger.info("queued message dropped", extra={"message_id": message.message_id, "reason": reason})
    return "dropped"


def _finish(deps: Deps, message: OutboxMessage, status: str, provider_id: str | None = None,
            error: str | None = None, provider_account: str | None = None) -> str:
    repo = ConversationRepository(deps.table)
    now = iso(deps.clock.now())
    fields: dict[str, Any] = {"attempts": message.attempts + 1}
    shown: dict[str, Any] = {f"{status}_at": now, "attempts": message.attempts + 1}
    if provider_id:
        fields["provider_id"] = shown["provider_id"] = provider_id
    if error:
        fields["last_error"] = shown["error"] = error[:500]
    ops = [repo.outbox_status_op(message.message_id, status, ("queued",), set_fields=fields, release=True),
           repo.event_status_op(message.lead_id, message.message_id, status, shown)]
    if provider_id:
        ops.append(repo.provider_lookup_op(_provider(message.channel), provider_id, message.lead_id,
                                           message.message_id, account_id=message.account_id,
                                           provider_account=provider_account))
    try:
        deps.table.transact(ops)
    except TransactionCancelled:
        # A delivery callback got there first (it only ever moves the state forward).
        logger.info("message state moved on before the send result", extra={"message_id": message.message_id})
    log = logger.warning if status == "failed" else logger.info
    log("message handed over" if status != "failed" else "message failed",
        extra={"message_id": message.message_id, "status": status})
    return status


def _retry_later(deps: Deps, message: OutboxMessage, attempt: int, error: str) -> str:
    repo = ConversationRepository(deps.table)
    delay = BACKOFF_SECONDS[min(attempt - 1, len(BACKOFF_SECONDS) - 1)]
    due = deps.clock.now() + timedelta(seconds=delay) + QUEUED_GRACE
    deps.table.transact([
        repo.outbox_status_op(message.message_id, "queued", ("queued",), release=True, due_at=iso(due),
                              set_fields={"attempts": attempt, "last_error": error[:500]}),
        repo.event_status_op(message.lead_id, message.message_id, "queued",
                             {"attempts": attempt, "error": error[:500]}),
    ])
    enqueue_send(deps, message.message_id, delay_seconds=delay)
    logger.warning("send failed; retrying", extra={"message_id": message.message_id, "attempt": attempt,
                                                   "delay_seconds": delay})
    return "queued"


def _provider(channel: str) -> str:
    return "meta" if channel == "messenger" else "twilio"


def sweep_due(deps: Deps, limit: int = 1000) -> int:
    """Every minute: put a job on the outbox for each message that is due (scheduled ones at their
    time, queued ones whose job went missing). The consumer's conditions make repeats harmless."""
    due = ConversationRepository(deps.table).due(iso(deps.clock.now()), limit=limit)
    if due:
        deps.queues.send_batch("outbox", [{"kind": OUTBOX_MESSAGE, "message_id": m.message_id} for m in due])
    return len(due)


def delivery_target(deps: Deps, provider: str, provider_id: str) -> ProviderMessage | None:
    """The message a provider's id names, with the account it was sent through: the webhook checks
    the callback's signature against that account before anything is recorded."""
    return ConversationRepository(deps.table).provider_message(provider, provider_id)


def record_delivery_status(deps: Deps, provider: str, target: ProviderMessage | None, raw_status: str,
                           error_code: str | None = None) -> str | None:
    """A provider's delivery callback for the message `delivery_target` found: move it forward (never back)."""
    status = rules.TWILIO_STATUSES.get(raw_status.lower()) if provider == "twilio" else raw_status
    if status is None:
        return None
    if target is None:
        logger.info("delivery status for an unknown message", extra={"provider": provider})
        return None
    repo = ConversationRepository(deps.table)
    lead_id, message_id = target.lead_id, target.message_id
    now = iso(deps.clock.now())
    shown: dict[str, Any] = {f"{status}_at": now}
    if error_code:
        shown["error"] = f"provider error {error_code}"
    try:
        deps.table.transact([repo.outbox_status_op(message_id, status, rules.statuses_before(status)),
                             repo.event_status_op(lead_id, message_id, status, shown)])
    except TransactionCancelled:
        return None  # a repeat or an older callback arriving late
    return status


# -- actions ---------------------------------------------------------------------------

def mark_responded(deps: Deps, actor: Principal, lead_id: str) -> Lead:
    visible_lead(deps, actor, lead_id)

    def decide(lead: Lead) -> Change:
        first, reports = human_response(deps, lead, actor.user_id, "responded")
        return Change(updates={"awaiting_since": None, **first, **respect_lock(deps, actor, lead)}, reports=reports,
                      events=[timeline_event(deps, lead, "responded", actor.user_id)])

    lead, _ = change_lead(deps, lead_id, decide, touch=True)
    return lead


def opt_out(deps: Deps, lead_id: str, by: str | None, source: str) -> Lead:
    """The customer (a STOP) or an agent on their behalf: no more messages, the lead is dead."""

    def decide(lead: Lead) -> Change | None:
        return opt_out_change(deps, lead, by, source)

    lead, _ = change_lead(deps, lead_id, decide, touch=True)
    return lead


def opt_out_change(deps: Deps, lead: Lead, by: str | None, source: str) -> Change | None:
    if lead.opted_out:
        return None
    events = [timeline_event(deps, lead, "opt_out", by, source=source)]
    reports = []
    if lead.status != "dead":
        events.append(timeline_event(deps, lead, "status", by, **{"from": lead.status, "to": "dead"}))
        reports.append(report_event(deps, lead, "status_changed", user_id=by, **{"from": lead.status, "to": "dead"}))
    return Change(updates={"opted_out": True, "status": "dead", "awaiting_since": None}, events=events,
                  reports=reports)


def opt_in_change(deps: Deps, lead: Lead, by: str | None, source: str) -> Change | None:
    if not lead.opted_out:
        return None
    events = [timeline_event(deps, lead, "opt_in", by, source=source)]
    reports = []
    if lead.status == "dead":
        events.append(timeline_event(deps, lead, "status", by, **{"from": "dead", "to": "hot"}))
        reports.append(report_event(deps, lead, "status_changed", user_id=by, **{"from": "dead", "to": "hot"}))
    return Change(updates={"opted_out": False, "status": "hot" if lead.status == "dead" else lead.status},
                  events=events, reports=reports)


def agent_opt_out(deps: Deps, actor: Principal, lead_id: str) -> Lead:
    visible_lead(deps, actor, lead_id)
    return opt_out(deps, lead_id, actor.user_id, "agent")


def stop_messaging(deps: Deps, actor: Principal, lead_id: str) -> Lead:
    """No scheduled or automated message goes to this lead any more (due ones are dropped);
    an agent can still answer by hand."""
    visible_lead(deps, actor, lead_id)

    def decide(lead: Lead) -> Change | None:
        if lead.stop_messaging:
            return None
        return Change(updates={"stop_messaging": True, **respect_lock(deps, actor, lead)},
                      events=[timeline_event(deps, lead, "edit", actor.user_id, field="stop_messaging", value=True)])

    lead, _ = change_lead(deps, lead_id, decide, touch=True)
    return lead


def skip_to_follow_up(deps: Deps, actor: Principal, lead_id: str) -> Lead:
    visible_lead(deps, actor, lead_id)

    def decide(lead: Lead) -> Change | None:
        if lead.status == "follow_up":
            return None
        check_status_change(lead.status, "follow_up")
        change = {"from": lead.status, "to": "follow_up"}
        return Change(updates={"status": "follow_up", "awaiting_since": None, **respect_lock(deps, actor, lead)},
                      events=[timeline_event(deps, lead, "status", actor.user_id, action="skip_to_follow_up",
                                             **change)],
                      reports=[report_event(deps, lead, "status_changed", user_id=actor.user_id, **change)])

    lead, _ = change_lead(deps, lead_id, decide, touch=True)
    return lead


# -- appointments ----------------------------------------------------------------------

@dataclass
class _Automated:
    """An automated message to the customer (a confirmation): never a human response."""

    data: Message
    outbox: OutboxMessage
    due_at: str

    @property
    def scheduled(self) -> bool:
        return self.data.status == "scheduled"


def _automated_message(deps: Deps, lead: Lead, account: Account, text: str) -> _Automated | None:
    """None when it may not go: opted out, messaging stopped, no way to reach the customer, or
    Messenger's window closed. Quiet hours hold it until 08:00."""
    if lead.opted_out or lead.stop_messaging:
        return None
    try:
        channel, to, sender = _channel_and_recipient(lead, account)
        now = deps.clock.now()
        go_at = rules.next_allowed_send(now, quiet_zones(lead, account, channel))
        if channel == "messenger":
            rules.messenger_tag(_customer_last_message(lead), go_at, human=False)
    except Conflict:
        return None
    scheduled = go_at > now
    status: MessageStatus = "scheduled" if scheduled else "queued"
    message_id = new_id("msg", now)
    data = Message(message_id=message_id, direction="outbound", channel=channel, body=text, status=status,
                   automated=True, send_at=iso(go_at) if scheduled else None)
    outbox = OutboxMessage(message_id=message_id, lead_id=lead.lead_id, account_id=lead.account_id,
                           group_id=lead.group_id, channel=channel, to=to, sender=sender, body=text, automated=True,
                           status=status, send_at=data.send_at, created_at=iso(now))
    return _Automated(data=data, outbox=outbox, due_at=iso(go_at) if scheduled else iso(now + QUEUED_GRACE))


def confirmation_text(account: Account, at: str) -> str:
    local = parse_time(at).astimezone(ZoneInfo(account.timezone))
    when = local.strftime("%a %b %-d at %-I:%M %p")
    return f"{account.name}: your appointment is confirmed for {when}. Reply STOP to opt out."


def create_appointment(deps: Deps, actor: Principal, lead_id: str, at: str, note: str | None,
                       confirm: bool = False) -> tuple[Appointment, str | None]:
    """Book it; with `confirm`, text the customer an automated confirmation. Returns the
    appointment and the confirmation's message id (None when none was sent)."""
    lead = visible_lead(deps, actor, lead_id)
    now = iso(deps.clock.now())
    appointment = Appointment(appointment_id=new_id("apt", deps.clock.now()), lead_id=lead.lead_id,
                              account_id=lead.account_id, group_id=lead.group_id, at=iso(parse_time(at)), note=note,
                              created_by=actor.user_id, created_at=now, updated_at=now)
    repo = ConversationRepository(deps.table)
    account = deps.accounts.require(lead.account_id) if confirm else None
    confirmation: dict[str, _Automated | None] = {}

    def decide(current: Lead) -> Change:
        first, reports = human_response(deps, current, actor.user_id, "appointment")
        reports.append(report_event(deps, current, "appointment_created", user_id=actor.user_id,
                                    appointment_id=appointment.appointment_id, appointment_at=appointment.at))
        events = [timeline_event(deps, current, "appointment", actor.user_id, appointment_id=appointment.appointment_id,
                                 action="created", appointment_at=appointment.at, note=note, status="scheduled")]
        updates: dict[str, Any] = {"open_appointments": current.open_appointments + 1, "awaiting_since": None,
                                   **first, **respect_lock(deps, actor, current)}
        extra_ops = [repo.appointment_put_op(appointment)]
        found = _automated_message(deps, current, account, confirmation_text(account, appointment.at)) \
            if account is not None else None
        confirmation["message"] = found
        if found is not None:
            # The confirmation follows the booking in the timeline.
            later = iso(deps.clock.now() + timedelta(milliseconds=1))
            events.append(timeline_event(deps, current, "message", None, event_id=found.data.message_id, at=later,
                                         **found.data.model_dump(exclude_none=True)))
            extra_ops.append(repo.outbox_put_op(found.outbox, found.due_at))
            if found.scheduled:
                updates["scheduled_messages"] = current.scheduled_messages + 1
            else:
                updates.update(rules.outbound_last_message(rules.customer_last_message_at(current), later,
                                                           found.data.body))
                reports.append(report_event(deps, current, "message_outbound", automated=True,
                                            channel=found.data.channel))
        return Change(updates=updates, events=events, reports=reports, extra_ops=extra_ops)

    change_lead(deps, lead_id, decide, touch=True)
    sent = confirmation.get("message")
    if sent is not None and not sent.scheduled:
        enqueue_send(deps, sent.data.message_id)
    return appointment, sent.data.message_id if sent is not None else None


def update_appointment(deps: Deps, actor: Principal, appointment_id: str, at: str | None,
                       status: str | None) -> Appointment:
    repo = ConversationRepository(deps.table)
    appointment = repo.appointment(appointment_id)
    if appointment is None:
        raise NotFound("appointment not found")
    visible_lead(deps, actor, appointment.lead_id)
    if appointment.status != "scheduled":
        raise Conflict(f"the appointment is already {appointment.status}", code="already_decided",
                       extra={"status": appointment.status})
    now = iso(deps.clock.now())
    after = appointment.model_copy(update={"updated_at": now, **({"at": iso(parse_time(at))} if at else {}),
                                           **({"status": status} if status else {})})

    def decide(lead: Lead) -> Change:
        updates: dict[str, Any] = respect_lock(deps, actor, lead)
        reports = []
        if status:
            updates["open_appointments"] = max(0, lead.open_appointments - 1)
            if status == "showed":
                updates["showed"] = True
            reports.append(report_event(deps, lead, f"appointment_{status}", user_id=actor.user_id,
                                        appointment_id=appointment_id))
        event = timeline_event(deps, lead, "appointment", actor.user_id, appointment_id=appointment_id,
                               action=status or "rescheduled", appointment_at=after.at, status=after.status)
        return Change(updates=updates, events=[event], reports=reports,
                      extra_ops=[repo.appointment_put_op(after, expected_status="scheduled")])

    try:
        change_lead(deps, appointment.lead_id, decide, touch=True)
    except TransactionCancelled as exc:
        raise Conflict("the appointment changed meanwhile", code="already_decided") from exc
    return after


# -- escalation and CRM ----------------------------------------------------------------

def _staff_names(deps: Deps, lead: Lead, events: list[Any]) -> dict[str, str]:
    names: dict[str, str] = {}
    for user_id in {e.by for e in events if e.by}:
        user = deps.users.get(user_id)
        if user is not None and user.group_id == lead.group_id:
            names[user_id] = user.name
    return names


def escalate(deps: Deps, actor: Principal, lead_id: str, note: str) -> dict[str, Any]:
    from chalicelib.adapters.mail import Email
    from chalicelib.domain.adf_out import transcript

    lead = visible_lead(deps, actor, lead_id)
    respect_lock(deps, actor, lead)
    account = deps.accounts.require(lead.account_id)
    if not account.escalation_email:
        raise Conflict("the store has no escalation_email", code="not_configured",
                       details=[{"field": "escalation_email", "message": "is not set for the store"}])
    events = LeadRepository(deps.table).timeline(lead_id)
    lines = transcript(events, lead, account.timezone, _staff_names(deps, lead, events)) or "(no messages yet)"
    contact = ", ".join(p for p in (lead.phone, lead.email) if p) or "no contact details"
    text = (f"{actor.name or 'An agent'} escalated a lead at {account.name}.\n\n"
            f"Note:\n{note}\n\nLead: {lead.name or 'unnamed'} ({contact})\nSource: {lead.source}\n"
            f"Status: {lead.status}\nLead id: {lead.lead_id}\n\nConversation:\n{lines}\n")
    email_id = deps.mailer.send(Email(to=[account.escalation_email],
                                      subject=f"Escalation: {lead.name or lead.lead_id} ({account.name})",
                                      text=text, reply_to=[actor.email] if actor.email else []))

    def decide(current: Lead) -> Change:
        first, reports = human_response(deps, current, actor.user_id, "email")
        return Change(updates=first, reports=reports, events=[timeline_event(
            deps, current, "escalation", actor.user_id, note=note, to=account.escalation_email, email_id=email_id)])

    change_lead(deps, lead_id, decide, touch=True)
    return {"lead_id": lead_id, "sent_to": account.escalation_email}


def send_to_crm(deps: Deps, actor: Principal, lead_id: str) -> dict[str, Any]:
    from chalicelib.adapters.mail import Email
    from chalicelib.domain.adf_out import lead_to_adf, transcript

    lead = visible_lead(deps, actor, lead_id)
    account = deps.accounts.require(lead.account_id)
    if not account.crm_email:
        raise Conflict("the store has no crm_email", code="not_configured",
                       details=[{"field": "crm_email", "message": "is not set for the store"}])
    events = LeadRepository(deps.table).timeline(lead_id)
    xml = lead_to_adf(lead, account, transcript(events, lead, account.timezone, _staff_names(deps, lead, events)))
    # Dealer CRMs read the ADF document from the mail body.
    email_id = deps.mailer.send(Email(to=[account.crm_email], subject=f"ADF lead {lead.lead_id}", text=xml))

    def decide(current: Lead) -> Change:
        return Change(events=[timeline_event(deps, current, "crm", actor.user_id, to=account.crm_email,
                                             email_id=email_id)])

    change_lead(deps, lead_id, decide, touch=True)
    return {"lead_id": lead_id, "sent_to": account.crm_email}


# -- saved replies ---------------------------------------------------------------------

def _visible_account(deps: Deps, actor: Principal, account_id: str) -> Account:
    account = deps.accounts.require(account_id)
    actor.require_account(account.group_id, account.account_id)
    return account


def list_saved_replies(deps: Deps, actor: Principal, account_id: str, limit: int,
                       cursor: str | None) -> tuple[list[SavedReply], str | None]:
    _visible_account(deps, actor, account_id)
    return ConversationRepository(deps.table).saved_replies(account_id, limit, cursor)


def create_saved_reply(deps: Deps, actor: Principal, account_id: str, title: str, body: str) -> SavedReply:
    account = _visible_account(deps, actor, account_id)
    now = iso(deps.clock.now())
    reply = SavedReply(saved_reply_id=new_id("svr", deps.clock.now()), account_id=account_id,
                       group_id=account.group_id, title=title, body=body, created_by=actor.user_id,
                       created_at=now, updated_at=now)
    _check_template(body)
    ConversationRepository(deps.table).put_saved_reply(reply, new=True)
    return reply


def _check_template(body: str) -> None:
    """Refuse a saved reply with a field no message could ever fill."""
    known = {k: "x" for k in rules.smart_field_values(
        Lead(lead_id="l", account_id="a", group_id="g", created_at="", received_at="", last_activity_at=""),
        Account(account_id="a", group_id="g", name="x", timezone="UTC", created_at="", updated_at=""), "x")}
    rules.render(body, known, field="body")


def _visible_saved_reply(deps: Deps, actor: Principal, saved_reply_id: str) -> SavedReply:
    reply = ConversationRepository(deps.table).saved_reply(saved_reply_id)
    if reply is None or not actor.can_see_account(reply.group_id, reply.account_id):
        raise NotFound("saved reply not found")
    return reply


def update_saved_reply(deps: Deps, actor: Principal, saved_reply_id: str, title: str | None,
                       body: str | None) -> SavedReply:
    reply = _visible_saved_reply(deps, actor, saved_reply_id)
    if body is not None:
        _check_template(body)
    after = reply.model_copy(update={"updated_at": iso(deps.clock.now()), **({"title": title} if title else {}),
                                     **({"body": body} if body is not None else {})})
    ConversationRepository(deps.table).put_saved_reply(after, new=False)
    return after


def delete_saved_reply(deps: Deps, actor: Principal, saved_reply_id: str) -> None:
    _visible_saved_reply(deps, actor, saved_reply_id)
    ConversationRepository(deps.table).delete_saved_reply(saved_reply_id)
