"""What happens when a customer writes: an SMS (Twilio) or a Messenger message (Meta).

The webhook's part is quick — find the store, find the contact's lead, and store the message
in the lead's transaction together with a conditional dedup key (so a repeated MessageSid /
mid is stored once, even when two deliveries race), applying STOP / START at once and
answering HELP. Everything slow goes to the inbound queue: detecting the lead's language
(lingua loads its models on first use), and creating + routing a lead for an unknown sender
(through intake.receive_lead, which routes new leads)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any, Literal

from chalicelib.adapters.dynamodb.conversations import ConversationRepository, OutboxMessage
from chalicelib.adapters.dynamodb.leads import LeadRepository
from chalicelib.adapters.dynamodb.table import TransactionCancelled
from chalicelib.clock import iso, parse_time
from chalicelib.deps import Deps
from chalicelib.domain import conversations as rules
from chalicelib.domain.errors import DomainError
from chalicelib.domain.leads import Lead
from chalicelib.domain.timeline import Message, MessageStatus
from chalicelib.ids import new_id
from chalicelib.observability import logger
from chalicelib.services.conversations import QUEUED_GRACE, enqueue_send, opt_in_change, opt_out_change
from chalicelib.services.lead_changes import Change, change_lead, report_event, timeline_event

Op = dict[str, Any]
DEDUP_DAYS = 7
# A claim on a new sender's message older than this was left by a consumer that crashed.
CLAIM_STALE = timedelta(seconds=60)
SOURCES = {"sms": "SMS", "messenger": "Facebook"}
CONTACT_KIND = {"sms": "phone", "messenger": "messenger"}


@dataclass(frozen=True)
class InboundMessage:
    provider: Literal["twilio", "meta"]
    provider_id: str  # Twilio MessageSid / Messenger mid
    channel: Literal["sms", "messenger"]
    sender: str  # E.164 / page-scoped id
    recipient: str  # the store's number / page id
    body: str
    received_at: str
    attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class InboundResult:
    reply: str | None = None  # answered in the webhook's reply (TwiML)
    lead_id: str | None = None
    message_id: str | None = None
    duplicate: bool = False
    deferred: bool = False  # an unknown sender: the lead is made on the inbound queue


class _NotThisLead(Exception):
    """The contact's lead is closed (sold / dead): the message starts a new lead."""


class InboundBusy(Exception):
    """Another consumer is creating the lead for this very message: try again later."""


def _ttl(deps: Deps) -> int:
    return int((deps.clock.now() + timedelta(days=DEDUP_DAYS)).timestamp())


def receive(deps: Deps, account_id: str, msg: InboundMessage) -> InboundResult:
    """The webhook's part. Idempotent on the provider's message id."""
    keyword = rules.consent_keyword(msg.body) if not msg.attachments else None
    contact = LeadRepository(deps.table).contact(account_id, CONTACT_KIND[msg.channel], msg.sender)
    if contact:
        repo = ConversationRepository(deps.table)

        def new_dedup(lead_id: str, message_id: str) -> Op:
            return repo.dedup_op(msg.provider, msg.provider_id, _ttl(deps), lead_id=lead_id, message_id=message_id,
                                 account_id=account_id)

        try:
            return attach(deps, account_id, contact["lead_id"], msg, keyword, new_dedup)
        except _NotThisLead:
            pass
    if keyword == "help" and msg.channel == "sms":
        account = deps.accounts.require(account_id)
        return InboundResult(reply=rules.help_reply(account.name))
    if keyword in ("stop", "start"):
        # Nobody to opt out or in: no lead of this store has this contact.
        return InboundResult()
    deps.queues.send("inbound", {"kind": "new_lead", "account_id": account_id, "message": asdict(msg)})
    logger.info("inbound message from a new contact queued", extra={"account_id": account_id,
                                                                    "provider_id": msg.provider_id})
    return InboundResult(deferred=True)


