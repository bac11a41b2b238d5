"""People: user records (one per group a person belongs to), their sign-in address and their
memberships. Keys: see keys.py (patterns 5-7 and "People and memberships")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.table import ConditionFailed, Table, Write, entity_fields
from chalicelib.adapters.dynamodb.tenancy import _NEW, SPARSE_READ_AHEAD, _read_on, _transact_unique
from chalicelib.domain.accounts import Group
from chalicelib.domain.errors import CallerChanged, Conflict, NotFound
from chalicelib.domain.users import Membership, User

_SAME_PERSON = "identity_id = :i OR (attribute_not_exists(identity_id) AND user_id = :i)"


class UserRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def _item(self, user: User) -> dict[str, Any]:
        _, gpk, gsk = keys.gsi(1)
        item = {**keys.user_key(user.user_id), "type": "user", **user.model_dump(mode="json")}
        if not user.deleted:
            item.update({gpk: keys.group_users_pk(user.group_id), gsk: user.email})
        return item

    @staticmethod
    def _member_put(user: User) -> dict[str, Any]:
        return {"Put": {"Item": {**keys.membership_key(user.identity, user.group_id), "type": "membership",
                                 "user_id": user.user_id, "joined_at": user.updated_at},
                        "ConditionExpression": _NEW}}

    @staticmethod
    def _address_put(user: User) -> dict[str, Any]:
        return {"Put": {"Item": {**keys.email_lookup_key(user.email), "identity_id": user.identity,
                                 "user_id": user.identity, "members": 1},
                        "ConditionExpression": _NEW}}

    def create(self, user: User) -> None:
        """A new person: their sign-in address, their first membership and its record."""
        _transact_unique(self.table, self._create_ops(user))

    def create_with_group(self, user: User, group: Group) -> None:
        _transact_unique(self.table, [self._group_put(group), *self._create_ops(user)])

    def _create_ops(self, user: User) -> list[dict[str, Any]]:
        return [self._address_put(user), self._member_put(user),
                {"Put": {"Item": self._item(user), "ConditionExpression": _NEW}}]

    def join(self, user: User, group: Group | None = None) -> None:
        """A person who signs in already (`user.identity`, at `user.email`) joins another group
        (a new one, `group`, when they found it)."""
        ops = [self._join_address(user), self._member_put(user),
               {"Put": {"Item": self._item(user), "ConditionExpression": _NEW}}]
        _transact_unique(self.table, [self._group_put(group), *ops] if group else ops)

    @staticmethod
    def _group_put(group: Group) -> dict[str, Any]:
        return {"Put": {"Item": {**keys.group_key(group.group_id), "type": "group", **group.model_dump()},
                        "ConditionExpression": _NEW}}

    @staticmethod
    def _join_address(user: User) -> dict[str, Any]:
        return {"Update": {"Key": keys.email_lookup_key(user.email),
                           "UpdateExpression": "SET members = if_not_exists(members, :one) + :one",
                           "ConditionExpression": f"attribute_exists(PK) AND ({_SAME_PERSON})",
                           "ExpressionAttributeValues": {":one": 1, ":i": user.identity}}}

    def replace(self, before: User, after: User) -> bool:
        """Write `after` over `before` (conditional on `before.updated_at`). When the record leaves
        its person (deleted, moved to another person, or the person's address changes) the
        membership items and address lookups follow in the same transaction. Returns whether
        `before`'s person has no membership left (their sign-in may be removed)."""
        ops: list[dict[str, Any]] = [{"Put": {
            "Item": self._item(after), "ConditionExpression": "updated_at = :seen",
            "ExpressionAttributeValues": {":seen": before.updated_at},
        }}]
        moved = after.identity != before.identity
        leaving = after.deleted and not before.deleted
        if not (moved or leaving or after.email != before.email):
            _transact_unique(self.table, ops)
            return False
        if moved or leaving:
            ops.append({"Delete": {"Key": keys.membership_key(before.identity, before.group_id)}})
        released_op, released = self._leave_address(before)
        if not (moved or leaving or released):
            # Every membership of a person shares their address: one record cannot change it alone.
            raise Conflict("this person's address is shared by other memberships", code="conflict")
        ops.append(released_op)
        if not after.deleted:
            if moved:
                ops.append(self._member_put(after))
            ops.append(self._join_address(after) if self.identity_of(after.email) == after.identity
                       else self._address_put(after))
        _transact_unique(self.table, ops)
        return released and (moved or leaving)

    def _leave_address(self, before: User) -> tuple[dict[str, Any], bool]:
        """The operation that takes one membership off `before`'s address, conditioned on the count read."""
        key = keys.email_lookup_key(before.email)
        members = int((self.table.get(key) or {}).get("members", 1))
        seen = {":seen": members, ":i": before.identity}
        same = f"({_SAME_PERSON}) AND (members = :seen OR attribute_not_exists(members))"
        if members <= 1:
            return {"Delete": {"Key": key, "ConditionExpression": same, "ExpressionAttributeValues": seen}}, True
        return {"Update": {"Key": key, "UpdateExpression": "SET members = :less", "ConditionExpression": same,
                           "ExpressionAttributeValues": {**seen, ":less": members - 1}}}, False

    def set_available(self, user_id: str, available: bool, now: str) -> User:
        try:
            item = self.table.update(
                keys.user_key(user_id), "SET available = :a, updated_at = :now",
                condition="attribute_exists(PK) AND deleted = :no",
                values={":a": available, ":now": now, ":no": False},
            )
        except ConditionFailed as exc:
            raise NotFound("user not found") from exc
        return User.model_validate(entity_fields(item))

    def get(self, user_id: str) -> User | None:
        item = self.table.get(keys.user_key(user_id))
        return User.model_validate(entity_fields(item)) if item else None

    def unchanged(self, user: User) -> Write:
        """A check for a transaction: the record is still as `user` was read, and not deleted
        (CallerChanged otherwise). Every write of a record sets its `updated_at`; `deleted` is checked
        too, so a removal in the same millisecond as the read is not missed."""
        return Write({"ConditionCheck": {
            "Key": keys.user_key(user.user_id),
            "ConditionExpression": "updated_at = :seen AND (attribute_not_exists(deleted) OR deleted = :no)",
            "ExpressionAttributeValues": {":seen": user.updated_at, ":no": False}}}, CallerChanged)

    def identity_of(self, email: str) -> str | None:
        """The person who signs in with `email`, if anyone does."""
        item = self.table.get(keys.email_lookup_key(email))
        return str(item.get("identity_id") or item["user_id"]) if item else None

    def memberships(self, identity: str) -> list[Membership]:
        """Every group the person belongs to, first joined first."""
        items = self.table.query(keys.identity_pk(identity), sk_condition="begins_with(#sk, :m)",
                                 sk_values={":m": "MEMBER#"})
        found = [Membership(identity=identity, group_id=str(i["SK"]).removeprefix("MEMBER#"),
                            user_id=str(i["user_id"]), joined_at=str(i["joined_at"])) for i in items]
        return sorted(found, key=lambda m: (m.joined_at, m.group_id))

    def records_and_groups(self, user_ids: set[str], group_ids: set[str]) -> tuple[dict[str, User], dict[str, Group]]:
        """User records and groups by id in one BatchGetItem (patterns 5 and 1: GET /me's groups)."""
        items = self.table.batch_get([*(keys.user_key(u) for u in sorted(user_ids)),
                                      *(keys.group_key(g) for g in sorted(group_ids))])
        users = [User.model_validate(entity_fields(i)) for i in items if i["SK"] == "USER"]
        groups = [Group.model_validate(entity_fields(i)) for i in items if i["SK"] == "GROUP"]
        return {u.user_id: u for u in users}, {g.group_id: g for g in groups}

    def membership(self, identity: str, group_id: str) -> str | None:
        """The person's user id in that group, if they belong to it."""
        item = self.table.get(keys.membership_key(identity, group_id))
        return str(item["user_id"]) if item else None

    def in_group_by_email(self, group_id: str, email: str) -> User | None:
        """The group's live user with this email (keys.py pattern 6c)."""
        items, _ = self.table.query_page(keys.group_users_pk(group_id), index=1, sk_condition="#sk = :e",
                                         sk_values={":e": email}, limit=1)
        return User.model_validate(entity_fields(items[0])) if items else None

    def list_for_group(self, group_id: str) -> list[User]:
        return [User.model_validate(entity_fields(i)) for i in self.table.query(keys.group_users_pk(group_id), index=1)]

    def page_for_group(self, group_id: str, limit: int, after: tuple[str, str] | None,
                       keep: Callable[[User], bool], sparse: bool) -> tuple[list[User], bool]:
        """Up to `limit` users of the group that `keep` admits, by email after `after` (email,
        user_id), and whether another admitted one follows (keys.py pattern 7, paged). `sparse`:
        `keep` admits few, so each Query reads ahead more than the page needs."""
        _, gpk, gsk = keys.gsi(1)
        start = None
        if after is not None:
            email, user_id = after
            start = {**keys.user_key(user_id), gpk: keys.group_users_pk(group_id), gsk: email}
        return _read_on(lambda start_key, want: self.table.query_page(
            keys.group_users_pk(group_id), index=1, limit=want, start_key=start_key),
            lambda item: User.model_validate(entity_fields(item)), keep, limit, start,
            read_at_least=SPARSE_READ_AHEAD if sparse else limit + 1)


