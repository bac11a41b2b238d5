"""Use cases of the Lead Manager that change a lead: edits (contact keys follow a changed phone or
email), labels, notes with mentions, locks and manual assignment. Every change goes through
`change_lead`: one transaction conditional on the lead's version."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain.changes import Change, Write
from chalicelib.domain.contacts import normalize_phone, region_for_timezone
from chalicelib.domain.errors import Conflict, ValidationFailed
from chalicelib.domain.leads import (
    LOCK_IDLE_MINUTES,
    Lead,
    Vehicle,
    active_lock,
    check_status_change,
    effective_status,
    lock_kept,
)
from chalicelib.domain.tenancy import Principal, Role
from chalicelib.domain.timeline import TimelineEvent
from chalicelib.domain.users import User
from chalicelib.schemas.leads import UpdateLeadRequest
from chalicelib.services.access import still_visible, visible_lead
from chalicelib.services.lead_changes import change_lead, report_event, score_event, timeline_event
from chalicelib.services.response_targets import owner_updates

EXCERPT_CHARS = 140
MENTION = re.compile(r"@([A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){1,8})")
MAX_LABELS = 50


def _now(deps: Deps) -> str:
    return iso(deps.clock.now())


def _lock_expiry(deps: Deps) -> str:
    return iso(deps.clock.now() + timedelta(minutes=LOCK_IDLE_MINUTES))


# -- edits -----------------------------------------------------------------------------

def update_lead(deps: Deps, actor: Principal, lead_id: str, request: UpdateLeadRequest) -> Lead:
    seen = visible_lead(deps, actor, lead_id)
    changes = request.model_dump(exclude_unset=True)
    if not changes:
        return seen
    account = deps.accounts.require(seen.account_id)
    if changes.get("phone"):
        try:
            changes["phone"] = normalize_phone(changes["phone"], region_for_timezone(account.timezone))
        except ValueError as exc:
            raise ValidationFailed.field("phone", str(exc)) from exc
    for nullable in ("phone", "email", "first_name", "last_name", "language"):
        if nullable in changes and changes[nullable] is not None and not str(changes[nullable]).strip():
            changes[nullable] = None
    for required in ("status", "done"):
        if required in changes and changes[required] is None:
            raise ValidationFailed.field(required, "cannot be null")
    if changes.get("vehicle") is not None:
        changes["vehicle"] = Vehicle.model_validate(changes["vehicle"])
    def decide(lead: Lead) -> Change[None] | None:
        still_visible(actor, lead)
        updates: dict[str, Any] = {}
        events = []
        reports = []
        edited = {}
        for name in ("first_name", "last_name", "phone", "email", "language", "vehicle", "financial"):
            if name in changes and changes[name] != getattr(lead, name):
                updates[name] = changes[name]
                edited[name] = changes[name].model_dump(exclude_none=True) if name == "vehicle" \
                    and changes[name] is not None else changes[name]
        if ("phone" in updates or "email" in updates) and not (
                updates.get("phone", lead.phone) or updates.get("email", lead.email) or lead.messenger_psid):
            needs = "a lead needs a phone number or an email address"
            raise ValidationFailed(needs, details=[{"field": "phone", "message": needs},
                                                   {"field": "email", "message": needs}])
        if edited:
            events.append(timeline_event(deps, lead, "edit", actor.user_id, fields=edited))
        if "status" in changes:
            before, after = effective_status(lead), changes["status"]
            if before != after:
                check_status_change(before, after)
                updates["status"] = after
                if before == "dead" and after == "hot" and lead.opted_out:
                    updates["opted_out"] = False
                    events.append(timeline_event(deps, lead, "opt_in", actor.user_id))
                events.append(timeline_event(deps, lead, "status", actor.user_id, **{"from": before, "to": after}))
                reports.append(report_event(deps, lead, "status_changed", actor.user_id, **{"from": before,
                                                                                              "to": after}))
        if "done" in changes and changes["done"] != lead.done:
            updates["done"] = changes["done"]
            events.append(timeline_event(deps, lead, "done", actor.user_id, done=changes["done"]))
        if not updates:
            return None
        updates.update(lock_kept(lead, actor.user_id, deps.clock.now()))
        return Change(updates=updates, events=events, reports=reports,
                      writes=_move_contact_keys(deps, lead, updates))

    return change_lead(deps, lead_id, decide, touch=True).lead


def _move_contact_keys(deps: Deps, lead: Lead, updates: dict[str, Any]) -> list[Write]:
    """A changed phone or email moves the lead's contact key, so repeats find it by the new value.
    A value held by another open lead stays with that lead (it was there first)."""
    repo = deps.leads
    writes: list[Write] = []
    now = _now(deps)
    for kind in ("phone", "email"):
        if kind not in updates:
            continue
        old, new = getattr(lead, kind), updates[kind]
        if old:
            held = repo.contact(lead.account_id, kind, old)
            if held and held["lead_id"] == lead.lead_id:
                writes.append(repo.release_contact(lead.account_id, kind, old, lead.lead_id))
        if new:
            held = repo.contact(lead.account_id, kind, new)
            if held is None:
                writes.append(repo.claim_contact(lead.account_id, kind, new, lead.lead_id, now, None))
            elif held["lead_id"] != lead.lead_id:
                other = repo.get(held["lead_id"])
                if other is None or not other.is_open:
                    writes.append(repo.claim_contact(lead.account_id, kind, new, lead.lead_id, now, held["lead_id"]))
    return writes


def add_label(deps: Deps, actor: Principal, lead_id: str, label: str) -> Lead:
    visible_lead(deps, actor, lead_id)

    def decide(lead: Lead) -> Change[None] | None:
        still_visible(actor, lead)
        if label in lead.labels:
            return None
        if len(lead.labels) >= MAX_LABELS:
            raise ValidationFailed.field("label", f"a lead holds at most {MAX_LABELS} labels")
        updates: dict[str, Any] = {"labels": [*lead.labels, label]}
        updates.update(lock_kept(lead, actor.user_id, deps.clock.now()))
        return Change(updates=updates, events=[timeline_event(deps, lead, "label", actor.user_id, added=label)])

    return change_lead(deps, lead_id, decide).lead


def remove_label(deps: Deps, actor: Principal, lead_id: str, label: str) -> Lead:
    visible_lead(deps, actor, lead_id)

    def decide(lead: Lead) -> Change[None] | None:
        still_visible(actor, lead)
        if label not in lead.labels:
            return None
        updates: dict[str, Any] = {"labels": [x for x in lead.labels if x != label]}
        updates.update(lock_kept(lead, actor.user_id, deps.clock.now()))
        return Change(updates=updates, events=[timeline_event(deps, lead, "label", actor.user_id, removed=label)])

    return change_lead(deps, lead_id, decide).lead


def add_note(deps: Deps, actor: Principal, lead_id: str, text: str) -> TimelineEvent:
    """A note on the timeline; every `@email` of a user who can see the lead notifies them."""
    lead = visible_lead(deps, actor, lead_id)
    mentioned = _mentioned_users(deps, lead, text, actor)

    def decide(current: Lead) -> Change[TimelineEvent]:
        still_visible(actor, current)
        event = timeline_event(deps, current, "note", actor.user_id, text=text,
                               mentions=[u.user_id for u in mentioned])
        return Change(updates={"notes_excerpt": _excerpt(text)}, events=[event],
                      reports=[report_event(deps, current, "note_added", actor.user_id)], result=event)

    saved = change_lead(deps, lead_id, decide, touch=True)
    lead, event = saved.lead, saved.result
    assert event is not None  # the decision always makes the note
    if mentioned:
        from chalicelib.services.alerts import alert

        alert(deps, "mention", lead, mentioned, who=actor.name or actor.email or None, note=text)
    return event


def _mentioned_users(deps: Deps, lead: Lead, text: str, author: Principal) -> list[User]:
    found: dict[str, User] = {}
    for email in MENTION.findall(text):
        if len(email) > 254:
            continue
        user = deps.users.in_group_by_email(lead.group_id, email.lower())
        if user is None or user.deleted or user.user_id == author.user_id or user.user_id in found:
            continue
        # Only people who can see the lead hear about it (a restricted agent only of their own leads).
        if user.principal().can_see_lead(lead.group_id, lead.account_id, lead.assigned_to):
            found[user.user_id] = user
    return list(found.values())


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


# -- locks -------------------------------------------------------------------------------

def lock(deps: Deps, actor: Principal, lead_id: str) -> Lead:
    """Take (or keep alive) the lead's lock; 409 `locked` naming the holder while another user's is live."""
    visible_lead(deps, actor, lead_id)

    def decide(lead: Lead) -> Change[None]:
        still_visible(actor, lead)
        holder = active_lock(lead, _now(deps))
        if holder is not None and holder != actor.user_id:
            raise Conflict("another user is working on this lead", code="locked", extra={"locked_by": holder})
        return Change(updates={"locked_by": actor.user_id, "lock_expires_at": _lock_expiry(deps)})

    return change_lead(deps, lead_id, decide).lead


def unlock(deps: Deps, actor: Principal, lead_id: str) -> Lead:
    visible_lead(deps, actor, lead_id)

    def decide(lead: Lead) -> Change[None] | None:
        still_visible(actor, lead)
        holder = active_lock(lead, _now(deps))
        if holder is not None and holder != actor.user_id:
            raise Conflict("another user holds the lock", code="locked", extra={"locked_by": holder})
        if lead.locked_by is None:
            return None
        return Change(updates={"locked_by": None, "lock_expires_at": None})

    return change_lead(deps, lead_id, decide).lead


# -- assignment ----------------------------------------------------------------------------

def assign(deps: Deps, actor: Principal, lead_id: str, user_id: str) -> Lead:
    """A manager gives the lead to someone: any pending offer dies (routing_version moves on)."""
    visible_lead(deps, actor, lead_id)
    actor.require_role(Role.MANAGER)
    assignee = deps.users.get(user_id)

    def decide(lead: Lead) -> Change[bool] | None:
        still_visible(actor, lead)
        if assignee is None or assignee.deleted or assignee.group_id != lead.group_id or not (
                assignee.role is Role.GROUP_ADMIN or lead.account_id in assignee.account_ids):
            raise ValidationFailed.field("user_id", "is not a user of this lead's store")
        if lead.assigned_to == assignee.user_id and lead.routing_state == "assigned":
            return None
        updates = {"assigned_to": assignee.user_id, "routing_state": "assigned",
                   "routing_version": lead.routing_version + 1,
                   **owner_updates(deps, lead, assignee.user_id)}
        event = timeline_event(deps, lead, "assignment", actor.user_id, user_id=assignee.user_id,
                               previous=lead.assigned_to)
        return Change(updates=updates, events=[event],
                      scores=[score_event(deps, lead, assignee.user_id, "assigned")],
                      reports=[report_event(deps, lead, "lead_assigned", assignee.user_id, by=actor.user_id)],
                      result=True)

    saved = change_lead(deps, lead_id, decide, touch=True)
    lead = saved.lead
    if saved.change is not None and assignee is not None:
        from chalicelib.services.alerts import alert, deadline_timing

        alert(deps, "assigned", lead, [assignee], timing=deadline_timing(lead, deps.clock.now()))
    return lead