def attach(deps: Deps, account_id: str, lead_id: str, msg: InboundMessage, keyword: str | None,
           dedup: Callable[[str, str], Op]) -> InboundResult:
    """Store the message on the lead (with its consent effect and HELP answer) in one transaction."""
    repo = ConversationRepository(deps.table)
    # One reading stamps the customer's message: its id, its `at`, last_message_at. Everything this
    # change adds in answer (consent events, the HELP answer) reads the clock after it and makes its
    # id after it, so the timeline (by `at`, then id) never shows an answer before its question.
    now_dt = deps.clock.now()
    now = iso(now_dt)
    message_id = new_id("msg", now_dt)
    help_text = rules.help_reply(deps.accounts.require(account_id).name) if keyword == "help" else None
    help_outbox: list[OutboxMessage] = []

    def decide(lead: Lead) -> Change:
        if not (lead.is_open or lead.opted_out or keyword):
            raise _NotThisLead
        help_outbox.clear()
        message = Message(message_id=message_id, direction="inbound", channel=msg.channel, body=msg.body,
                          status="received", attachments=msg.attachments, provider_id=msg.provider_id)
        events = [timeline_event(deps, lead, "message", None, event_id=message_id, at=now,
                                 **message.model_dump(exclude_none=True))]
        updates: dict[str, Any] = {"last_message_at": now, "last_inbound_at": now,
                                   "last_message_preview": rules.preview(msg.body, len(msg.attachments))}
        # An opted-out customer cannot be answered, so their message does not wait for one.
        if keyword is None and lead.awaiting_since is None and not lead.opted_out:
            updates["awaiting_since"] = now
        reports = [report_event(deps, lead, "message_inbound", channel=msg.channel)]
        extra_ops = [dedup(lead.lead_id, message_id)]
        consent = opt_out_change(deps, lead, None, msg.channel) if keyword == "stop" else \
            opt_in_change(deps, lead, None, msg.channel) if keyword == "start" else None
        if consent is not None:
            updates.update(consent.updates)
            events += consent.events
            reports += consent.reports
        if help_text:
            # SMS: answered in the TwiML reply. Messenger: through the outbox, like any message.
            # Read after the question was stamped (max: a wall clock stepped back cannot put it before).
            answered_dt = max(deps.clock.now(), now_dt)
            answered_at = iso(answered_dt)
            help_id = new_id("msg", answered_dt)
            status: MessageStatus = "sent" if msg.channel == "sms" else "queued"
            answer = Message(message_id=help_id, direction="outbound", channel=msg.channel, body=help_text,
                             status=status, automated=True)
            events.append(timeline_event(deps, lead, "message", None, event_id=help_id, at=answered_at,
                                         **answer.model_dump(exclude_none=True)))
            # The customer gets the answer at once: it is the conversation's latest message.
            updates.update(rules.outbound_last_message(now, answered_at, help_text))
            reports.append(report_event(deps, lead, "message_outbound", automated=True, channel=msg.channel))
            if msg.channel == "messenger":
                outbox = OutboxMessage(message_id=help_id, lead_id=lead.lead_id, account_id=lead.account_id,
                                       group_id=lead.group_id, channel="messenger", to=msg.sender,
                                       sender=msg.recipient, body=help_text, automated=True, status="queued",
                                       created_at=now)
                help_outbox.append(outbox)
                extra_ops.append(repo.outbox_put_op(outbox, iso(now_dt + QUEUED_GRACE)))
        return Change(updates=updates, events=events, reports=reports, extra_ops=extra_ops)

    try:
        lead, _ = change_lead(deps, lead_id, decide, touch=True)
    except TransactionCancelled:
        seen = repo.dedup(msg.provider, msg.provider_id)
        if seen and seen.get("message_id"):
            logger.info("repeated inbound message ignored", extra={"provider_id": msg.provider_id})
            return InboundResult(duplicate=True, lead_id=seen.get("lead_id"), message_id=seen["message_id"],
                                 reply=help_text if msg.channel == "sms" else None)
        raise
    for outbox in help_outbox:
        enqueue_send(deps, outbox.message_id)
    if keyword is None and lead.language is None and msg.body.strip():
        deps.queues.send("inbound", {"kind": "language", "lead_id": lead.lead_id, "text": msg.body[:1000]})
    logger.info("inbound message stored", extra={"lead_id": lead.lead_id, "message_id": message_id,
                                                 "consent": keyword or ""})
    return InboundResult(reply=help_text if msg.channel == "sms" else None, lead_id=lead.lead_id,
                         message_id=message_id)


