"""What happens when a customer writes: an SMS (Twilio) or a Messenger message (Meta).

The webhook's part (`receive`) is quick — find the contact's lead and store the message in the
lead's transaction together with a conditional dedup key (so a repeated MessageSid / mid is stored
once, even when two deliveries race), applying STOP / START at once and answering HELP; what the
message means is decided by domain/inbound.py. An SMS finds its lead in two reads: the number's
lookup with the sender's pointer, then the contact key with the lead, store and owner the pointer
names (keys.py, "SMS sender pointers"; the pointer is checked, never trusted); without a pointer, the
contact key is read with the store's routing, on which an unknown sender's lead is made and routed
in the webhook (services/new_contact.py). Everything slow happens later: copying pictures on the
inbound queue (services/inbound_queue.py); detecting the lead's language (lingua loads its models on
first use) on the table's stream, from the stored message's marker (services/language.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain import conversations as rules
from chalicelib.domain import inbound as meaning
from chalicelib.domain.accounts import Account
from chalicelib.domain.changes import Change, Write
from chalicelib.domain.errors import LostRace
from chalicelib.domain.inbound import CONTACT_KIND, MAX_MEDIA, Conversation, InboundMessage, NotThisLead, SenderHint
from chalicelib.domain.leads import Lead, next_version
from chalicelib.domain.media import inbound_attachment_id
from chalicelib.domain.outbox import OutboxMessage
from chalicelib.domain.users import User
from chalicelib.ids import new_id
from chalicelib.observability import logger
from chalicelib.schemas.queues import CopyMedia, MediaItem
from chalicelib.services.lead_changes import change_lead
from chalicelib.services.notifications import Notices, notices, send_deliveries
from chalicelib.services.outbox import QUEUED_GRACE, enqueue_send
from chalicelib.services.sender_pointers import pointer_write
from chalicelib.services.signing import TwilioPost, check_twilio

INBOUND = "inbound"
DEDUP_DAYS = 7

# Makes the write that records the provider's message id, given the lead and message it became.
DedupWrite = Callable[[str, str], Write]


@dataclass
class InboundResult:
    reply: str | None = None  # answered in the webhook's reply (TwiML)
    lead_id: str | None = None
    message_id: str | None = None
    duplicate: bool = False


def dedup_ttl(deps: Deps) -> int:
    return int((deps.clock.now() + timedelta(days=DEDUP_DAYS)).timestamp())


def sms_arrived(deps: Deps, post: TwilioPost) -> InboundResult:
    """Twilio's SMS / MMS webhook. The number's owner decides which auth token must have signed the
    request, so it is read first, with the sender's pointer on that number (one BatchGetItem); nothing
    is written before the signature is checked."""
    to_number = post.lookup_value("To")
    owner, hint = deps.accounts.sms_route(to_number, post.lookup_value("From")) if to_number else (None, None)
    check_twilio(deps, post, owner.account_id if owner else None, owner.twilio_account_sid if owner else None)
    sid, sender, to = post.required("MessageSid", "From", "To")
    if owner is None:
        logger.warning("inbound SMS to a number no store owns", extra={"provider_id": sid})
        return InboundResult()
    media = post.last("NumMedia")
    attachments = []
    for i in range(min(int(media) if media.isdigit() else 0, MAX_MEDIA)):
        url = post.last(f"MediaUrl{i}")
        if url:
            kind = post.last(f"MediaContentType{i}")
            attachments.append({"attachment_id": inbound_attachment_id("twilio", sid, i), "url": url,
                                **({"content_type": kind} if kind else {})})
    message = InboundMessage(provider="twilio", provider_id=sid, channel="sms", sender=sender, recipient=to,
                             body=(post.form.get("Body") or [""])[-1], received_at=iso(deps.clock.now()),
                             attachments=attachments)
    return receive(deps, owner.account_id, message, hint)


def messenger_arrived(deps: Deps, pages: list[tuple[str, list[InboundMessage]]]) -> None:
    """Meta's webhook, signature checked: the customers' messages of each page, to the page's store."""
    for page_id, messages in pages:
        account_id = deps.accounts.page_owner(page_id) if page_id else None
        if account_id is None:
            logger.warning("messenger event for a page no store owns")
            continue
        for message in messages:
            receive(deps, account_id, message)


