"""A message from a sender no open lead of the store knows: the lead it starts, made where the message
arrives (the SMS and Messenger webhooks; an email on the inbound queue's consumer) and routed by intake.

No claim is taken first: the provider's message id is a dedup key written inside intake's transaction,
beside the lead's contact key. Of two deliveries of one message racing (a provider's retry, two
webhooks at once) one transaction commits; the other fails on the dedup key (DuplicateDelivery) and
answers as a repeat. Of two messages of one new sender racing, the loser fails on the contact key
(ContactTaken) and is stored on the lead the winner made, as any message on an open lead."""

from __future__ import annotations

from typing import Any

from chalicelib.deps import Deps
from chalicelib.domain import inbound as meaning
from chalicelib.domain.errors import Conflict, ContactTaken, DomainError, DuplicateDelivery
from chalicelib.domain.inbound import CONTACT_KIND, InboundMessage, NotThisLead
from chalicelib.domain.routing import StoreRouting
from chalicelib.observability import logger
from chalicelib.services.inbound import InboundResult, attach, copy_media_later, message_dedup, repeated
from chalicelib.services.intake import Arrival, receive_lead

# Messages of one new sender racing each other: each lost race reads the contact key again.
ATTEMPTS = 5


def make_lead(deps: Deps, account_id: str, msg: InboundMessage, contact: dict[str, Any] | None = None,
              routing: StoreRouting | None = None) -> InboundResult:
    """`contact` (the sender's contact key: None, or a lead already tried and closed) and `routing` (the
    store's) as the caller read them together (LeadStore.contact_and_routing); without `routing` both
    are read here."""
    kind = CONTACT_KIND[msg.channel]
    tried = contact["lead_id"] if contact else None
    for _ in range(ATTEMPTS):
        if routing is None:
            contact, routing = deps.leads.contact_and_routing(account_id, kind, msg.sender)
            if contact is not None and contact["lead_id"] != tried:
                # The sender's lead appeared since the caller looked (another channel, a twin message).
                try:
                    return on_lead(deps, account_id, contact["lead_id"], msg)
                except NotThisLead:
                    tried = contact["lead_id"]
        try:
            return _start_lead(deps, account_id, msg, contact, routing)
        except ContactTaken:
            routing = None  # another message of the sender made the lead: read its contact key again
    raise Conflict("too many messages from this sender at once; try again", code="busy")


def on_lead(deps: Deps, account_id: str, lead_id: str, msg: InboundMessage) -> InboundResult:
    """The message stored on the sender's lead, with its dedup key. Raises NotThisLead (a closed lead)."""
    return attach(deps, account_id, lead_id, msg, None, message_dedup(deps, account_id, msg))


def _start_lead(deps: Deps, account_id: str, msg: InboundMessage, contact: dict[str, Any] | None,
                routing: StoreRouting) -> InboundResult:
    if routing.account is None:
        logger.warning("message for a store that no longer exists", extra={"account_id": account_id})
        return InboundResult()
    arrival = Arrival(fields=meaning.new_lead_fields(msg), dedup=message_dedup(deps, account_id, msg),
                      seen={(CONTACT_KIND[msg.channel], msg.sender): contact})
    try:
        result = receive_lead(deps, routing.account, meaning.new_lead_request(msg), routing=routing, arrival=arrival)
    except DuplicateDelivery:
        earlier = repeated(deps, msg)
        if earlier is None:
            raise
        return earlier
    except Conflict:
        raise  # ContactTaken (make_lead reads the contact again), or intake too busy: a 409 "busy"
    except DomainError as exc:
        # A sender intake cannot accept (a short code, a malformed id): every delivery is refused alike.
        logger.warning("inbound sender refused by intake", extra={"code": exc.code, "account_id": account_id})
        return InboundResult()
    lead, made = result.lead, result.message_id
    if result.created and made is None:
        # No text (a picture alone): intake recorded no message; this records it.
        return on_lead(deps, account_id, lead.lead_id, msg)
    if made is not None:
        copy_media_later(deps, lead, made, msg)
    logger.info("lead made from a new contact's message", extra={"lead_id": lead.lead_id, "account_id": account_id})
    # A new lead with its message, or the request joined a lead that appeared meanwhile: intake's
    # transaction recorded it with its dedup key.
    return InboundResult(lead_id=lead.lead_id, message_id=made)
