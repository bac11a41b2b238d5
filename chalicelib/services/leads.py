"""Use cases of the Lead Manager: the list over one or every store, a lead's detail and edits,
labels, notes with mentions, the timeline, locks and manual assignment.

Who sees what: a lead exists for a caller only if it is in one of their stores and, for a
restricted agent, assigned to them (404 otherwise, never 403 — existence is not leaked).
Every change goes through `change_lead`: one transaction conditional on the lead's version."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chalicelib.adapters.dynamodb.leads import LeadRepository
from chalicelib.adapters.dynamodb.table import decode_cursor, encode_cursor
from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain.accounts import Account
from chalicelib.domain.contacts import normalize_phone, region_for_timezone
from chalicelib.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from chalicelib.domain.lead_query import (
    Cursor,
    LeadFilters,
    Position,
    StoreBatch,
    first_share,
    limiting_store,
    list_signature,
    merge_page,
    plan_list,
)
from chalicelib.domain.leads import (
    LOCK_IDLE_MINUTES,
    Lead,
    NewLead,
    Vehicle,
    active_lock,
    check_status_change,
    effective_status,
)
from chalicelib.domain.tenancy import Principal, Role
from chalicelib.domain.timeline import TimelineEvent
from chalicelib.domain.users import User
from chalicelib.schemas.leads import UpdateLeadRequest
from chalicelib.services import intake
from chalicelib.services.lead_changes import Change, change_lead, report_event, score_event, timeline_event

EXCERPT_CHARS = 140
# Filtered lists read more than they need per Query (the filter drops some) — four times, at least
# 50 — and a few Queries per store at most: a rare filter pages on through cursors rather than
# reading a whole store at once.
FILTERED_READ_FACTOR = 4
FILTERED_QUERY_FLOOR = 50
FILTERED_CALLS_PER_STORE = 3
# Concurrent first Queries of a multi-store page.
FANOUT_THREADS = 8
# Extra reads of the one store that keeps a page short, before the page is given out as it is.
MAX_TOP_UPS = 6
MENTION = re.compile(r"@([A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){1,8})")
MAX_ID_CHARS = 128
MAX_LABELS = 50


@dataclass(frozen=True)
class LeadRow:
    lead: Lead
    account_name: str


# -- seeing leads ----------------------------------------------------------------------

def get_lead(deps: Deps, actor: Principal, lead_id: str) -> Lead:
    # An id longer than any we issue cannot exist (and would be refused as a DynamoDB key).
    lead = LeadRepository(deps.table).get(lead_id) if len(lead_id) <= MAX_ID_CHARS else None
    if lead is None or not actor.can_see_lead(lead.group_id, lead.account_id, lead.assigned_to):
        raise NotFound("lead not found")
    return lead


def _visible(actor: Principal, lead: Lead) -> Lead:
    """Inside a decision: the lead as it is now must still be the caller's to act on."""
    if not actor.can_see_lead(lead.group_id, lead.account_id, lead.assigned_to):
        raise NotFound("lead not found")
    return lead


