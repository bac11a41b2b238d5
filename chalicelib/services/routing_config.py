"""A store's routing config: read (defaults when never set) and replaced by an admin."""

from __future__ import annotations

from typing import Any

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain import routing as rules
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.routing import RoutingConfig
from chalicelib.domain.tenancy import Principal, Role


def routing_config(deps: Deps, account_id: str) -> RoutingConfig:
    return deps.routing.config(account_id) or RoutingConfig(account_id=account_id)


def get_config(deps: Deps, actor: Principal, account_id: str) -> RoutingConfig:
    account = deps.accounts.require(account_id)
    actor.require_account(account.group_id, account.account_id)
    return routing_config(deps, account_id)


def put_config(deps: Deps, actor: Principal, account_id: str, fields: dict[str, Any]) -> RoutingConfig:
    """Replace a store's routing config (admin). Every user it names must work in the store."""
    account = deps.accounts.require(account_id)
    actor.require_account(account.group_id, account.account_id)
    actor.require_role(Role.ADMIN)
    config = RoutingConfig.model_validate({**fields, "account_id": account_id,
                                           "updated_at": iso(deps.clock.now()), "updated_by": actor.user_id})
    users = {u.user_id: u for u in deps.users.list_for_group(account.group_id)}
    problems = []

    def known(user_id: str) -> bool:
        user = users.get(user_id)
        return user is not None and not user.deleted and rules.works_in(user, account_id)

    for i, user_id in enumerate(config.catchall_user_ids):
        if not known(user_id):
            problems.append({"field": f"catchall_user_ids[{i}]", "message": f"{user_id} is not a user of this store"})
    for i, rule in enumerate(config.rules):
        for user_id in rule.weights:
            if not known(user_id):
                problems.append({"field": f"rules[{i}].weights.{user_id}", "message": "is not a user of this store"})
    if problems:
        raise ValidationFailed("the routing config names unknown users", details=problems)
    deps.routing.put_config(config)
    return config
