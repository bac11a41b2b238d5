"""How an enrolment moves: enrolling, a due step (sent, skipped, deferred past quiet hours, or the
enrolment stopped instead), the stop rules, skipping to follow-up, resuming. Pure: the lead, the
cadence, the store and the clock's reading in; a `Change` (the lead's new `cadence`, its timeline
and report records) out.

The stop rules are one function of the lead (`blocking_reason`), applied twice: by `settle` to every
lead change as it is saved (services/lead_changes.py), so an enrolment stops in the very transaction
that opts the customer out, records their reply, sells the lead...; and by `due_step` before a step
goes, so a step can never follow a stop condition whatever path set it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from chalicelib.clock import iso, parse_time
from chalicelib.domain import channels
from chalicelib.domain import conversations as rules
from chalicelib.domain.accounts import Account
from chalicelib.domain.cadences import Cadence, CadenceStep
from chalicelib.domain.changes import Change
from chalicelib.domain.enrolment import Enrolment, StopReason
from chalicelib.domain.errors import Conflict, ValidationFailed
from chalicelib.domain.leads import Lead
from chalicelib.domain.records import report_event, timeline_event
from chalicelib.domain.timeline import TimelineEvent

# `channel: auto`: the first of these the lead can receive.
AUTO_ORDER = ("sms", "messenger", "email")
Route = rules.Route


# -- records ---------------------------------------------------------------------------------

def _event(lead: Lead, enrolment: Enrolment, action: str, by: str | None, now: datetime, **data: Any) -> Any:
    return timeline_event(lead, "cadence", by, now, action=action, cadence_id=enrolment.cadence_id,
                          name=enrolment.name, **{k: v for k, v in data.items() if v is not None})


def _cadence_change(enrolment: Enrolment, result: Any = None) -> Change[Any]:
    return Change(updates={"cadence": enrolment}, result=result)


# -- enrolling -------------------------------------------------------------------------------

def start(cadence: Cadence, now: datetime, by: str | None, previous: Enrolment | None) -> Enrolment:
    """A new enrolment at the cadence's first step (its version continues the lead's previous one's)."""
    return Enrolment(cadence_id=cadence.cadence_id, name=cadence.name, assistant_name=cadence.assistant_name,
                     next_step=0, next_at=iso(now + timedelta(seconds=cadence.steps[0].after_seconds)),
                     enrolled_at=iso(now), enrolled_by=by, version=previous.version + 1 if previous else 1)


def enrolled(lead: Lead, enrolment: Enrolment, now: datetime) -> Change[Enrolment]:
    """The records of an enrolment that starts now (on arrival, or by hand)."""
    change = _cadence_change(enrolment, enrolment)
    change.events.append(_event(lead, enrolment, "enrolled", enrolment.enrolled_by, now, next_at=enrolment.next_at))
    change.reports.append(report_event(lead, "cadence_enrolled", now, user_id=enrolment.enrolled_by,
                                       cadence_id=enrolment.cadence_id, name=enrolment.name,
                                       manual=enrolment.enrolled_by is not None))
    return change


def enrol(lead: Lead, cadence: Cadence, by: str, now: datetime) -> Change[Enrolment]:
    """Assign a funnel by hand: the lead's active enrolment, if any, stops (`replaced`)."""
    if lead.opted_out:
        raise Conflict("the customer opted out of messages", code="opted_out")
    if lead.status in ("sold", "dead"):
        raise Conflict(f"the lead is {lead.status}", code="lead_closed", extra={"status": lead.status})
    if lead.stop_messaging:
        raise Conflict("messaging is stopped for this lead", code="messaging_stopped")
    change: Change[Enrolment] = Change()
    change.merge(stop(lead, "replaced", by, now))
    change.merge(enrolled(lead, start(cadence, now, by, lead.cadence), now))
    change.result = change.updates["cadence"]
    return change


# -- stopping ----------------------------------------------------------------------------------

def stop(lead: Lead, reason: StopReason, by: str | None, now: datetime) -> Change[Any] | None:
    """End the lead's active enrolment for `reason` (None when none is active)."""
    enrolment = lead.cadence
    if enrolment is None or not enrolment.active:
        return None
    finished = reason == "finished"
    ended = enrolment.model_copy(update={
        "state": "finished" if finished else "stopped", "next_step": None if finished else enrolment.next_step,
        "next_at": None, "stop_reason": reason, "stopped_at": iso(now), "version": enrolment.version + 1})
    change = _cadence_change(ended)
    change.events.append(_event(lead, ended, "finished" if finished else "stopped", by, now, reason=reason,
                                step=None if finished else enrolment.next_step))
    change.reports.append(report_event(lead, "cadence_stopped", now, user_id=by, cadence_id=ended.cadence_id,
                                       reason=reason))
    return change


