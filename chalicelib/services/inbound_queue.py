"""The inbound queue's jobs (handlers/conversations.py): what a customer's message sets off that
the webhook must not wait for — detecting a lead's language (lingua loads its models on first use),
copying an MMS's pictures, a store's inbound email, and making + routing a lead for an unknown
sender (services/intake.receive_lead). The webhook's part is services/inbound.py."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain import inbound as meaning
from chalicelib.domain.changes import Change, Write
from chalicelib.domain.errors import DomainError, NotFound
from chalicelib.domain.inbound import CONTACT_KIND, InboundMessage, NotThisLead
from chalicelib.domain.leads import Lead
from chalicelib.observability import logger
from chalicelib.schemas.queues import CopyMedia, DetectLanguage, InboundBody, SesMailReceived
from chalicelib.services.inbound import InboundResult, attach, copy_media_later, dedup_ttl
from chalicelib.services.lead_changes import change_lead

# A claim on a new sender's message older than this was left by a consumer that crashed.
CLAIM_STALE = timedelta(seconds=60)


class InboundBusy(Exception):
    """Another consumer is creating the lead for this very message: try again later."""


def process_job(deps: Deps, job: InboundBody) -> None:
    if isinstance(job, DetectLanguage):
        set_language(deps, job.lead_id, job.text, job.lead)
    elif isinstance(job, CopyMedia):
        from chalicelib.services.attachments import copy_inbound

        copy_inbound(deps, job)
    elif isinstance(job, SesMailReceived):
        from chalicelib.services.email_in import ses_mail_arrived

        ses_mail_arrived(deps, job)
    else:
        from_new_contact(deps, job.account_id, job.message)


def set_language(deps: Deps, lead_id: str, text: str, known: Lead | None = None) -> str | None:
    """The lead's language from its customer's words, unless it has one. `known`: the lead as the job
    carries it (not read first; if it moved on, the save fails on its version and it is read again)."""
    from chalicelib.adapters.language import detect_language

    language = detect_language(text)
    if language is None:
        return None

    def decide(lead: Lead) -> Change[None] | None:
        return None if lead.language else Change(updates={"language": language})

    change_lead(deps, lead_id, decide, known=known if known is not None and known.lead_id == lead_id else None)
    return language


def from_new_contact(deps: Deps, account_id: str, msg: InboundMessage) -> InboundResult:
    """An unknown sender: make the lead (routed by intake) with the message, its language and the
    claim's completion in intake's one transaction. The provider's message id is claimed first, so
    two deliveries cannot make two leads."""
    from chalicelib.adapters.language import detect_language
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
    arrival = Arrival(fields=meaning.new_lead_fields(msg, detect_language(msg.body)), finish=finish,
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
