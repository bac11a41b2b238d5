"""A store's response targets: read by anyone of the store, replaced or removed by an admin.

They live on the store's record (`Account.response_targets`), written with the record's own
optimistic condition, so one read gives both the targets and the hours a deadline's clock needs."""

from __future__ import annotations

from typing import Any

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain.accounts import Account
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.leads import Lead
from chalicelib.domain.targets import ResponsePolicy, ResponseTargets, owner_changed, policy_for, target_problems
from chalicelib.domain.tenancy import Principal, Role


def _store(deps: Deps, actor: Principal, account_id: str) -> Account:
    account = deps.accounts.require(account_id)
    actor.require_account(account.group_id, account.account_id)
    return account


def get_targets(deps: Deps, actor: Principal, account_id: str) -> ResponseTargets | None:
    return _store(deps, actor, account_id).response_targets


def put_targets(deps: Deps, actor: Principal, account_id: str, fields: dict[str, Any]) -> ResponseTargets:
    """Replace the store's targets (admin). They apply to leads from their next owner on."""
    before = _store(deps, actor, account_id)
    actor.require_role(Role.ADMIN)
    now = iso(deps.clock.now())
    targets = ResponseTargets.model_validate({**fields, "updated_at": now, "updated_by": actor.user_id})
    problems = target_problems(targets)
    if problems:
        raise ValidationFailed("the response targets do not fit together", details=problems)
    deps.accounts.replace(before, before.model_copy(update={"response_targets": targets, "updated_at": now}))
    return targets


def delete_targets(deps: Deps, actor: Principal, account_id: str) -> None:
    """No targets any more: leads taken from now on get no deadline (running ones run out)."""
    before = _store(deps, actor, account_id)
    actor.require_role(Role.ADMIN)
    if before.response_targets is not None:
        deps.accounts.replace(before, before.model_copy(update={"response_targets": None,
                                                                "updated_at": iso(deps.clock.now())}))


def store_policy(deps: Deps, account_id: str) -> ResponsePolicy | None:
    """What a lead taken now in this store gets: the targets, with the store's hours for their clock."""
    account = deps.accounts.get(account_id)
    return policy_for(account.response_targets, account.hours, account.name) if account is not None else None


def owner_updates(deps: Deps, lead: Lead, owner: str | None, store: Account | None = None) -> dict[str, Any]:
    """The follow-through fields of `lead` once `owner` holds it (None: nobody): a new owner gets the
    store's targets and a first-response deadline; the same owner keeps what runs. `store`: the
    lead's store as the caller read it (else it is read here)."""
    if owner == lead.assigned_to:
        return {}
    if owner and store is not None:
        policy = policy_for(store.response_targets, store.hours, store.name)
    else:
        policy = store_policy(deps, lead.account_id) if owner else None
    return owner_changed(lead, owner, policy, deps.clock.now())
