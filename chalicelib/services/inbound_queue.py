"""The inbound queue's jobs (handlers/conversations.py): what a customer's message sets off that
the webhook must not wait for — copying an MMS's pictures, a store's inbound email, and making +
routing a lead for an unknown sender (services/intake.receive_lead). The webhook's part is
services/inbound.py; the lead's language is set on the table's stream (services/language.py)."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain import inbound as meaning
from chalicelib.domain.changes import Write
from chalicelib.domain.errors import DomainError, NotFound
from chalicelib.domain.inbound import CONTACT_KIND, InboundMessage, NotThisLead
from chalicelib.observability import logger
from chalicelib.schemas.queues import CopyMedia, InboundBody, SesMailReceived
from chalicelib.services.inbound import InboundResult, attach, copy_media_later, dedup_ttl

# A claim on a new sender's message older than this was left by a consumer that crashed.
CLAIM_STALE = timedelta(seconds=60)


class InboundBusy(Exception):
    """Another consumer is creating the lead for this very message: try again later."""


def process_job(deps: Deps, job: InboundBody) -> None:
    if isinstance(job, CopyMedia):
        from chalicelib.services.attachments import copy_inbound

        copy_inbound(deps, job)
    elif isinstance(job, SesMailReceived):
        from chalicelib.services.email_in import ses_mail_arrived

        ses_mail_arrived(deps, job)
    else:
        from_new_contact(deps, job.account_id, job.message)


def from_new_contact(deps: Deps, account_id: str, msg: InboundMessage) -> InboundResult:
    """An unknown sender: make the lead (routed by intake) with the message (marked for its language)
    and the claim's completion in intake's one transaction. The provider's message id is claimed
    first, so two deliveries cannot make two leads."""
    from chalicelib.services.intake import Arrival, receive_lead

    now = deps.clock.now()
    if not deps.deliveries.claim(msg.provider, msg.provider_id, dedup_ttl(deps), iso(now), iso(now - CLAIM_STALE)):
        seen = deps.deliveries.seen(msg.provider, msg.provider_id)
        if seen and seen.get("message_id"):
            return InboundResult(duplicate=True, lead_id=seen.get("lead_id"), message_id=seen["message_id"])
        raise InboundBusy(msg.provider_id)

    def finish(lead_id: str, message_id: str) -> Write:
        return deps.deliveries.finish(msg.provider, msg.provider_id, lead_id, message_id)

    # A lead for this contact may have appeared since the webhook looked (another channel, a twin); read
    # with the store, its routing config and rotation, on which the new lead's first offer is decided.
    kind = CONTACT_KIND[msg.channel]
    contact, routing = deps.leads.contact_and_routing(account_id, kind, msg.sender)
    if contact:
        try:
            return attach(deps, account_id, contact["lead_id"], msg, None, finish)
        except NotThisLead:
            pass
    account = NotFound.unless(routing.account, "account")
    arrival = Arrival(fields=meaning.new_lead_fields(msg), finish=finish,
                      seen={(kind, msg.sender): contact})
    try:
        result = receive_lead(deps, account, meaning.new_lead_request(msg), routing=routing, arrival=arrival)
    except DomainError as exc:
        # A sender intake cannot accept (a short code, a malformed id): nothing to retry.
        logger.warning("inbound sender refused by intake", extra={"code": exc.code, "account_id": account_id})
        deps.transactions.commit([finish("none", "refused")])
        return InboundResult()
    lead, made = result.lead, result.message_id
    if result.created and made is None:
        # No text (a picture alone): intake recorded no message; this records it.
        return attach(deps, account_id, lead.lead_id, msg, None, finish)
    if made is not None:
        copy_media_later(deps, lead, made, msg)
    # A new lead with its message, or the request joined a lead that appeared meanwhile: intake's
    # transaction recorded it and completed the claim.
    return InboundResult(lead_id=lead.lead_id, message_id=made)
