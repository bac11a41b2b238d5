"""Click-to-call through Twilio Voice: an agent calls a lead from the store's number.

1. `start_call` writes the lead's `call` event (queued), then asks the dialer to ring the agent's
   own phone from the store's number, and records the provider's call SID on the event.
2. When the agent answers, Twilio fetches `/webhooks/twilio/voice`: `voice_answered` returns the
   bridge (a whisper naming the lead, then the customer dialled from the store's number).
3. Both legs report to `/webhooks/twilio/call-status`: `call_status_arrived` folds each status into
   the one event (domain/calls.fold). The customer's leg completing is a human answer: the response
   clock (domain/records.human_response), awaiting cleared — in the same transaction as the event.

Webhooks are signed like SMS (services/signing.py) with the token of the Twilio account the store
is on; nothing is read on a caller's behalf beyond the lead, and nothing written, before the check.
Opted-out leads can still be called: opting out stops messages, not a person's call."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain import calls as rules
from chalicelib.domain.changes import Change
from chalicelib.domain.conversations import smart_field_values
from chalicelib.domain.errors import Conflict, LostRace, ValidationFailed, VersionConflict
from chalicelib.domain.leads import Lead, lock_kept
from chalicelib.domain.messaging import SendFailed
from chalicelib.domain.records import human_response
from chalicelib.domain.tenancy import Principal
from chalicelib.domain.timeline import TimelineEvent
from chalicelib.ids import new_id
from chalicelib.observability import logger
from chalicelib.services.access import MAX_ID_CHARS, visible_lead
from chalicelib.services.lead_changes import change_lead, timeline_event
from chalicelib.services.signing import TwilioPost, check_twilio

VOICE_PATH = "/webhooks/twilio/voice"
STATUS_PATH = "/webhooks/twilio/call-status"
# Where the sandbox's made-up callbacks point when the stage has no public URL (tests): never called.
SANDBOX_BASE = "https://sandbox.invalid"
ATTEMPTS = 5


def _callback(deps: Deps, path: str, **query: str) -> str:
    base = deps.settings.public_base_url.rstrip("/")
    if not base:
        if deps.settings.sender_mode != "sandbox":
            raise Conflict("calls need the stage's public URL (LEADLINE_PUBLIC_BASE_URL) for Twilio's webhooks",
                           code="calls_not_configured")
        base = SANDBOX_BASE
    return f"{base}{path}?{urlencode(query)}"


def start_call(deps: Deps, actor: Principal, lead_id: str) -> dict[str, Any]:
    lead = visible_lead(deps, actor, lead_id)
    lock_kept(lead, actor.user_id, deps.clock.now())
    if not lead.phone:
        raise Conflict("the lead has no phone number to call", code="no_phone")
    agent = deps.users.get(actor.user_id)
    if agent is None or not agent.phone:
        raise Conflict("you have no phone number to ring: add one to your profile (PATCH /me {\"phone\"})",
                       code="no_agent_phone")
    account = deps.accounts.require(lead.account_id)
    if not account.sms_number:
        raise Conflict("the store has no phone number to call from (sms_number)", code="no_store_number")
    now = deps.clock.now()
    call_id = new_id("call", now)
    answer_url = _callback(deps, VOICE_PATH, lead_id=lead.lead_id, call_id=call_id)
    status_url = _callback(deps, STATUS_PATH, lead_id=lead.lead_id, call_id=call_id, leg="agent")
    data: dict[str, Any] = {"call_id": call_id, "status": "queued", "to": lead.phone, "from": account.sms_number,
                            "version": 0}

    def decide(current: Lead) -> Change[None]:
        event = timeline_event(deps, current, "call", actor.user_id, event_id=call_id, **data)
        return Change(updates=lock_kept(current, actor.user_id, deps.clock.now()), events=[event])

    change_lead(deps, lead.lead_id, decide, touch=True)
    try:
        sid = deps.dialer.place(rules.CallRequest(
            to=agent.phone, caller_id=account.sms_number, answer_url=answer_url, status_url=status_url,
            call_id=call_id, account_id=account.account_id, customer=lead.phone,
            twilio_account_sid=account.twilio_account_sid))
    except SendFailed as exc:
        logger.warning("call refused by the provider", extra={"lead_id": lead.lead_id, "call_id": call_id})
        failed = {"status": "failed", "error": str(exc)[:300], "ended_at": iso(deps.clock.now())}
        _update(deps, lead.lead_id, call_id, lambda _call: failed)
        return {"call_id": call_id, "status": "failed"}
    status = _update(deps, lead.lead_id, call_id, lambda call: {"provider_id": sid})
    logger.info("call placed", extra={"lead_id": lead.lead_id, "call_id": call_id})
    return {"call_id": call_id, "status": status or "queued"}


def _update(deps: Deps, lead_id: str, call_id: str, fields_of: Any) -> str | None:
    """Set what `fields_of(call data)` says on the call event, read again after a racing update."""
    for _ in range(ATTEMPTS):
        event = deps.leads.event(lead_id, call_id)
        if event is None:
            return None
        fields = fields_of(event.data)
        try:
            deps.transactions.commit([deps.calls.update(lead_id, call_id, fields, int(event.data.get("version", 0)))])
        except VersionConflict:
            continue
        return str(fields.get("status") or event.data.get("status"))
    raise Conflict("the call is changing too fast; try again", code="busy")


# -- the webhooks ----------------------------------------------------------------------------------

def _signed_call(deps: Deps, post: TwilioPost, query: dict[str, str]) -> tuple[Lead, TimelineEvent] | None:
    """Check the signature with the token of the store's Twilio account (the lead names the store),
    then find the call; None for a genuine callback about a call we do not have."""
    lead_id, call_id = query.get("lead_id", ""), query.get("call_id", "")
    lead = deps.leads.get(lead_id) if 0 < len(lead_id) <= MAX_ID_CHARS else None
    account = deps.accounts.get(lead.account_id) if lead is not None else None
    check_twilio(deps, post, account.account_id if account else None,
                 account.twilio_account_sid if account else None)
    if lead is None or not 0 < len(call_id) <= MAX_ID_CHARS:
        logger.info("call webhook for an unknown lead or call")
        return None
    event = deps.leads.event(lead.lead_id, call_id)
    if event is None or event.type != "call":
        logger.info("call webhook for an unknown call", extra={"lead_id": lead.lead_id})
        return None
    return lead, event


def voice_answered(deps: Deps, post: TwilioPost, query: dict[str, str]) -> str:
    """TwiML for the agent's answered leg: whisper who is called, then dial the customer."""
    found = _signed_call(deps, post, query)
    if found is None:
        return rules.hangup_twiml("This call can no longer be connected.")
    lead, event = found
    account = deps.accounts.require(lead.account_id)
    if not lead.phone or not account.sms_number:
        return rules.hangup_twiml("The customer has no phone number any more.")
    values = smart_field_values(lead, account, None)
    whisper = rules.whisper_text(lead.name, values.get("lead.vehicle"), account.name)
    status_url = _callback(deps, STATUS_PATH, lead_id=lead.lead_id, call_id=event.event_id, leg="customer")
    return rules.bridge_twiml(whisper, account.sms_number, lead.phone, status_url)