def receive(deps: Deps, account_id: str, msg: InboundMessage, hint: SenderHint | None = None) -> InboundResult:
    """The webhook's part. Idempotent on the provider's message id. `hint`: the SMS sender's pointer
    as the webhook read it (None: there is none, or not an SMS)."""
    keyword = meaning.consent_of(msg)
    found = find_conversation(deps, account_id, msg, hint)
    if found.lead_id is not None:
        try:
            return attach(deps, account_id, found.lead_id, msg, keyword, message_dedup(deps, account_id, msg),
                          found=found, pointer=hint)
        except NotThisLead:
            pass
    if keyword == "help" and msg.channel == "sms":
        account = found.store or (found.routing.account if found.routing else None) or deps.accounts.require(account_id)
        return InboundResult(reply=rules.help_reply(account.name))
    if keyword in ("stop", "start"):
        # Nobody to opt out or in: no lead of this store has this contact.
        return InboundResult()
    from chalicelib.services.new_contact import make_lead

    return make_lead(deps, account_id, msg, {"lead_id": found.lead_id} if found.lead_id else None, found.routing)


def find_conversation(deps: Deps, account_id: str, msg: InboundMessage, hint: SenderHint | None) -> Conversation:
    """The store's lead of the sender, by its contact key. With a pointer to this store the contact key
    is read together with the lead, store and owner it names (what of them holds is kept); without
    one, the contact key alone (attach reads the rest)."""
    kind = CONTACT_KIND[msg.channel]
    if hint is not None and meaning.hint_counts(hint, account_id):
        return meaning.verified(deps.leads.conversation(account_id, kind, msg.sender, hint.lead_id, hint.owner_id))
    # No pointer: most likely a new contact, whose lead is made and routed here on the store's routing.
    contact, routing = deps.leads.contact_and_routing(account_id, kind, msg.sender)
    return Conversation(lead_id=contact["lead_id"] if contact else None, routing=routing)


def message_dedup(deps: Deps, account_id: str, msg: InboundMessage) -> DedupWrite:
    """The write of the message's dedup key (its provider's id), given the lead and message it became."""
    def record(lead_id: str, message_id: str) -> Write:
        return deps.deliveries.record(msg.provider, msg.provider_id, dedup_ttl(deps), lead_id=lead_id,
                                      message_id=message_id, account_id=account_id)

    return record


def repeated(deps: Deps, msg: InboundMessage, reply: str | None = None) -> InboundResult | None:
    """What an earlier delivery of the message made, if one was recorded (None: it was not)."""
    seen = deps.deliveries.seen(msg.provider, msg.provider_id)
    if not seen or not seen.get("message_id"):
        return None
    logger.info("repeated inbound message ignored", extra={"provider_id": msg.provider_id})
    return InboundResult(duplicate=True, lead_id=seen.get("lead_id"), message_id=seen["message_id"], reply=reply)


def attach(deps: Deps, account_id: str, lead_id: str, msg: InboundMessage, keyword: rules.Consent | None,
           dedup: DedupWrite, *, found: Conversation | None = None, pointer: SenderHint | None = None,
           ) -> InboundResult:
    """Store the message on the lead (with its consent effect, HELP answer and the owner's alert) in
    one transaction. The lead and its store are read together (or come `found` with the owner), the
    owner's record before deciding. An SMS also points its sender at the lead for the next message,
    when the pointer the webhook read (`pointer`) says otherwise."""
    # One reading stamps the customer's message: its id, its `at`, last_message_at. Everything this
    # change adds in answer reads the clock after it (max: a wall clock stepped back cannot put it
    # before), so the timeline (by `at`, then id) never shows an answer before its question.
    now = deps.clock.now()
    message_id = new_id("msg", now)
    known: Lead | None
    if found is not None and found.lead is not None and found.lead.lead_id == lead_id:
        known, store = found.lead, found.store
    else:
        known, store = deps.leads.with_store(lead_id, account_id)
    store = store or deps.accounts.require(account_id)
    help_text = rules.help_reply(store.name) if keyword == "help" else None
    owner = _owner(deps, known, keyword, found)

    def decide(lead: Lead) -> Change[Told]:
        later = max(deps.clock.now(), now)
        said = meaning.message_on_lead(lead, msg, keyword, message_id, now, later, help_text)
        change: Change[Told] = Change(updates=said.updates, events=said.events, scores=said.scores,
                                      reports=said.reports, writes=[*said.writes, dedup(lead.lead_id, message_id)])
        if said.result is not None:
            change.writes.append(deps.outbox.add(said.result, iso(now + QUEUED_GRACE)))
        after = next_version(lead, **change.updates)
        alerted = _owner_alert(deps, after, msg, keyword, owner, store)
        if alerted is not None:
            change.writes.extend(alerted.writes(deps))
        if msg.channel == "sms" and meaning.pointer_of(after) != pointer:
            change.writes.append(pointer_write(deps, msg.recipient, msg.sender, meaning.pointer_of(after)))
        change.result = Told(said.result, alerted)
        return change

    try:
        saved = change_lead(deps, lead_id, decide, touch=True, known=known)
    except LostRace:  # DuplicateDelivery, or a delivery of the same message racing this one
        earlier = repeated(deps, msg, help_text if msg.channel == "sms" else None)
        if earlier is None:
            raise
        return earlier
    told = saved.result
    if told is not None and told.reply is not None:
        enqueue_send(deps, told.reply.message_id)
    lead = saved.lead
    copy_media_later(deps, lead, message_id, msg)
    if told is not None and told.alerted is not None:
        _send_alert(deps, lead, told.alerted)
    elif meaning.tells_owner(lead, keyword):
        _tell_owner(deps, lead, msg)  # the owner changed meanwhile: read and told now
    logger.info("inbound message stored", extra={"lead_id": lead.lead_id, "message_id": message_id,
                                                 "consent": keyword or ""})
    return InboundResult(reply=help_text if msg.channel == "sms" else None, lead_id=lead.lead_id,
                         message_id=message_id)