def list_leads(deps: Deps, actor: Principal, account_id: str | None, folder: str, filters: LeadFilters,
               limit: int, cursor: str | None) -> tuple[list[LeadRow], str | None]:
    """One page of a folder, newest activity first (awaiting: longest waiting first), over one
    store or every store the caller sees: one Query per store, merged by sort key."""
    accounts = _stores(deps, actor, account_id)
    viewer = actor.user_id if actor.sees_only_own_leads else None
    plan = plan_list(folder, filters, only_assigned_to=viewer)
    signature = list_signature(sorted(accounts), folder, filters, viewer)
    position = Cursor.from_state(decode_cursor(cursor), signature) if cursor else Cursor(signature)
    if plan.empty or not accounts:
        return [], None
    repo = LeadRepository(deps.table)

    def read(store_id: str, at: Position, want: int) -> StoreBatch:
        if plan.filtered:
            return repo.list_batch(store_id, plan, at, want, max_calls=FILTERED_CALLS_PER_STORE,
                                   query_limit=max(want * FILTERED_READ_FACTOR, FILTERED_QUERY_FLOOR))
        return repo.list_batch(store_id, plan, at, want)

    pending = [a for a in sorted(accounts) if not position.position(a).done]
    share = first_share(limit, len(pending))
    batches = _read_stores(pending, lambda store_id: read(store_id, position.position(store_id), share))
    leads, following = merge_page(list(batches.values()), position, limit, plan.ascending)
    # A short page means one store's recent leads outnumber its first share: read on in that store.
    for _ in range(MAX_TOP_UPS):
        if len(leads) >= limit or following is None:
            break
        store_id = limiting_store(list(batches.values()), plan.ascending)
        if store_id is None:
            break
        before = batches[store_id]
        more = read(store_id, Position(after=before.examined_to), limit)
        batches[store_id] = StoreBatch(store_id, before.items + more.items, more.examined_to, more.exhausted)
        leads, following = merge_page(list(batches.values()), position, limit, plan.ascending)
    rows = [LeadRow(lead, accounts[lead.account_id].name) for lead in leads]
    return rows, (encode_cursor(following.to_state()) if following else None)


def _read_stores(store_ids: list[str], read: Callable[[str], StoreBatch]) -> dict[str, StoreBatch]:
    """Each store's first Query, side by side: a page over a 20-store group waits for the slowest
    Query rather than for the sum of twenty (boto3 clients are safe to share between threads)."""
    if len(store_ids) <= 1:
        return {store_id: read(store_id) for store_id in store_ids}
    with ThreadPoolExecutor(max_workers=min(FANOUT_THREADS, len(store_ids))) as pool:
        return dict(zip(store_ids, pool.map(read, store_ids), strict=True))


def _stores(deps: Deps, actor: Principal, account_id: str | None) -> dict[str, Account]:
    if account_id is not None:
        if account_id not in actor.visible_account_ids:
            raise NotFound("account not found")
        account = deps.accounts.get(account_id)
        if account is None or account.group_id != actor.group_id:
            raise NotFound("account not found")
        return {account.account_id: account}
    return {a.account_id: a for a in deps.accounts.list_for_group(actor.group_id)
            if a.account_id in actor.visible_account_ids}


def timeline(deps: Deps, actor: Principal, lead_id: str) -> list[TimelineEvent]:
    get_lead(deps, actor, lead_id)
    return LeadRepository(deps.table).timeline(lead_id)


# -- intake by staff -------------------------------------------------------------------

def store_for_intake(deps: Deps, actor: Principal, account_id: str) -> Account:
    """The store a signed-in user enters leads into; restricted agents work assigned leads only."""
    account = deps.accounts.get(account_id) if account_id in actor.visible_account_ids else None
    if account is None:
        raise NotFound("account not found")
    actor.require_account(account.group_id, account.account_id)
    if actor.sees_only_own_leads:
        raise Forbidden("restricted agents cannot enter leads")
    return account


def create_lead(deps: Deps, actor: Principal, account_id: str, data: NewLead) -> intake.IntakeResult:
    return intake.receive_lead(deps, store_for_intake(deps, actor, account_id), data, by=actor.user_id)


# -- edits -----------------------------------------------------------------------------

def _now(deps: Deps) -> str:
    return iso(deps.clock.now())


def _lock_expiry(deps: Deps) -> str:
    return iso(deps.clock.now() + timedelta(minutes=LOCK_IDLE_MINUTES))


def _check_unlocked(deps: Deps, actor: Principal, lead: Lead, updates: dict[str, Any]) -> None:
    """Someone else's live lock refuses the change; the holder's own change keeps the lock alive."""
    holder = active_lock(lead, _now(deps))
    if holder is not None and holder != actor.user_id:
        raise Conflict("another user is working on this lead", code="locked", extra={"locked_by": holder})
    if holder == actor.user_id:
        updates["lock_expires_at"] = _lock_expiry(deps)