# -- the inbound queue -------------------------------------------------------------------

def process_job(deps: Deps, job: dict[str, Any]) -> None:
    kind = job.get("kind")
    if kind == "language":
        set_language(deps, job["lead_id"], job.get("text", ""))
    elif kind == "new_lead":
        from_new_contact(deps, job["account_id"], InboundMessage(**job["message"]))
    else:
        logger.warning("unknown inbound job", extra={"kind": kind})


def set_language(deps: Deps, lead_id: str, text: str) -> str | None:
    from chalicelib.adapters.language import detect_language

    language = detect_language(text)
    if language is None:
        return None

    def decide(lead: Lead) -> Change | None:
        return None if lead.language else Change(updates={"language": language})

    change_lead(deps, lead_id, decide)
    return language


def from_new_contact(deps: Deps, account_id: str, msg: InboundMessage) -> InboundResult:
    """An unknown sender: make the lead (routed by intake), then record the message on it.
    The provider's message id is claimed first, so two deliveries cannot make two leads."""
    from chalicelib.adapters.language import detect_language
    from chalicelib.domain.leads import NewLead
    from chalicelib.services.intake import receive_lead

    repo = ConversationRepository(deps.table)
    now = deps.clock.now()
    if not repo.claim_dedup(msg.provider, msg.provider_id, _ttl(deps), iso(now), iso(now - CLAIM_STALE)):
        seen = repo.dedup(msg.provider, msg.provider_id)
        if seen and seen.get("message_id"):
            return InboundResult(duplicate=True, lead_id=seen.get("lead_id"), message_id=seen["message_id"])
        raise InboundBusy(msg.provider_id)

    def finish(lead_id: str, message_id: str) -> Op:
        return repo.dedup_done_op(msg.provider, msg.provider_id, lead_id, message_id)

    # A lead for this contact may have appeared since the webhook looked (another channel, a twin).
    contact = LeadRepository(deps.table).contact(account_id, CONTACT_KIND[msg.channel], msg.sender)
    if contact:
        try:
            return attach(deps, account_id, contact["lead_id"], msg, None, finish)
        except _NotThisLead:
            pass
    account = deps.accounts.require(account_id)
    request: dict[str, Any] = {
        "source": SOURCES[msg.channel], "channel": msg.channel, "message": msg.body or None,
        "phone": msg.sender if msg.channel == "sms" else None,
        "messenger_psid": msg.sender if msg.channel == "messenger" else None,
        "provider_message_id": msg.provider_id, "attachments": msg.attachments,
        # When the customer wrote, not when the queue got to it: the response clock starts here.
        "received_at": parse_time(msg.received_at),
    }
    known = NewLead.model_fields
    try:
        result = receive_lead(deps, account, NewLead(**{k: v for k, v in request.items() if k in known}))
    except DomainError as exc:
        # A sender intake cannot accept (a short code, a malformed id): nothing to retry.
        logger.warning("inbound sender refused by intake", extra={"code": exc.code, "account_id": account_id})
        deps.table.transact([finish("none", "refused")])
        return InboundResult()
    lead = result.lead
    if result.created and result.message_id:
        language = detect_language(msg.body)

        def decide(current: Lead) -> Change:
            updates = {"language": language} if language and not current.language else {}
            return Change(updates=updates, extra_ops=[finish(current.lead_id, str(result.message_id))])

        change_lead(deps, lead.lead_id, decide)
        return InboundResult(lead_id=lead.lead_id, message_id=result.message_id)
    if result.created:
        # No text (a picture alone): intake recorded no message; this records it.
        return attach(deps, account_id, lead.lead_id, msg, None, finish)
    # Coalesced into a lead that appeared meanwhile: intake recorded the request on it.
    deps.table.transact([finish(lead.lead_id, "coalesced")])
    return InboundResult(lead_id=lead.lead_id)