def _owner(deps: Deps, lead: Lead | None, keyword: rules.Consent | None, found: Conversation | None) -> User | None:
    """The record of the owner the message alerts: the one read with the lead, else read now."""
    if lead is None or not lead.assigned_to or not meaning.tells_owner(lead, keyword):
        return None
    if found is not None and found.owner is not None and found.owner.user_id == lead.assigned_to:
        return found.owner
    return deps.users.get(lead.assigned_to)


@dataclass(frozen=True)
class Told:
    """What storing a customer's message decided besides the lead: the HELP answer to send, the
    owner's alert (its in-app notification written with the message; email / SMS queued after)."""

    reply: OutboxMessage | None
    alerted: Notices | None


def _owner_alert(deps: Deps, lead: Lead, msg: InboundMessage, keyword: rules.Consent | None, owner: User | None,
                 store: Account) -> Notices | None:
    """The owner's `customer_replied` alert, if the lead as this change leaves it tells the owner read before."""
    from chalicelib.services.alerts import alert_of, deadline_timing

    if owner is None or lead.assigned_to != owner.user_id or not meaning.tells_owner(lead, keyword):
        return None
    said = alert_of(deps, "customer_replied", lead, message=msg.body or "(a picture)",
                    timing=deadline_timing(lead, deps.clock.now()), store=store)
    return notices(deps, [owner], said)


def _send_alert(deps: Deps, lead: Lead, alerted: Notices) -> None:
    try:
        send_deliveries(deps, alerted.deliveries)
    except Exception:
        # The message and the in-app alert are stored; a lost email / SMS alert must not make the
        # provider deliver the message again.
        logger.exception("customer_replied alert failed", extra={"lead_id": lead.lead_id})


def copy_media_later(deps: Deps, lead: Lead, message_id: str, msg: InboundMessage) -> None:
    """The provider's files of a stored message go into the media bucket on the inbound queue."""
    items = [MediaItem(attachment_id=a["attachment_id"], url=a["url"], content_type=a.get("content_type"))
             for a in msg.attachments if a.get("url") and a.get("attachment_id") and not a.get("key")]
    if items:
        job = CopyMedia(account_id=lead.account_id, lead_id=lead.lead_id, message_id=message_id, items=items)
        deps.queues.send(INBOUND, job.model_dump(mode="json", exclude_none=True))


def _tell_owner(deps: Deps, lead: Lead, msg: InboundMessage) -> None:
    """The owner hears of the customer's message at once, with the time left to answer it."""
    from chalicelib.services.alerts import alert, deadline_timing, user_named

    try:
        alert(deps, "customer_replied", lead, [u for u in [user_named(deps, lead.assigned_to)] if u],
              message=msg.body or "(a picture)", timing=deadline_timing(lead, deps.clock.now()))
    except Exception:
        # The message is stored; a lost alert must not make the provider deliver it again.
        logger.exception("customer_replied alert failed", extra={"lead_id": lead.lead_id})
