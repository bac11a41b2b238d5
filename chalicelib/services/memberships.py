"""A person in several groups: one sign-in, one user record per group.

Inviting an address that somebody already signs in with adds a membership to that person and
answers exactly as for a new person, so no answer tells one group about another group's users.
Changing a record's address moves the record to whoever signs in with the new address (or to a
new person), never the sign-in of a person other groups share. The last membership out releases
the person's sign-in. See keys.py ("People and memberships")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeGuard

from chalicelib.deps import Deps
from chalicelib.domain.errors import Conflict
from chalicelib.domain.users import User
from chalicelib.ids import new_id


@dataclass(frozen=True)
class GroupMembership:
    group_id: str
    group_name: str
    user_id: str
    role: str


def enrol(deps: Deps, group_id: str, email: str, name: str, record: Callable[[str, str | None], User],
          write_new: Callable[[User], None], write_join: Callable[[User], None]) -> User:
    """Make `email` a user of `group_id`. `record(user_id, identity_id)` builds the record;
    `write_new` stores a new person's first one, `write_join` another one of a known person
    (each with the new group itself, when bootstrapping one)."""
    identity = deps.users.identity_of(email)
    if identity is not None:
        if deps.users.in_group_by_email(group_id, email) is not None:
            raise Conflict.taken("email")
        user = record(new_id("usr", deps.clock.now()), identity)
        write_join(user)
        return user
    invitation = deps.directory.invite(email, name, deps.clock.now())
    user = record(invitation.user_id, None)
    try:
        write_new(user)
    except BaseException:
        # A concurrent invite of the same address may have linked the same directory user and won.
        if deps.users.get(invitation.user_id) is None:
            deps.directory.withdraw(invitation)
        raise
    return user


def move_to_address(deps: Deps, target: User, after: User) -> User:
    """Give `target` the address `after.email`: the same person keeps their sign-in when nobody
    else shares it; otherwise the record moves to the person at that address (a new one if none)."""
    if deps.users.in_group_by_email(target.group_id, after.email) is not None:
        raise Conflict.taken("email")
    holder = deps.users.identity_of(after.email)
    shared = len(deps.users.memberships(target.identity)) > 1
    if holder is None and not shared:
        deps.directory.change_email(target.identity, after.email)
        try:
            deps.users.replace(target, after)
        except BaseException:
            deps.directory.change_email(target.identity, target.email)
            raise
        return after
    invitation = None
    if holder is None:
        invitation = deps.directory.invite(after.email, after.name, deps.clock.now())
        holder = invitation.user_id
    moved = after.model_copy(update={"identity_id": holder})
    try:
        released = deps.users.replace(target, moved)
    except BaseException:
        if invitation is not None:
            deps.directory.withdraw(invitation)
        raise
    if released:
        deps.directory.remove(target.identity)
    return moved


def leave(deps: Deps, target: User, after: User) -> None:
    """`target`'s membership ends; the person's sign-in goes with their last one."""
    if deps.users.replace(target, after):
        deps.directory.remove(target.identity)


def resolve(deps: Deps, identity: str, group_id: str | None) -> User | None:
    """The user record a token's subject acts as: its membership in `group_id` when asked for,
    else the person's first record (`USER#{identity}`, one read), else their earliest membership."""
    return resolve_from(deps, identity, group_id, deps.users.get(identity))


def resolve_from(deps: Deps, identity: str, group_id: str | None, first: User | None,
                 likely: str | None = None) -> User | None:
    """`resolve` on the person's first record as the caller read it already (None: there is none):
    nothing more is read unless they ask for another group or that record is gone. `likely`: the id of
    the record a use case expects them to act as in that group (an offer's agent): read alone, it
    stands for the group's membership when it is the person's live record in that group."""
    if _live(first, identity) and group_id in (None, first.group_id):
        return first
    if group_id is not None and likely is not None and likely != (first.user_id if first else None):
        found = deps.users.get(likely)
        if _live(found, identity) and found.group_id == group_id:
            return found
    if group_id is not None:
        user_id = deps.users.membership(identity, group_id)
        found = deps.users.get(user_id) if user_id else None
        return found if _live(found, identity) else None
    for membership in deps.users.memberships(identity):
        found = deps.users.get(membership.user_id)
        if _live(found, identity):
            return found
    return None


def of_person(deps: Deps, user: User) -> list[GroupMembership]:
    """The groups the person behind `user` belongs to (for switching with X-Leadline-Group): their
    memberships, then their other records and the groups' names in one read."""
    joined = deps.users.memberships(user.identity)
    records, groups = deps.users.records_and_groups(
        {m.user_id for m in joined if m.user_id != user.user_id}, {m.group_id for m in joined} | {user.group_id})
    records[user.user_id] = user
    found: list[GroupMembership] = []
    for membership in joined:
        record, group = records.get(membership.user_id), groups.get(membership.group_id)
        if _live(record, user.identity) and group is not None:
            found.append(GroupMembership(group.group_id, group.name, membership.user_id, record.role.value))
    if not found:  # a person recorded before memberships existed
        group = groups.get(user.group_id)
        found.append(GroupMembership(user.group_id, group.name if group else "", user.user_id, user.role.value))
    return found


def _live(user: User | None, identity: str) -> TypeGuard[User]:
    return user is not None and not user.deleted and user.identity == identity
