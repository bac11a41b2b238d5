"""Writing to a customer: an agent's message now or scheduled (quiet hours hold it until 08:00 in
the customer's zones), cancelling a scheduled one, and the automated messages other use cases send
(an appointment's confirmation, a cadence step). A message goes by SMS, Messenger or email
(domain/channels.py chooses) with its attachments (services/attachments.py). Each message is
written in the lead's transaction and handed to the outbox (services/outbox.py), which sends it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.clock import iso, parse_time
from chalicelib.deps import Deps
from chalicelib.domain import conversations as rules
from chalicelib.domain.accounts import Account
from chalicelib.domain.changes import Change, Write
from chalicelib.domain.channels import choose_channel
from chalicelib.domain.email_out import default_subject, one_line
from chalicelib.domain.errors import Conflict, LostRace, NotFound, ValidationFailed
from chalicelib.domain.leads import Lead, lock_kept
from chalicelib.domain.outbox import OutboxMessage
from chalicelib.domain.records import human_response
from chalicelib.domain.tenancy import Principal
from chalicelib.domain.timeline import Message, MessageStatus
from chalicelib.ids import new_id
from chalicelib.observability import logger
from chalicelib.services.access import visible_lead
from chalicelib.services.attachments import ready_to_send
from chalicelib.services.email_out import reply_token_change
from chalicelib.services.lead_changes import change_lead, report_event, timeline_event
from chalicelib.services.outbox import QUEUED_GRACE, enqueue_send


def channel_and_recipient(lead: Lead, account: Account, requested: str | None = None) -> rules.Route:
    """(channel, the customer's address, the store's address) a message to the lead goes by: the
    requested channel, else the lead's own, then SMS, Messenger, email (domain/channels.py)."""
    return choose_channel(lead, account, requested)


def compose(deps: Deps, actor: Principal, lead: Lead, account: Account, body: str | None,
            saved_reply_id: str | None, kind: str | None, signer: str | None = None) -> str:
    """The message's text, its smart fields filled; `{{agent.name}}` is `signer` (default: the caller)."""
    if saved_reply_id:
        reply = deps.saved_replies.get(saved_reply_id)
        if reply is None or reply.account_id != lead.account_id:
            raise NotFound("saved reply not found", details=[{"field": "saved_reply_id", "message": "not found"}])
        template, field = reply.body, "saved_reply_id"
    elif kind:
        template, field = rules.kind_template(kind, account), "kind"
    else:
        template, field = body or "", "body"
    return rules.render(template, rules.smart_field_values(lead, account, signer or actor.name or None), field=field)


def assistant_name(deps: Deps, lead: Lead) -> str:
    """The name an `as_assistant` reply is sent under: the lead's cadence's assistant (409 `no_cadence`)."""
    if lead.cadence is None:
        raise Conflict("the lead has no cadence to reply as its assistant", code="no_cadence")
    cadence = deps.cadences.get(lead.cadence.cadence_id)
    return cadence.assistant_name if cadence is not None else lead.cadence.assistant_name