def call_status_arrived(deps: Deps, post: TwilioPost, query: dict[str, str]) -> str | None:
    """One leg's status callback; returns the call's status after it (None: nothing changed)."""
    found = _signed_call(deps, post, query)
    if found is None:
        return None
    lead, event = found
    leg = query.get("leg", "")
    if leg not in rules.LEGS:
        raise ValidationFailed.field("leg", "must be agent or customer")
    (raw_status,) = post.required("CallStatus")
    for _ in range(ATTEMPTS):
        update = rules.fold(event.data, leg, raw_status, post.last("CallDuration"), iso(deps.clock.now()))
        if update is None:
            return None
        sid = post.lookup_value("CallSid")
        if sid and leg == "customer" and not event.data.get("customer_sid"):
            update.fields["customer_sid"] = sid
        try:
            _save_status(deps, lead.lead_id, event, update)
        except (VersionConflict, LostRace):
            fresh = deps.leads.event(lead.lead_id, event.event_id)
            if fresh is None:
                return None
            event = fresh
            continue
        logger.info("call status", extra={"lead_id": lead.lead_id, "call_id": event.event_id,
                                          "status": update.fields.get("status", event.data.get("status"))})
        return str(update.fields.get("status", event.data.get("status")))
    raise Conflict("the call is changing too fast; try again", code="busy")


def _save_status(deps: Deps, lead_id: str, event: TimelineEvent, update: rules.CallUpdate) -> None:
    write = deps.calls.update(lead_id, event.event_id, update.fields, int(event.data.get("version", 0)))
    if not update.completed:
        deps.transactions.commit([write])
        return
    answered_at = rules.completed_at(event.data, update.fields)

    def decide(current: Lead) -> Change[None]:
        # The customer was reached: a person answered the lead (the response clock, awaiting cleared).
        first, reports = human_response(current, event.by, "call", answered_at,
                                        call_id=event.event_id, duration_s=update.fields.get("duration_s"))
        updates: dict[str, Any] = dict(first)
        if current.awaiting_since is not None and current.awaiting_since <= iso(answered_at):
            updates["awaiting_since"] = None
        return Change(updates=updates, reports=reports, writes=[write])

    change_lead(deps, lead_id, decide, touch=True)