def update_lead(deps: Deps, actor: Principal, lead_id: str, request: UpdateLeadRequest) -> Lead:
    seen = get_lead(deps, actor, lead_id)
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
    repo = LeadRepository(deps.table)

    def decide(lead: Lead) -> Change | None:
        _visible(actor, lead)
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
        _check_unlocked(deps, actor, lead, updates)
        extra = _move_contact_keys(deps, repo, lead, updates)
        return Change(updates=updates, events=events, reports=reports, extra_ops=extra)

    lead, _ = change_lead(deps, lead_id, decide, touch=True)
    return lead


def _move_contact_keys(deps: Deps, repo: LeadRepository, lead: Lead, updates: dict[str, Any]) -> list[dict[str, Any]]:
    """A changed phone or email moves the lead's contact key, so repeats find it by the new value.
    A value held by another open lead stays with that lead (it was there first)."""
    ops: list[dict[str, Any]] = []
    now = _now(deps)
    for kind in ("phone", "email"):
        if kind not in updates:
            continue
        old, new = getattr(lead, kind), updates[kind]
        if old:
            held = repo.contact(lead.account_id, kind, old)
            if held and held["lead_id"] == lead.lead_id:
                ops.append(repo.contact_release_op(lead.account_id, kind, old, lead.lead_id))
        if new:
            held = repo.contact(lead.account_id, kind, new)
            if held is None:
                ops.append(repo.contact_claim_op(lead.account_id, kind, new, lead.lead_id, now, None))
            elif held["lead_id"] != lead.lead_id:
                other = repo.get(held["lead_id"])
                if other is None or not other.is_open:
                    ops.append(repo.contact_claim_op(lead.account_id, kind, new, lead.lead_id, now, held["lead_id"]))
    return ops


def add_label(deps: Deps, actor: Principal, lead_id: str, label: str) -> Lead:
    get_lead(deps, actor, lead_id)

    def decide(lead: Lead) -> Change | None:
        _visible(actor, lead)
        if label in lead.labels:
            return None
        if len(lead.labels) >= MAX_LABELS:
            raise ValidationFailed.field("label", f"a lead holds at most {MAX_LABELS} labels")
        updates: dict[str, Any] = {"labels": [*lead.labels, label]}
        _check_unlocked(deps, actor, lead, updates)
        return Change(updates=updates, events=[timeline_event(deps, lead, "label", actor.user_id, added=label)])

    return change_lead(deps, lead_id, decide)[0]


def remove_label(deps: Deps, actor: Principal, lead_id: str, label: str) -> Lead:
    get_lead(deps, actor, lead_id)

    def decide(lead: Lead) -> Change | None:
        _visible(actor, lead)
        if label not in lead.labels:
            return None
        updates: dict[str, Any] = {"labels": [x for x in lead.labels if x != label]}
        _check_unlocked(deps, actor, lead, updates)
        return Change(updates=updates, events=[timeline_event(deps, lead, "label", actor.user_id, removed=label)])

    return change_lead(deps, lead_id, decide)[0]


def add_note(deps: Deps, actor: Principal, lead_id: str, text: str) -> TimelineEvent:
    """A note on the timeline; every `@email` of a user who can see the lead notifies them."""
    lead = get_lead(deps, actor, lead_id)
    mentioned = _mentioned_users(deps, lead, text, actor)

    def decide(current: Lead) -> Change:
        _visible(actor, current)
        event = timeline_event(deps, current, "note", actor.user_id, text=text,
                               mentions=[u.user_id for u in mentioned])
        return Change(updates={"notes_excerpt": _excerpt(text)}, events=[event],
                      reports=[report_event(deps, current, "note_added", actor.user_id)], result=event)

    lead, change = change_lead(deps, lead_id, decide, touch=True)
    assert change is not None
    if mentioned:
        from chalicelib.services.notifications import notify

        author = actor.name or actor.email or "Someone"
        notify(deps, mentioned, "mention", f"{author} mentioned you on {lead.name or 'a lead'}: {_excerpt(text)}",
               lead_id=lead.lead_id, account_id=lead.account_id)
    event: TimelineEvent = change.result
    return event