def send_message(deps: Deps, actor: Principal, lead_id: str, *, body: str | None = None,
                 saved_reply_id: str | None = None, kind: str | None = None, send_at: str | None = None,
                 media_url: str | None = None, as_assistant: bool = False, channel: str | None = None,
                 subject: str | None = None, attachment_ids: list[str] | None = None) -> dict[str, Any]:
    """A person's message; `as_assistant`: sent under the lead's cadence's assistant name (still a
    person's reply: it counts as a response); `channel`: instead of the lead's own; `attachment_ids`:
    checked uploads sent with it."""
    lead = visible_lead(deps, actor, lead_id)
    if lead.opted_out:
        raise Conflict("the customer opted out of messages", code="opted_out")
    lock_kept(lead, actor.user_id, deps.clock.now())
    account = deps.accounts.require(lead.account_id)
    channel, to, sender = channel_and_recipient(lead, account, channel)
    signed_as = assistant_name(deps, lead) if as_assistant else None
    text = compose(deps, actor, lead, account, body, saved_reply_id, kind, signer=signed_as)
    files = ready_to_send(deps, lead, attachment_ids) if attachment_ids else []
    if not text and not media_url and not files:
        raise ValidationFailed.field("body", "the message is empty")
    subject = email_subject(actor, lead, account, channel, subject, signed_as)
    now = deps.clock.now()
    requested = parse_time(send_at) if send_at else None
    if requested is not None and requested < now - timedelta(minutes=1):
        raise ValidationFailed.field("send_at", "is in the past")
    go_at = rules.next_allowed_send(requested or now, rules.quiet_zones(lead, account, channel))
    scheduled = requested is not None or go_at > now
    if channel == "messenger":
        rules.messenger_tag(rules.customer_last_message_time(lead), go_at, human=True)
    if scheduled and lead.stop_messaging:
        raise Conflict("messaging is stopped for this lead; only an immediate message can be sent",
                       code="messaging_stopped")
    message_id = new_id("msg", now)
    status: MessageStatus = "scheduled" if scheduled else "queued"
    attachments = [{"url": media_url, "content_type": "image"}] if media_url else []
    attachments += files
    data = Message(message_id=message_id, direction="outbound", channel=channel, body=text, subject=subject,
                   status=status, automated=False, attachments=attachments, send_at=iso(go_at) if scheduled else None,
                   as_assistant=True if as_assistant else None, sent_as=signed_as)
    outbox = OutboxMessage(message_id=message_id, lead_id=lead.lead_id, account_id=lead.account_id,
                           group_id=lead.group_id, channel=channel, to=to, sender=sender, body=text, subject=subject,
                           media_urls=[media_url] if media_url else [], attachments=files, automated=False,
                           by=actor.user_id, status=status, send_at=data.send_at, created_at=iso(now))
    due_at = iso(go_at) if scheduled else iso(now + QUEUED_GRACE)

    def decide(current: Lead) -> Change[None]:
        if current.opted_out or (channel == "email" and current.email_opted_out):
            raise Conflict("the customer opted out of messages", code="opted_out")
        # An agent wrote back: the lead no longer waits for the store.
        updates: dict[str, Any] = {"awaiting_since": None, **lock_kept(current, actor.user_id, deps.clock.now())}
        writes = [deps.outbox.add(outbox, due_at)]
        if channel == "email":
            token, claim = reply_token_change(deps, current)  # the reply address routes the answer back
            updates.update(token)
            writes += claim
        reports: list[Any] = []
        if scheduled:
            updates["scheduled_messages"] = current.scheduled_messages + 1
        else:
            first, reports = human_response(current, actor.user_id, "message", deps.clock.now())
            updates.update(first)
            reports.append(report_event(deps, current, "message_outbound", user_id=actor.user_id, automated=False,
                                        channel=channel))
        event = timeline_event(deps, current, "message", actor.user_id, event_id=message_id,
                               **data.model_dump(exclude_none=True))
        if not scheduled:
            # Going now: the inbox row shows it as the latest message (a scheduled one, when it goes).
            updates.update(rules.outbound_last_message(rules.customer_last_message_at(current), event.at, text,
                                                       len(attachments)))
        return Change(updates=updates, events=[event], reports=reports, writes=writes)

    change_lead(deps, lead.lead_id, decide, touch=True)
    if not scheduled:
        enqueue_send(deps, message_id)
    logger.info("message accepted", extra={"lead_id": lead.lead_id, "message_id": message_id, "status": status})
    result: dict[str, Any] = {"message_id": message_id, "status": status}
    if scheduled:
        result["send_at"] = data.send_at
    return result


def email_subject(actor: Principal, lead: Lead, account: Account, channel: str, subject: str | None,
                  signer: str | None = None) -> str | None:
    """An email's subject (smart fields filled; by default the thread's "Re: ..." or the store and
    the car); None for other channels, which have none (400 when one is given)."""
    if channel != "email":
        if subject:
            raise ValidationFailed.field("subject", f"only an email has a subject, not a {channel} message")
        return None
    values = rules.smart_field_values(lead, account, signer or actor.name or None)
    if subject:
        return one_line(rules.render(subject, values, field="subject"), 300) or None
    return default_subject((lead.email_thread or {}).get("subject"), account.name, values.get("lead.vehicle"))