def blocking_reason(lead: Lead) -> StopReason | None:
    """The stop rule the lead as it is now meets, if any: opted out, sold, dead, messaging stopped by
    staff, or the customer wrote after the enrolment began."""
    if lead.opted_out:
        return "opted_out"
    if lead.status == "sold":
        return "sold"
    if lead.status == "dead":
        return "dead"
    if lead.stop_messaging:
        return "stopped_by_staff"
    customer_at = rules.customer_last_message_at(lead)
    if lead.cadence is not None and customer_at is not None and customer_at > lead.cadence.enrolled_at:
        return "replied"
    return None


def settle(before: Lead, after: Lead, events: list[TimelineEvent], now: datetime) -> Change[Any] | None:
    """Applied to every lead change as it is saved: the stop its result calls for (an appointment
    booked or a customer's message recorded by the change counts too), in the same transaction;
    None when the enrolment goes on. An enrolment that stop-messaging paused (`stopped_by_staff`)
    is stopped for good by any other rule met meanwhile, so resume-messaging cannot bring it back."""
    enrolment = after.cadence
    if enrolment is None:
        return None
    paused = enrolment.state == "stopped" and enrolment.stop_reason == "stopped_by_staff"
    if not (enrolment.active or paused):
        return None
    reason = blocking_reason(after.model_copy(update={"stop_messaging": False}) if paused else after)
    if reason is None and after.open_appointments > before.open_appointments:
        reason = "appointment"
    if reason is None and (rules.customer_last_message_at(after) != rules.customer_last_message_at(before)
                           or any(_from_customer(e) for e in events)):
        reason = "replied"  # the change records a message of the customer's (whatever its time says)
    if reason is None:
        return None
    return stop(after, reason, None, now) if enrolment.active else _stopped_for(after, reason, now)


def _stopped_for(lead: Lead, reason: StopReason, now: datetime) -> Change[Any]:
    """A stopped enrolment's reason becomes `reason` (it can no longer be resumed)."""
    enrolment = lead.cadence
    assert enrolment is not None
    kept = enrolment.model_copy(update={"stop_reason": reason, "version": enrolment.version + 1,
                                        "state": "finished" if reason == "finished" else "stopped"})
    change = _cadence_change(kept)
    change.events.append(_event(lead, kept, "stopped", None, now, reason=reason, step=enrolment.next_step))
    change.reports.append(report_event(lead, "cadence_stopped", now, cadence_id=kept.cadence_id, reason=reason))
    return change


def _from_customer(event: TimelineEvent) -> bool:
    """A message the customer sent: an inbound message, or a repeat request that says something."""
    if event.type == "message":
        return event.data.get("direction") == "inbound"
    return event.type == "coalesced" and bool(event.data.get("message"))


# -- a due step ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StepOutcome:
    """What a due step does. `send`: `text` goes by `route` (the caller adds the message itself);
    `skip`: the lead cannot receive it (or its text no longer renders) and the enrolment moves on;
    `defer`: quiet hours, the step waits for `enrolment.next_at`; `stop`: a stop rule held."""

    action: Literal["send", "skip", "defer", "stop"]
    change: Change[Any]
    step: CadenceStep | None = None
    route: Route | None = None
    text: str = ""
    subject: str | None = None

    @property
    def enrolment(self) -> Enrolment:
        return self.change.updates["cadence"]


def due_step(lead: Lead, cadence: Cadence | None, account: Account, version: int, index: int,
             now: datetime) -> StepOutcome | None:
    """Step `index` of the enrolment at `version`, due now. None: the timer is stale (another
    version or step, a stopped or finished enrolment) or early — nothing to do."""
    enrolment = lead.cadence
    if enrolment is None or not enrolment.active or enrolment.version != version or enrolment.next_step != index:
        return None
    if enrolment.next_at is not None and parse_time(enrolment.next_at) > now:
        return None
    reason = blocking_reason(lead)
    if reason is None and cadence is None:
        reason = "cadence_deleted"
    step = cadence.step(index) if cadence is not None else None
    if reason is None and step is None:
        reason = "finished"  # the cadence lost steps since the lead was enrolled
    if reason is not None or cadence is None or step is None:
        return StepOutcome("stop", stop(lead, reason or "finished", None, now) or Change())
    route = step_route(lead, account, step.channel, now)
    text, subject = "", None
    skipped = "unreachable" if route is None else None
    if route is not None:
        go_at = rules.next_allowed_send(now, rules.quiet_zones(lead, account, route[0]))
        if go_at > now:
            later = enrolment.model_copy(update={"next_at": iso(go_at), "version": enrolment.version + 1})
            return StepOutcome("defer", _cadence_change(later), step=step)
        values = rules.smart_field_values(lead, account, None)
        try:
            text = rules.render(step.body, values, field=f"steps.{index}.body")
            if route[0] == "email" and step.subject:
                subject = rules.render(step.subject, values, field=f"steps.{index}.subject")
        except ValidationFailed:
            skipped = "template"
    change = advance(lead, cadence, index, now, sent=skipped is None)
    if skipped is not None:
        change.events.insert(0, _event(lead, enrolment, "skipped", None, now, step=index, reason=skipped))
        return StepOutcome("skip", change, step=step)
    change.reports.insert(0, report_event(lead, "cadence_step", now, cadence_id=cadence.cadence_id, step=index,
                                          phase=step.phase, channel=route[0] if route else None))
    return StepOutcome("send", change, step=step, route=route, text=text, subject=subject)


