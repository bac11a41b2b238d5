"""Lead intake: every path that brings a customer's request (the JSON route, ADF documents,
provider webhooks, inbound SMS and Messenger) ends here.

A request whose phone, email or Messenger id matches an open lead of the same store
(within the store's `coalesce_window_days` of that lead's latest request) joins that lead
instead of making a new one. The match is made atomic by the store's contact keys: a new
lead is written in one transaction with conditional puts of its contact keys, so two
identical requests racing each other cannot both create a lead; the loser reads the
winner's keys on its retry and coalesces into it.

A provider delivers the same ADF document again when it missed our answer (or a document
failed halfway): each prospect carries a delivery key — the provider's lead `<id>`, else a
digest of the prospect — written in the same transaction as the lead it made, so a repeat
answers what the first delivery did and changes nothing (no second coalesce, no second credit)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain import cadence_rules
from chalicelib.domain.accounts import Account
from chalicelib.domain.changes import Change, Write
from chalicelib.domain.errors import Conflict, ContactTaken, DuplicateDelivery, LostRace
from chalicelib.domain.inbound import first_words, for_language
from chalicelib.domain.intake import (
    CONTACT_KINDS,
    Contact,
    clean,
    joinable,
    normalize_contact,
    preview,
    read_adf,
    report_data,
    request_fields,
)
from chalicelib.domain.leads import Lead, NewLead
from chalicelib.domain.routing import StoreRouting
from chalicelib.domain.targets import customer_wrote
from chalicelib.domain.timeline import Message
from chalicelib.ids import new_id
from chalicelib.observability import logger
from chalicelib.services.cadence_steps import arrival_cadences, enrol_on_arrival, first_step
from chalicelib.services.lead_changes import change_lead, report_event, score_event, timeline_event
from chalicelib.services.sender_pointers import owner_pointer

# Ten identical requests at once means up to nine coalescing into one lead at the same moment;
# each lost race re-reads and retries, so allow more rounds than change_lead's default.
ATTEMPTS = 30
# How long a repeated delivery of an ADF prospect is recognised (after that it coalesces).
DELIVERY_DAYS = 30
DELIVERY_SOURCE = "adf"


@dataclass(frozen=True)
class IntakeResult:
    lead: Lead
    coalesced_into: str | None
    created: bool
    # The inbound message event written for the request's message, when a new lead was created.
    message_id: str | None = None


class _NoLongerOpen(Exception):
    """The lead we meant to coalesce into closed or left the window meanwhile: decide again."""


@dataclass(frozen=True)
class Arrival:
    """What a provider's message from an unknown sender (SMS, Messenger message or email;
    services/new_contact.py) adds to the transaction that makes or joins the lead: the new lead's
    `fields` (an email's thread), and `dedup`, the write of the message's dedup key, given the lead and
    what recorded the message (its id, or "coalesced"). With it, intake does not decide again on a lost
    race of the message's own: DuplicateDelivery (a delivery of it won) and ContactTaken (another
    message of the sender made the lead: the caller stores this one on it) reach the caller."""

    fields: dict[str, Any]
    dedup: Callable[[str, str], Write]
    # Contact keys the caller just read, by (kind, value): intake's first attempt does not read them again.
    seen: dict[tuple[str, str], dict[str, Any] | None] | None = None


def receive_lead(deps: Deps, account: Account, data: NewLead, *, by: str | None = None,
                 delivery: str | None = None, routing: StoreRouting | None = None,
                 arrival: Arrival | None = None) -> IntakeResult:
    """Create a lead for a request, or join it to the store's open lead of the same contact.
    `delivery` names the request for a provider that may send it again (see the module's note);
    `routing`: the store's record, config and rotation if the caller read them (a new lead's first
    offer is then decided without reading them again); `arrival`: see Arrival."""
    contact = normalize_contact(account, data)
    repo = deps.leads
    for attempt in range(ATTEMPTS):
        if delivery is not None:
            earlier = deps.deliveries.seen(DELIVERY_SOURCE, delivery)
            if earlier is not None:
                return IntakeResult(lead=repo.require(earlier["lead_id"]), created=False,
                                    coalesced_into=earlier.get("coalesced_into"))
        seen = _known(arrival, contact) if attempt == 0 else None
        if seen is None:
            seen = repo.contacts(account.account_id, contact.points())
        target = _open_lead_to_join(deps, account, seen)
        if target is not None:
            try:
                return _coalesce(deps, account, target, data, contact, seen, by, delivery, arrival)
            except _NoLongerOpen:
                continue
            except LostRace as exc:
                _unless_the_arrivals_own(exc, arrival)
                continue
        try:
            return _create(deps, account, data, contact, seen, by, delivery, routing, arrival)
        except LostRace as exc:
            # Another request claimed one of the contact keys (or the delivery) first: read them again.
            _unless_the_arrivals_own(exc, arrival)
            continue
    raise Conflict("too many requests for this contact at once; try again", code="busy")


def _unless_the_arrivals_own(exc: LostRace, arrival: Arrival | None) -> None:
    """An arrival's own races go to its caller (Arrival); any other lost race is decided again (an ADF
    delivery's repeat, for one, finds the earlier delivery's answer on the next attempt)."""
    if arrival is not None and isinstance(exc, DuplicateDelivery | ContactTaken):
        raise exc


def _known(arrival: Arrival | None, contact: Contact) -> dict[str, dict[str, Any] | None] | None:
    """The request's contact keys by kind, if the caller read every one of them."""
    given = arrival.seen if arrival is not None else None
    if given is None or any(point not in given for point in contact.points()):
        return None
    return {kind: given[(kind, value)] for kind, value in contact.points()}