def _mentioned_users(deps: Deps, lead: Lead, text: str, author: Principal) -> list[User]:
    found: dict[str, User] = {}
    for email in MENTION.findall(text):
        if len(email) > 254:
            continue
        user = deps.users.by_email(email.lower())
        if user is None or user.deleted or user.user_id == author.user_id or user.user_id in found:
            continue
        # Only people who can see the lead hear about it (a restricted agent only of their own leads).
        group_accounts = frozenset({lead.account_id}) if user.role is Role.GROUP_ADMIN else frozenset()
        if user.principal(group_accounts).can_see_lead(lead.group_id, lead.account_id, lead.assigned_to):
            found[user.user_id] = user
    return list(found.values())


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


# -- locks -------------------------------------------------------------------------------

def lock(deps: Deps, actor: Principal, lead_id: str) -> Lead:
    """Take (or keep alive) the lead's lock; 409 `locked` naming the holder while another user's is live."""
    get_lead(deps, actor, lead_id)

    def decide(lead: Lead) -> Change:
        _visible(actor, lead)
        holder = active_lock(lead, _now(deps))
        if holder is not None and holder != actor.user_id:
            raise Conflict("another user is working on this lead", code="locked", extra={"locked_by": holder})
        return Change(updates={"locked_by": actor.user_id, "lock_expires_at": _lock_expiry(deps)})

    return change_lead(deps, lead_id, decide)[0]


def unlock(deps: Deps, actor: Principal, lead_id: str) -> Lead:
    get_lead(deps, actor, lead_id)

    def decide(lead: Lead) -> Change | None:
        _visible(actor, lead)
        holder = active_lock(lead, _now(deps))
        if holder is not None and holder != actor.user_id:
            raise Conflict("another user holds the lock", code="locked", extra={"locked_by": holder})
        if lead.locked_by is None:
            return None
        return Change(updates={"locked_by": None, "lock_expires_at": None})

    return change_lead(deps, lead_id, decide)[0]


# -- assignment ----------------------------------------------------------------------------

def assign(deps: Deps, actor: Principal, lead_id: str, user_id: str) -> Lead:
    """A manager gives the lead to someone: any pending offer dies (routing_version moves on)."""
    get_lead(deps, actor, lead_id)
    actor.require_role(Role.MANAGER)
    assignee = deps.users.get(user_id)

    def decide(lead: Lead) -> Change | None:
        _visible(actor, lead)
        if assignee is None or assignee.deleted or assignee.group_id != lead.group_id or not (
                assignee.role is Role.GROUP_ADMIN or lead.account_id in assignee.account_ids):
            raise ValidationFailed.field("user_id", "is not a user of this lead's store")
        if lead.assigned_to == assignee.user_id and lead.routing_state == "assigned":
            return None
        updates = {"assigned_to": assignee.user_id, "routing_state": "assigned",
                   "routing_version": lead.routing_version + 1}
        event = timeline_event(deps, lead, "assignment", actor.user_id, user_id=assignee.user_id,
                               previous=lead.assigned_to)
        return Change(updates=updates, events=[event],
                      scores=[score_event(deps, lead, assignee.user_id, "assigned")],
                      reports=[report_event(deps, lead, "lead_assigned", assignee.user_id, by=actor.user_id)],
                      result=True)

    lead, change = change_lead(deps, lead_id, decide, touch=True)
    if change is not None and assignee is not None:
        from chalicelib.services.notifications import notify

        notify(deps, [assignee], "assignment", f"{lead.name or 'A lead'} was assigned to you",
               lead_id=lead.lead_id, account_id=lead.account_id)
    return lead


def lock_holder(deps: Deps, lead: Lead) -> str | None:
    return active_lock(lead, _now(deps))