def advance(lead: Lead, cadence: Cadence, index: int, now: datetime, sent: bool) -> Change[Any]:
    """After step `index` (sent or skipped): the next step is due its `after_seconds` from now, or
    the enrolment is finished."""
    enrolment = lead.cadence
    assert enrolment is not None
    following = cadence.step(index + 1)
    moved = enrolment.model_copy(update={"steps_sent": enrolment.steps_sent + (1 if sent else 0)})
    if following is None:
        return stop(lead.model_copy(update={"cadence": moved}), "finished", None, now) or Change()
    moved = moved.model_copy(update={"next_step": index + 1, "version": enrolment.version + 1,
                                     "next_at": iso(now + timedelta(seconds=following.after_seconds))})
    return _cadence_change(moved)


def reachable(lead: Lead, account: Account, now: datetime) -> list[Route]:
    """How an automated message can reach the lead now, in `auto` order: SMS to its phone; Messenger
    within 24 h of the customer's last message there (no tag lets an automated message go later);
    email unless the customer unsubscribed from it (domain/channels.address)."""
    routes: list[Route] = []
    if lead.phone:
        routes.append(("sms", lead.phone, account.sms_number))
    if lead.messenger_psid:
        try:
            rules.messenger_tag(rules.customer_last_message_time(lead), now, human=False)
            routes.append(("messenger", lead.messenger_psid, account.messenger_page_id))
        except Conflict:
            pass
    email = channels.address(lead, "email")
    if email:
        routes.append(("email", email, channels.store_address(account, "email")))
    return routes


def step_route(lead: Lead, account: Account, channel: str, now: datetime) -> Route | None:
    routes = reachable(lead, account, now)
    if channel == "auto":
        return routes[0] if routes else None
    return next((r for r in routes if r[0] == channel), None)


# -- staff actions ---------------------------------------------------------------------------------

def skip_to_follow_up(lead: Lead, cadence: Cadence | None, by: str, now: datetime) -> Change[Any] | None:
    """Move an active enrolment to its first follow_up step not yet sent, due its `after_seconds` from
    now. None without an active enrolment; 409 `no_follow_up_step` when there is none."""
    enrolment = lead.cadence
    if enrolment is None or not enrolment.active:
        return None
    if cadence is None:
        return stop(lead, "cadence_deleted", None, now)
    index = cadence.first_follow_up(enrolment.next_step or 0)
    if index is None:
        raise Conflict(f"the cadence {cadence.name!r} has no follow-up step left", code="no_follow_up_step")
    due = now + timedelta(seconds=cadence.steps[index].after_seconds)
    moved = enrolment.model_copy(update={"next_step": index, "next_at": iso(due), "version": enrolment.version + 1})
    change = _cadence_change(moved)
    change.events.append(_event(lead, moved, "moved", by, now, step=index, from_step=enrolment.next_step,
                                next_at=moved.next_at))
    return change


def resume(lead: Lead, cadence: Cadence | None, by: str, now: datetime) -> Change[Any] | None:
    """`resume-messaging` on a lead whose enrolment stop-messaging stopped: its pending step is due
    its `after_seconds` from now. `lead` is as it will be (messaging no longer stopped). When another
    stop rule holds by now (the customer wrote meanwhile...) it stays stopped, for that reason."""
    enrolment = lead.cadence
    if enrolment is None or enrolment.state != "stopped" or enrolment.stop_reason != "stopped_by_staff":
        return None
    step = cadence.step(enrolment.next_step) if cadence is not None else None
    reason = blocking_reason(lead) or ("cadence_deleted" if cadence is None else "finished" if step is None else None)
    if reason is not None or step is None:
        return _stopped_for(lead, reason or "finished", now)
    resumed = enrolment.model_copy(update={
        "state": "active", "stop_reason": None, "stopped_at": None, "version": enrolment.version + 1,
        "next_at": iso(now + timedelta(seconds=step.after_seconds))})
    change = _cadence_change(resumed)
    change.events.append(_event(lead, resumed, "resumed", by, now, step=resumed.next_step, next_at=resumed.next_at))
    change.reports.append(report_event(lead, "cadence_resumed", now, user_id=by, cadence_id=resumed.cadence_id))
    return change