def _delivery_write(deps: Deps, delivery: str, lead_id: str, coalesced_into: str | None) -> Write:
    ttl = int((deps.clock.now() + timedelta(days=DELIVERY_DAYS)).timestamp())
    recorded = {"lead_id": lead_id, **({"coalesced_into": coalesced_into} if coalesced_into else {})}
    return deps.deliveries.record(DELIVERY_SOURCE, delivery, ttl, **recorded)


def receive_adf(deps: Deps, account: Account, document: bytes, *, by: str | None = None) -> list[IntakeResult]:
    """An ADF document's prospects, each through `receive_lead` (so each may coalesce). A repeated
    document — or one retried after a failure halfway — answers as the first delivery did."""
    return [receive_lead(deps, account, request, by=by, delivery=delivery)
            for request, delivery in read_adf(account, document)]


def find_open_lead(deps: Deps, account_id: str, kind: str, value: str) -> Lead | None:
    """The store's open lead of a contact (kind: phone (E.164) | email | messenger (PSID)), whatever its age.

    Inbound messages use it to join a conversation; coalescing of new requests also applies the window."""
    if kind not in CONTACT_KINDS:
        raise ValueError(f"unknown contact kind {kind}")
    if kind == "email":
        value = value.strip().lower()
    found = deps.leads.contact(account_id, kind, value)
    if not found:
        return None
    lead = deps.leads.get(found["lead_id"])
    return lead if lead is not None and lead.is_open else None


# -- the two outcomes ------------------------------------------------------------------

def _open_lead_to_join(deps: Deps, account: Account, seen: dict[str, dict[str, Any] | None]) -> Lead | None:
    now = iso(deps.clock.now())
    checked: set[str] = set()
    for kind in CONTACT_KINDS:  # phone first: the strongest identity of a dealer's customer
        found = seen.get(kind)
        if not found or found["lead_id"] in checked:
            continue
        checked.add(found["lead_id"])
        lead = deps.leads.get(found["lead_id"])
        if lead is not None and joinable(lead, account, now):
            return lead
    return None


def _create(deps: Deps, account: Account, data: NewLead, contact: Contact, seen: dict[str, dict[str, Any] | None],
            by: str | None, delivery: str | None, routing: StoreRouting | None,
            arrival: Arrival | None) -> IntakeResult:
    repo = deps.leads
    now_dt = deps.clock.now()
    now = iso(now_dt)
    message = (data.message or "").strip() or None
    message_id = new_id("msg", now_dt) if message else None
    channel = data.channel or ("messenger" if contact.messenger else "web")
    lead = Lead(
        lead_id=new_id("lead", now_dt), account_id=account.account_id, group_id=account.group_id,
        first_name=clean(data.first_name), last_name=clean(data.last_name),
        phone=contact.phone, email=contact.email, messenger_psid=contact.messenger,
        source=clean(data.source) or "Unknown", source_group=clean(data.source_group),
        campaign=clean(data.campaign), channel=channel, vehicle=data.vehicle,
        received_at=iso(data.received_at) if data.received_at else now,
        created_at=now, last_activity_at=now, last_request_at=now,
        # A new request waits for the store's first reply from the moment it arrives.
        awaiting_since=now,
        last_message_at=now if message else None, last_message_preview=preview(message),
        **(arrival.fields if arrival is not None else {}),
    )
    # A new-lead cadence whose `match` fits enrols the lead in the change that creates it.
    cadence, enrolment = enrol_on_arrival(deps, lead, arrival_cadences(deps, account.account_id, routing))
    if enrolment is not None:
        lead = lead.model_copy(update={"cadence": enrolment})
    # The message's dedup key first: a repeated delivery is named as one even when its twin's lead
    # also took the contact key (the adapter names the first write whose condition failed).
    writes = [arrival.dedup(lead.lead_id, message_id)] if arrival is not None and message_id else []
    writes += repo.create(lead)
    for kind, value in contact.points():
        prior = seen.get(kind)
        writes.append(repo.claim_contact(account.account_id, kind, value, lead.lead_id, now,
                                         prior["lead_id"] if prior else None))
    # The SMS webhook finds the lead of this phone on the store's number in one read with the lead.
    writes += owner_pointer(deps, lead, None, account)
    writes.append(repo.add_event(timeline_event(deps, lead, "created", by, **request_fields(lead, data))))
    if message and message_id:
        body = Message(message_id=message_id, direction="inbound", channel=channel, body=message, status="received",
                       provider_id=data.provider_message_id, attachments=data.attachments, subject=data.subject)
        said = timeline_event(deps, lead, "message", None, event_id=message_id, **body.model_dump(exclude_none=True))
        # A customer's own first words (not a form's): the stream consumer detects the lead's language from them.
        writes.append(repo.add_event(for_language(said, arrival is not None and first_words(lead, message))))
        writes.append(repo.add_report(report_event(deps, lead, "message_inbound", channel=channel)))
    writes.append(repo.add_report(report_event(deps, lead, "lead_received", **report_data(lead.received_at, data,
                                                                                        contact, channel))))
    if enrolment is not None:
        enrolled = cadence_rules.enrolled(lead, enrolment, deps.clock.now())
        writes += [*(repo.add_event(e) for e in enrolled.events), *(repo.add_report(r) for r in enrolled.reports)]
    if delivery is not None:
        writes.append(_delivery_write(deps, delivery, lead.lead_id, None))
    deps.transactions.commit(writes)
    logger.info("lead created", extra={"lead_id": lead.lead_id, "account_id": account.account_id})
    # Before routing: a first touch due at once goes out first. Routing takes the lead as the step
    # saved it (or as written here): it is not read again.
    from chalicelib.services.routing import route_new_lead

    route_new_lead(deps, first_step(deps, lead, cadence, account), routing)
    return IntakeResult(lead=lead, coalesced_into=None, created=True, message_id=message_id)


