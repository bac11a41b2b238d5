"""People and the rules for who may create or change whom."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import Field

from chalicelib.domain.errors import Forbidden, NotFound
from chalicelib.domain.tenancy import Caller, Principal, Role
from chalicelib.model import BaseModel


class NotifyPreferences(BaseModel):
    """Where a person's alerts go: in the app, by email to their sign-in address, by SMS to their phone,
    and to a personal `forward_email` address as well (None: nowhere else)."""

    in_app: bool = True
    email: bool = False
    sms: bool = False
    forward_email: str | None = None


class User(BaseModel):
    """A person's membership in one group: what they may do there.

    The person is `identity` (the directory's `sub`, carried by their tokens); a person in
    several groups has one record per group. The first record of a person has
    `user_id == identity` (so `identity_id` is left empty); a later one gets its own id."""

    user_id: str
    identity_id: str | None = None
    group_id: str
    email: str
    name: str
    role: Role
    account_ids: list[str] = Field(default_factory=list)
    phone: str | None = None
    restricted: bool = False
    teams: list[str] = Field(default_factory=list)
    notify: NotifyPreferences = Field(default_factory=NotifyPreferences)
    available: bool = True
    deleted: bool = False
    created_at: str
    updated_at: str

    @property
    def identity(self) -> str:
        return self.identity_id or self.user_id

    def principal(self, group_stores: Callable[[], frozenset[str]] | None = None) -> Principal:
        """`group_stores`: for a group_admin, what reads every store of the group (when a list needs it)."""
        return Principal(
            user_id=self.user_id, group_id=self.group_id, role=self.role,
            account_ids=frozenset(self.account_ids), restricted=self.restricted,
            email=self.email, name=self.name, group_stores=group_stores, record=self,
        )

    def caller(self) -> Caller:
        """This record's person asking to act in its group (what a token of theirs with `X-Leadline-Group` says)."""
        return Caller(self.identity, self.group_id)


@dataclass(frozen=True)
class Membership:
    """That `identity` belongs to `group_id` as the user record `user_id` (joined at `joined_at`)."""

    identity: str
    group_id: str
    user_id: str
    joined_at: str


def can_view_user(actor: Principal, user: User) -> bool:
    if user.group_id != actor.group_id or user.deleted:
        return False
    if Role.GROUP_ADMIN in (actor.role, user.role) or actor.user_id == user.user_id:
        return True
    return bool(set(user.account_ids) & actor.account_ids)


def check_can_grant(actor: Principal, role: Role, account_ids: list[str]) -> None:
    """May `actor` give someone this role over these accounts?"""
    actor.require_role(Role.ADMIN)
    if role.rank > actor.role.rank:
        raise Forbidden(f"an {actor.role.value} cannot grant the {role.value} role")
    if role is Role.GROUP_ADMIN:
        if actor.role is not Role.GROUP_ADMIN:
            raise Forbidden("only a group_admin can grant group_admin")
        return
    outside = [a for a in account_ids if a not in actor.visible_account_ids]
    if outside:
        # Accounts of another tenant are simply unknown to the caller.
        raise NotFound("account not found", details=[{"field": "account_ids", "message": f"unknown: {outside[0]}"}])


def check_can_manage(actor: Principal, target: User) -> None:
    """May `actor` change or delete `target` (other than themselves)?"""
    if not can_view_user(actor, target):
        raise NotFound("user not found")
    actor.require_role(Role.ADMIN)
    if target.role.rank > actor.role.rank:
        raise Forbidden(f"an {actor.role.value} cannot manage a {target.role.value}")
    if actor.role is Role.ADMIN and not set(target.account_ids) <= actor.account_ids:
        raise Forbidden("that user also works in accounts you do not manage")
