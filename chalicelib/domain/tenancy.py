"""Who may see and do what. Roles and accounts come from the user record, never the token."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.domain.errors import Forbidden, NotFound

if TYPE_CHECKING:
    from chalicelib.domain.users import User


class Role(StrEnum):
    GROUP_ADMIN = "group_admin"
    ADMIN = "admin"
    MANAGER = "manager"
    AGENT = "agent"

    @property
    def rank(self) -> int:
        return {Role.AGENT: 0, Role.MANAGER: 1, Role.ADMIN: 2, Role.GROUP_ADMIN: 3}[self]


@dataclass(frozen=True)
class Caller:
    """Who a verified token says is calling, before any record is read: the person (the token's
    `sub`) and the group they ask to act in (`X-Leadline-Group`; None: their first group)."""

    identity: str
    group_id: str | None = None


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, as the user record describes them."""

    user_id: str
    group_id: str
    role: Role
    account_ids: frozenset[str]
    restricted: bool = False
    email: str = ""
    name: str = ""
    # For a group_admin: reads every store of the group (the authenticator's), on first use only —
    # by the routes that list across stores; one store is authorised on its own record (can_see_account).
    group_stores: Callable[[], frozenset[str]] | None = field(default=None, compare=False, repr=False)
    # The user record this principal was read from (the authenticator's): a use case that needs the
    # caller's own record (notification preferences, phone) takes it from here instead of reading it again.
    record: User | None = field(default=None, compare=False, repr=False)

    @cached_property
    def group_account_ids(self) -> frozenset[str]:
        """A group_admin's stores: every store of the group (read once, when first asked for)."""
        return self.group_stores() if self.group_stores is not None else frozenset()

    @property
    def visible_account_ids(self) -> frozenset[str]:
        return self.group_account_ids if self.role is Role.GROUP_ADMIN else self.account_ids

    def may_see_account_id(self, account_id: str) -> bool:
        """Before the store is read: False when `account_id` cannot be one of the caller's stores. Any
        store may be a group_admin's: theirs is decided on its record (`can_see_account`), not by a read
        of the group's stores."""
        return self.role is Role.GROUP_ADMIN or account_id in self.account_ids

    def can_see_account(self, group_id: str, account_id: str) -> bool:
        """`group_id`: the group a record of the store names (the store's own, a lead's, a cadence's...),
        which a group_admin's stores are exactly: every store whose record names their group."""
        if group_id != self.group_id:
            return False
        return self.role is Role.GROUP_ADMIN or account_id in self.account_ids

    def require_account(self, group_id: str, account_id: str) -> None:
        """404, not 403: a store the caller cannot see does not exist for them."""
        if not self.can_see_account(group_id, account_id):
            raise NotFound("account not found")

    def require_role(self, minimum: Role) -> None:
        if self.role.rank < minimum.rank:
            raise Forbidden(f"needs the {minimum.value} role or higher")

    @property
    def is_manager_or_above(self) -> bool:
        return self.role.rank >= Role.MANAGER.rank

    @property
    def sees_only_own_leads(self) -> bool:
        return self.role is Role.AGENT and self.restricted

    def can_see_lead(self, group_id: str, account_id: str, assigned_to: str | None) -> bool:
        if not self.can_see_account(group_id, account_id):
            return False
        return not self.sees_only_own_leads or assigned_to == self.user_id