def _coalesce(deps: Deps, account: Account, target: Lead, data: NewLead, contact: Contact,
              seen: dict[str, dict[str, Any] | None], by: str | None, delivery: str | None,
              arrival: Arrival | None) -> IntakeResult:
    repo = deps.leads
    message = (data.message or "").strip() or None
    channel = data.channel or ("messenger" if contact.messenger else "web")

    def decide(lead: Lead) -> Change[None]:
        now = iso(deps.clock.now())
        if not joinable(lead, account, now):
            raise _NoLongerOpen
        updates: dict[str, Any] = {"last_request_at": now}
        # What the repeat tells us that the lead did not know yet.
        for name, value in (("first_name", clean(data.first_name)), ("last_name", clean(data.last_name)),
                            ("phone", contact.phone), ("email", contact.email),
                            ("messenger_psid", contact.messenger), ("vehicle", data.vehicle)):
            if value is not None and getattr(lead, name) is None:
                updates[name] = value
        if message:
            updates.update(last_message_at=now, last_message_preview=preview(message))
            if lead.awaiting_since is None:
                updates["awaiting_since"] = now
        # A repeat request to an owned lead is a new request to answer: its first response is due.
        updates.update(customer_wrote(lead, deps.clock.now(), "first_response"))
        received_at = iso(data.received_at) if data.received_at else now
        event_data = request_fields(lead, data, contact=contact, received_at=received_at)
        if message:
            event_data["message"] = message
        events = [timeline_event(deps, lead, "coalesced", by, **event_data)]
        scores = [score_event(deps, lead, lead.assigned_to, "coalesced")] if lead.assigned_to else []
        reports = [report_event(deps, lead, "lead_coalesced", coalesced_into=lead.lead_id,
                                **report_data(received_at, data, contact, channel))]
        # Contact points the lead did not have yet now lead here too, if nobody holds them.
        writes = [repo.claim_contact(account.account_id, kind, value, lead.lead_id, now, None)
                  for kind, value in contact.points() if not seen.get(kind)]
        if delivery is not None:
            writes.append(_delivery_write(deps, delivery, lead.lead_id, lead.lead_id))
        if arrival is not None:
            writes.append(arrival.dedup(lead.lead_id, "coalesced"))
        return Change(updates=updates, events=events, scores=scores, reports=reports, writes=writes)

    lead = change_lead(deps, target.lead_id, decide, attempts=ATTEMPTS, touch=True).lead
    logger.info("lead coalesced", extra={"lead_id": lead.lead_id, "account_id": account.account_id})
    if lead.assigned_to:
        from chalicelib.services.alerts import alert, deadline_timing, user_named

        alert(deps, "customer_replied", lead, [u for u in [user_named(deps, lead.assigned_to)] if u],
              message=message or f"sent another request ({clean(data.source) or lead.source})",
              timing=deadline_timing(lead, deps.clock.now()))
    return IntakeResult(lead=lead, coalesced_into=lead.lead_id, created=False)


