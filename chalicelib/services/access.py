"""What a caller may act on: a lead or a store exists for them only if they can see it (404
otherwise, never 403 — existence is not leaked). Shared by every use case on leads and stores."""

from __future__ import annotations

from chalicelib.deps import Deps
from chalicelib.domain.accounts import Account
from chalicelib.domain.errors import NotFound
from chalicelib.domain.leads import Lead
from chalicelib.domain.tenancy import Principal

# No id we issue is longer; a longer one cannot exist (and DynamoDB would refuse it as a key).
MAX_ID_CHARS = 128


def visible_lead(deps: Deps, actor: Principal, lead_id: str) -> Lead:
    lead = deps.leads.get(lead_id) if len(lead_id) <= MAX_ID_CHARS else None
    if lead is None or not actor.can_see_lead(lead.group_id, lead.account_id, lead.assigned_to):
        raise NotFound("lead not found")
    return lead


def still_visible(actor: Principal, lead: Lead) -> Lead:
    """Inside a decision: the lead as it is now must still be the caller's to act on."""
    if not actor.can_see_lead(lead.group_id, lead.account_id, lead.assigned_to):
        raise NotFound("lead not found")
    return lead


def visible_account(deps: Deps, actor: Principal, account_id: str) -> Account:
    account = deps.accounts.require(account_id)
    actor.require_account(account.group_id, account.account_id)
    return account


def may_be_visible_store(actor: Principal, account_id: str) -> bool:
    """Before a store is read: False when `account_id` cannot be a store the caller sees (not an id we
    issue, or not one of theirs). Any store may be a group_admin's: that is decided on the store's
    record (`require_account`), without reading every store of the group."""
    return len(account_id) <= MAX_ID_CHARS and actor.may_see_account_id(account_id)
