"""Use cases of people: bootstrap a group, invite, read, change, delete, availability.

Who can sign in is kept by the user directory (Cognito when deployed), what they may do by
Leadline's user record. Every change touching both does the directory first and undoes it
if the record's conditional write fails, so the two never disagree for longer than a call."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain.accounts import Group
from chalicelib.domain.errors import Forbidden, NotFound
from chalicelib.domain.paging import ListCursor, decode_cursor, encode_cursor, list_signature
from chalicelib.domain.tenancy import Principal, Role
from chalicelib.domain.users import NotifyPreferences, User, can_view_user, check_can_grant, check_can_manage
from chalicelib.ids import new_id
from chalicelib.schemas.tenancy import CreateUserRequest, UpdateMeRequest, UpdateUserRequest
from chalicelib.services import memberships


@dataclass(frozen=True)
class Bootstrapped:
    group: Group
    user: User


def bootstrap_group(deps: Deps, group_name: str, email: str, name: str) -> Bootstrapped:
    """A new group and its first group_admin (the CLI's `leadline bootstrap`)."""
    from chalicelib.domain.contacts import normalize_email

    now_dt = deps.clock.now()
    now = iso(now_dt)
    group = Group(group_id=new_id("grp", now_dt), name=group_name.strip(), created_at=now)

    def record(user_id: str, identity_id: str | None) -> User:
        return User(user_id=user_id, identity_id=identity_id, group_id=group.group_id, email=normalize_email(email),
                    name=name.strip(), role=Role.GROUP_ADMIN, created_at=now, updated_at=now)

    user = memberships.enrol(deps, group.group_id, normalize_email(email), name.strip(), record,
                             write_new=lambda user: deps.users.create_with_group(user, group),
                             write_join=lambda user: deps.users.join(user, group))
    return Bootstrapped(group, user)


def create_user(deps: Deps, actor: Principal, request: CreateUserRequest) -> User:
    check_can_grant(actor, request.role, request.account_ids)
    now = iso(deps.clock.now())
    fields = request.model_dump(exclude_none=True, exclude={"notify"})
    if request.role is Role.GROUP_ADMIN:
        fields["account_ids"] = []

    def record(user_id: str, identity_id: str | None) -> User:
        return User(user_id=user_id, identity_id=identity_id, group_id=actor.group_id, created_at=now,
                    updated_at=now, notify=NotifyPreferences(**(request.notify.model_dump() if request.notify else {})),
                    **fields)

    return memberships.enrol(deps, actor.group_id, fields["email"], fields["name"], record,
                             write_new=deps.users.create, write_join=deps.users.join)


def get_user(deps: Deps, actor: Principal, user_id: str) -> User:
    user = deps.users.get(user_id)
    if user is None or not can_view_user(actor, user):
        raise NotFound("user not found")
    return user


def own_record(deps: Deps, actor: Principal) -> User:
    """The caller's own record, as the authenticator read it for this request (not read again)."""
    return actor.record or get_user(deps, actor, actor.user_id)


def groups_of(deps: Deps, me: User) -> list[memberships.GroupMembership]:
    return memberships.of_person(deps, me)


def list_users(deps: Deps, actor: Principal, limit: int, cursor: str | None) -> tuple[list[User], str | None]:
    """One page of the users the caller may see, by email, and the next cursor."""
    is_group_admin = actor.role is Role.GROUP_ADMIN
    # Who else one sees depends on one's own stores: the cursor belongs to that view of the group.
    scope = "group" if is_group_admin else [actor.user_id, sorted(actor.account_ids)]
    signature = list_signature("users", actor.group_id, scope)
    after = ListCursor.from_state(decode_cursor(cursor), signature, arity=2).after if cursor else None
    users, more = deps.users.page_for_group(
        actor.group_id, limit, (after[0], after[1]) if after else None,
        keep=lambda u: can_view_user(actor, u), sparse=not is_group_admin)
    following = ListCursor(signature, (users[-1].email, users[-1].user_id)) if more and users else None
    return users, encode_cursor(following.to_state()) if following else None


def update_user(deps: Deps, actor: Principal, user_id: str, request: UpdateUserRequest) -> User:
    target = get_user(deps, actor, user_id)
    changes = request.model_dump(exclude_unset=True)
    if changes.get("notify") is not None:
        changes["notify"] = NotifyPreferences(**changes["notify"])
    changes = {k: v for k, v in changes.items() if v is not None or k == "phone"}
    privileged = {"role", "account_ids", "restricted", "teams", "email"} & changes.keys()
    if target.user_id == actor.user_id:
        if Role(changes.get("role", target.role)).rank > target.role.rank:
            raise Forbidden("nobody raises their own role")
        if privileged and actor.role.rank < Role.ADMIN.rank:
            raise Forbidden("ask an admin to change your role, accounts, teams or email")
        if set(changes.get("account_ids", [])) - set(target.account_ids) and actor.role is not Role.GROUP_ADMIN:
            raise Forbidden("nobody grants themselves accounts")
    else:
        check_can_manage(actor, target)
    if "role" in changes or "account_ids" in changes:
        check_can_grant(actor, Role(changes.get("role", target.role)), changes.get("account_ids", target.account_ids))
    after = target.model_copy(update={**changes, "updated_at": iso(deps.clock.now())})
    after = User.model_validate(after.model_dump())
    if after.role is Role.GROUP_ADMIN:
        after = after.model_copy(update={"account_ids": []})
    if after.email == target.email:
        deps.users.replace(target, after)
        _became_available(deps, target, after)
        return after
    after = memberships.move_to_address(deps, target, after)
    _became_available(deps, target, after)
    return after


def update_me(deps: Deps, actor: Principal, request: UpdateMeRequest) -> User:
    me = get_user(deps, actor, actor.user_id)
    changes = request.model_dump(exclude_unset=True)
    if changes.get("notify") is not None:
        changes["notify"] = NotifyPreferences(**changes["notify"])
    changes = {k: v for k, v in changes.items() if v is not None or k == "phone"}
    after = me.model_copy(update={**changes, "updated_at": iso(deps.clock.now())})
    deps.users.replace(me, User.model_validate(after.model_dump()))
    _became_available(deps, me, after)
    return after


def _became_available(deps: Deps, before: User, after: User) -> None:
    """An agent back at work: their stores' delinquent leads are offered again (services/delinquent.py)."""
    if after.available and not before.available:
        from chalicelib.services.delinquent import agent_available

        agent_available(deps, before, after)


def delete_user(deps: Deps, actor: Principal, user_id: str) -> None:
    target = get_user(deps, actor, user_id)
    if target.user_id == actor.user_id:
        raise Forbidden("you cannot delete yourself")
    check_can_manage(actor, target)
    memberships.leave(deps, target, target.model_copy(update={"deleted": True, "updated_at": iso(deps.clock.now())}))