def cancel_message(deps: Deps, actor: Principal, lead_id: str, message_id: str) -> dict[str, Any]:
    lead = visible_lead(deps, actor, lead_id)
    outbox = deps.outbox.get(message_id)
    if outbox is None or outbox.lead_id != lead.lead_id:
        raise NotFound("message not found")
    if outbox.status != "scheduled":
        raise Conflict(f"the message is {outbox.status}, not scheduled", code="not_scheduled",
                       extra={"status": outbox.status})

    def decide(current: Lead) -> Change[None]:
        writes = deps.outbox.move(lead.lead_id, message_id, "cancelled", ("scheduled",),
                                  shown={"cancelled_by": actor.user_id, "cancelled_at": iso(deps.clock.now())})
        return Change(updates={"scheduled_messages": max(0, current.scheduled_messages - 1),
                               **lock_kept(current, actor.user_id, deps.clock.now())}, writes=writes)

    try:
        change_lead(deps, lead.lead_id, decide)
    except LostRace as exc:
        now_status = (deps.outbox.get(message_id) or outbox).status
        raise Conflict(f"the message is {now_status}, not scheduled", code="not_scheduled",
                       extra={"status": now_status}) from exc
    return {"message_id": message_id, "status": "cancelled"}


# -- automated messages ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Automated:
    """An automated message to the customer (a confirmation, a cadence step): never a human response.
    `lead_updates` and `writes`: an email's first reply token (add_automated merges them)."""

    data: Message
    outbox: OutboxMessage
    due_at: str
    lead_updates: dict[str, Any] = field(default_factory=dict)
    writes: list[Write] = field(default_factory=list)

    @property
    def scheduled(self) -> bool:
        return self.data.status == "scheduled"


def automated_message(deps: Deps, lead: Lead, account: Account, text: str, *, route: rules.Route | None = None,
                      at: datetime | None = None, origin: dict[str, Any] | None = None,
                      subject: str | None = None) -> Automated | None:
    """None when it may not go: opted out, messaging stopped, no way to reach the customer, or
    Messenger's window closed. `route`: the (channel, to, sender) to use instead of the lead's own
    (domain/channels.choose_channel); `at`: not before then (a reminder); `origin`: what sent it (a
    cadence step, an appointment), shown on its timeline event; `subject`: an email's (default: the
    thread's or the store's). Quiet hours hold it until 08:00."""
    if lead.opted_out or lead.stop_messaging:
        return None
    now = deps.clock.now()
    try:
        channel, to, sender = route or channel_and_recipient(lead, account)
        go_at = rules.next_allowed_send(max(at, now) if at else now, rules.quiet_zones(lead, account, channel))
        if channel == "messenger":
            rules.messenger_tag(rules.customer_last_message_time(lead), go_at, human=False)
    except Conflict:
        return None
    scheduled = go_at > now
    status: MessageStatus = "scheduled" if scheduled else "queued"
    message_id = new_id("msg", now)
    token: tuple[dict[str, Any], list[Write]] = ({}, [])
    if channel == "email":
        token = reply_token_change(deps, lead)
        subject = one_line(subject, 300) if subject else default_subject(
            (lead.email_thread or {}).get("subject"), account.name, None)
    else:
        subject = None
    data = Message(message_id=message_id, direction="outbound", channel=channel, body=text, subject=subject,
                   status=status, automated=True, send_at=iso(go_at) if scheduled else None, **(origin or {}))
    outbox = OutboxMessage(message_id=message_id, lead_id=lead.lead_id, account_id=lead.account_id,
                           group_id=lead.group_id, channel=channel, to=to, sender=sender, body=text, subject=subject,
                           automated=True, status=status, send_at=data.send_at, created_at=iso(now))
    return Automated(data=data, outbox=outbox, due_at=iso(go_at) if scheduled else iso(now + QUEUED_GRACE),
                     lead_updates=token[0], writes=token[1])


def add_automated(deps: Deps, change: Change[Any], lead: Lead, message: Automated, at: str | None = None) -> None:
    """An automated message joins a lead change: its timeline event (at `at`, default now), its outbox
    item, and either the inbox row's latest message (it goes now; reported as an automated outbound
    message, never a response) or one more scheduled message."""
    event = timeline_event(deps, lead, "message", None, event_id=message.data.message_id, at=at,
                           **message.data.model_dump(exclude_none=True))
    change.events.append(event)
    change.writes.append(deps.outbox.add(message.outbox, message.due_at))
    change.writes.extend(message.writes)
    change.updates.update(message.lead_updates)
    if message.scheduled:
        change.updates["scheduled_messages"] = change.updates.get("scheduled_messages", lead.scheduled_messages) + 1
        return
    change.updates.update(rules.outbound_last_message(rules.customer_last_message_at(lead), event.at,
                                                      message.data.body))
    change.reports.append(report_event(deps, lead, "message_outbound", automated=True, channel=message.data.channel))
