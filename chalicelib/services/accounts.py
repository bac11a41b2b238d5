"""Use cases of stores: create, read, list, change."""

from __future__ import annotations

import secrets

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain.accounts import Account
from chalicelib.domain.errors import Forbidden
from chalicelib.domain.paging import ListCursor, decode_cursor, encode_cursor, list_signature
from chalicelib.domain.tenancy import Principal, Role
from chalicelib.ids import new_id
from chalicelib.schemas.tenancy import CreateAccountRequest, UpdateAccountRequest


def new_api_key() -> str:
    return "ll_" + secrets.token_urlsafe(24)


def create_account(deps: Deps, actor: Principal, request: CreateAccountRequest) -> Account:
    if actor.role is not Role.GROUP_ADMIN:
        raise Forbidden("only a group_admin can open a store")
    now = iso(deps.clock.now())
    fields = request.model_dump(exclude_none=True)
    account = Account(account_id=new_id("acc", deps.clock.now()), group_id=actor.group_id, api_key=new_api_key(),
                      created_at=now, updated_at=now, **fields)
    deps.accounts.create(account)
    return account


def get_account(deps: Deps, actor: Principal, account_id: str) -> Account:
    account = deps.accounts.require(account_id)
    actor.require_account(account.group_id, account.account_id)
    return account


def list_accounts(deps: Deps, actor: Principal, limit: int,
                  cursor: str | None) -> tuple[list[Account], str | None]:
    """One page of the stores the caller sees, by account_id (creation order), and the next cursor."""
    is_group_admin = actor.role is Role.GROUP_ADMIN
    # A group_admin's list is the group's; anyone else's is their own set of stores.
    scope = "group" if is_group_admin else sorted(actor.account_ids)
    signature = list_signature("accounts", actor.group_id, scope)
    after = ListCursor.from_state(decode_cursor(cursor), signature, arity=1).after[0] if cursor else None
    if is_group_admin:
        accounts, more = deps.accounts.page_for_group(
            actor.group_id, limit, after, keep=lambda a: a.account_id in actor.visible_account_ids)
    else:
        # A few known stores of a possibly large group: read just the page's ones.
        accounts, more = deps.accounts.page_of(actor.group_id, actor.visible_account_ids, limit, after)
    following = ListCursor(signature, (accounts[-1].account_id,)) if more and accounts else None
    return accounts, encode_cursor(following.to_state()) if following else None


def update_account(deps: Deps, actor: Principal, account_id: str, request: UpdateAccountRequest) -> Account:
    before = get_account(deps, actor, account_id)
    actor.require_role(Role.ADMIN)
    changes = request.model_dump(exclude_unset=True)
    for cleared in ("name", "timezone", "kind", "coalesce_window_days", "business_hours", "holidays",
                    "appointment_reminders_seconds"):
        if changes.get(cleared, "") is None:
            changes.pop(cleared)
    after = before.model_copy(update={**changes, "updated_at": iso(deps.clock.now())})
    after = Account.model_validate(after.model_dump())
    deps.accounts.replace(before, after)
    return after


def shows_api_key(actor: Principal) -> bool:
    return actor.role.rank >= Role.ADMIN.rank
