"""Use cases of the Lead Manager that read: the list over one or every store, a lead's detail and
timeline, and the store staff enter a lead into. (Edits, labels, notes, locks and assignment:
services/lead_edits.py.)

Who sees what: a lead exists for a caller only if it is in one of their stores and, for a
restricted agent, assigned to them (404 otherwise, never 403 — existence is not leaked)."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.deps import Deps
from chalicelib.domain.accounts import Account
from chalicelib.domain.errors import Forbidden, NotFound
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
from chalicelib.domain.leads import Lead, NewLead
from chalicelib.domain.paging import decode_cursor, encode_cursor
from chalicelib.domain.tenancy import Principal
from chalicelib.domain.timeline import TimelineEvent
from chalicelib.fanout import fan_out
from chalicelib.services import intake
from chalicelib.services.access import may_be_visible_store, visible_lead

# Filtered lists read more than they need per Query (the filter drops some) — four times, at least
# 50 — and a few Queries per store at most: a rare filter pages on through cursors rather than
# reading a whole store at once.
FILTERED_READ_FACTOR = 4
FILTERED_QUERY_FLOOR = 50
FILTERED_CALLS_PER_STORE = 3
# Extra reads of the one store that keeps a page short, before the page is given out as it is.
MAX_TOP_UPS = 6


@dataclass(frozen=True)
class LeadRow:
    lead: Lead
    account_name: str


# -- seeing leads ----------------------------------------------------------------------

def get_lead(deps: Deps, actor: Principal, lead_id: str) -> Lead:
    return visible_lead(deps, actor, lead_id)


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
    repo = deps.leads

    def read(store_id: str, at: Position, want: int) -> StoreBatch:
        if plan.filtered:
            return repo.list_batch(store_id, plan, at, want, max_calls=FILTERED_CALLS_PER_STORE,
                                   query_limit=max(want * FILTERED_READ_FACTOR, FILTERED_QUERY_FLOOR))
        return repo.list_batch(store_id, plan, at, want)

    pending = [a for a in sorted(accounts) if not position.position(a).done]
    share = first_share(limit, len(pending))
    # Each store's first Query side by side: the page waits for the slowest store, not for the sum.
    firsts = fan_out(lambda store_id: read(store_id, position.position(store_id), share), pending)
    batches = dict(zip(pending, firsts, strict=True))
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
    visible_lead(deps, actor, lead_id)
    from chalicelib.services.attachments import present

    return present(deps, deps.leads.timeline(lead_id))


# -- intake by staff -------------------------------------------------------------------

def store_for_intake(deps: Deps, actor: Principal, account_id: str) -> Account:
    """The store a signed-in user enters leads into; restricted agents work assigned leads only."""
    return _intake_store(actor, deps.accounts.get(account_id) if may_be_visible_store(actor, account_id) else None)


def _intake_store(actor: Principal, account: Account | None) -> Account:
    if account is None:
        raise NotFound("account not found")
    actor.require_account(account.group_id, account.account_id)
    if actor.sees_only_own_leads:
        raise Forbidden("restricted agents cannot enter leads")
    return account


def create_lead(deps: Deps, actor: Principal, account_id: str, data: NewLead) -> intake.IntakeResult:
    """The store is read with its routing config and rotation (one read): the new lead's first
    offer is decided on them."""
    routing = deps.routing.store_routing(account_id) if may_be_visible_store(actor, account_id) else None
    account = _intake_store(actor, routing.account if routing else None)
    return intake.receive_lead(deps, account, data, by=actor.user_id, routing=routing)
