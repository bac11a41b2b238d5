"""Groups and accounts (stores). Keys: see keys.py (patterns 1-4, 39); people are in people.py."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from chalicelib.adapters.dynamodb import keys, senders
from chalicelib.adapters.dynamodb.cadences import arrivals_fill
from chalicelib.adapters.dynamodb.table import Table, TransactionCancelled, entity_fields
from chalicelib.domain.accounts import Account, Group, SmsNumberOwner
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.inbound import SenderHint

_NEW = "attribute_not_exists(PK)"
T = TypeVar("T")
# Each Query of a list whose caller sees few of the partition's items (an agent's colleagues in
# a large group) reads at least this many, so a page takes a few Queries rather than dozens.
SPARSE_READ_AHEAD = 100


def api_key_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()



class GroupRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, group_id: str) -> Group | None:
        item = self.table.get(keys.group_key(group_id))
        return Group.model_validate(entity_fields(item)) if item else None


class AccountRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def _item(self, account: Account) -> dict[str, Any]:
        _, gpk, gsk = keys.gsi(1)
        _, all_pk, all_sk = keys.gsi(2)  # every store, for the nightly reports (keys.py pattern 31)
        return {**keys.account_key(account.account_id), "type": "account", **account.model_dump(),
                gpk: keys.group_accounts_pk(account.group_id), gsk: account.account_id,
                all_pk: keys.all_accounts_pk(), all_sk: account.account_id}

    def _lookup_puts(self, account: Account) -> list[dict[str, Any]]:
        ops = [{"Put": {"Item": {**keys.api_key_lookup_key(api_key_hash(account.api_key)),
                                  "account_id": account.account_id},
                        "ConditionExpression": _NEW}}]
        if account.sms_number:
            ops.append({"Put": {"Item": _sms_lookup_item(account), "ConditionExpression": _NEW}})
        if account.messenger_page_id:
            ops.append({"Put": {"Item": {**keys.page_lookup_key(account.messenger_page_id),
                                         "account_id": account.account_id},
                                "ConditionExpression": _NEW}})
        if account.email_from:
            mailbox = {**keys.mailbox_lookup_key(account.email_from), "account_id": account.account_id}
            ops.append({"Put": {"Item": mailbox, "ConditionExpression": _NEW}})
        return ops

    def create(self, account: Account, group: Group | None = None) -> None:
        ops: list[dict[str, Any]] = []
        if group is not None:
            ops.append({"Put": {"Item": {**keys.group_key(group.group_id), "type": "group", **group.model_dump()},
                                "ConditionExpression": _NEW}})
        ops.append({"Put": {"Item": self._item(account), "ConditionExpression": _NEW}})
        # A new store has no cadences: its list of new-lead cadences starts known and empty.
        ops.append(arrivals_fill(account.account_id, set()))
        ops.extend(self._lookup_puts(account))
        _transact_unique(self.table, ops)

    def replace(self, before: Account, after: Account) -> None:
        """Write `after`, moving the SMS number / page lookups, conditional on `before` being current."""
        ops: list[dict[str, Any]] = [{"Put": {
            "Item": self._item(after),
            "ConditionExpression": "updated_at = :seen",
            "ExpressionAttributeValues": {":seen": before.updated_at},
        }}]
        for attr, key_fn in (("sms_number", keys.sms_number_lookup_key), ("messenger_page_id", keys.page_lookup_key),
                             ("email_from", keys.mailbox_lookup_key)):
            old, new = getattr(before, attr), getattr(after, attr)
            if old == new:
                continue
            if old:
                ops.append({"Delete": {"Key": key_fn(old)}})
            if new:
                item = (_sms_lookup_item(after) if attr == "sms_number"
                        else {**key_fn(new), "account_id": after.account_id})
                ops.append({"Put": {"Item": item, "ConditionExpression": _NEW}})
        if after.sms_number and before.sms_number == after.sms_number \
                and before.twilio_account_sid != after.twilio_account_sid:
            # Same number, another Twilio account: the lookup the webhook reads must follow in this
            # transaction, or the number's webhooks would be checked against the old account's token.
            ops.append({"Put": {"Item": _sms_lookup_item(after),
                                "ConditionExpression": "attribute_not_exists(PK) OR account_id = :me",
                                "ExpressionAttributeValues": {":me": after.account_id}}})
        _transact_unique(self.table, ops)

    def get(self, account_id: str) -> Account | None:
        item = self.table.get(keys.account_key(account_id))
        return Account.model_validate(entity_fields(item)) if item else None

    def require(self, account_id: str) -> Account:
        return NotFound.unless(self.get(account_id), "account")

    def list_for_group(self, group_id: str) -> list[Account]:
        items = self.table.query(keys.group_accounts_pk(group_id), index=1)
        return [Account.model_validate(entity_fields(i)) for i in items]

    def ids_for_group(self, group_id: str) -> frozenset[str]:
        return frozenset(a.account_id for a in self.list_for_group(group_id))

    def page_for_group(self, group_id: str, limit: int, after: str | None,
                       keep: Callable[[Account], bool]) -> tuple[list[Account], bool]:
        """Up to `limit` stores of the group that `keep` admits, by account_id after `after`, and
        whether another admitted one follows (keys.py pattern 3, paged)."""
        _, gpk, gsk = keys.gsi(1)
        start = ({**keys.account_key(after), gpk: keys.group_accounts_pk(group_id), gsk: after}
                 if after is not None else None)
        return _read_on(lambda start_key, want: self.table.query_page(
            keys.group_accounts_pk(group_id), index=1, limit=want, start_key=start_key),
            lambda item: Account.model_validate(entity_fields(item)), keep, limit, start, read_at_least=limit + 1)

    def page_of(self, group_id: str, account_ids: Iterable[str], limit: int,
                after: str | None) -> tuple[list[Account], bool]:
        """Up to `limit` of these stores (those of `group_id` that exist), by account_id after `after`,
        and whether another follows: BatchGetItem of just the page's ids, for callers who see a few
        stores of a large group (keys.py pattern 2, batched)."""
        pending = sorted(a for a in set(account_ids) if after is None or a > after)
        found: list[Account] = []
        while pending and len(found) <= limit:
            # One more than the page needs: it tells whether anything follows.
            chunk, pending = pending[:limit + 1 - len(found)], pending[limit + 1 - len(found):]
            items = self.table.batch_get([keys.account_key(a) for a in chunk])
            fetched = (Account.model_validate(entity_fields(i)) for i in items)
            found.extend(sorted((a for a in fetched if a.group_id == group_id), key=lambda a: a.account_id))
        return found[:limit], len(found) > limit

    def _lookup(self, key: dict[str, str]) -> Account | None:
        item = self.table.get(key)
        return self.get(item["account_id"]) if item else None

    def sms_route(self, e164: str, sender: str | None) -> tuple[SmsNumberOwner | None, SenderHint | None]:
        """The store that owns an SMS number and the Twilio account it is on (the SMS webhook needs both
        before it can check the signature), with the pointer of `sender` on that number: one consistent
        BatchGetItem of the number's lookup and the pointer (keys.py pattern 39). The pointer is a hint."""
        number = keys.sms_number_lookup_key(e164)
        wanted = [number, keys.sms_sender_key(e164, sender)] if sender else [number]
        found = {item["SK"]: item for item in self.table.batch_get(wanted, consistent=True)}
        lookup = found.get(number["SK"])
        pointer = next((item for sk, item in found.items() if sk != number["SK"]), None)
        owner = SmsNumberOwner(account_id=str(lookup["account_id"]),
                               twilio_account_sid=lookup.get("twilio_account_sid")) if lookup else None
        return owner, senders.hint_of(pointer) if pointer else None

    def page_owner(self, page_id: str) -> str | None:
        """The id of the store that answers a Messenger page (one GetItem on its lookup item)."""
        item = self.table.get(keys.page_lookup_key(page_id))
        return str(item["account_id"]) if item else None

    def by_api_key(self, api_key: str) -> Account | None:
        return self._lookup(keys.api_key_lookup_key(api_key_hash(api_key)))

    def mailbox_owner(self, address: str) -> str | None:
        """The id of the store whose `email_from` this is (one GetItem on its lookup item)."""
        item = self.table.get(keys.mailbox_lookup_key(address))
        return str(item["account_id"]) if item else None


def _sms_lookup_item(account: Account) -> dict[str, Any]:
    """The number's lookup carries the store's Twilio account as well: the SMS webhook reads this one
    item to find both the store and the auth token that must have signed the request."""
    item: dict[str, Any] = {**keys.sms_number_lookup_key(account.sms_number or ""), "account_id": account.account_id}
    if account.twilio_account_sid:
        item["twilio_account_sid"] = account.twilio_account_sid
    return item


def _transact_unique(table: Table, ops: list[dict[str, Any]]) -> None:
    """One transaction of records with unique values; a lost condition names the value that is taken."""
    try:
        table.transact(ops)
    except TransactionCancelled as exc:
        raise _taken(exc, ops) from exc


def _taken(exc: TransactionCancelled, ops: list[dict[str, Any]]) -> Conflict:
    """Name the unique value another record already holds."""
    for reason, op in zip(exc.reasons, ops, strict=False):
        if reason != "ConditionalCheckFailed":
            continue
        pk = (op.get("Put") or {}).get("Item", {}).get("PK", "")
        for prefix, field in (("SMSNUMBER#", "sms_number"), ("PAGE#", "messenger_page_id"), ("EMAIL#", "email"),
                              ("IDENTITY#", "email"), ("MAILBOX#", "email_from")):
            if pk.startswith(prefix):
                return Conflict.taken(field)
        if "updated_at" in str((op.get("Put") or {}).get("ConditionExpression", "")):
            return Conflict("the record changed meanwhile; read it again and retry", code="conflict")
    return Conflict("the change lost a race with another one", code="conflict")


def _read_on(query: Callable[[dict[str, Any] | None, int], tuple[list[dict[str, Any]], dict[str, Any] | None]],
             parse: Callable[[dict[str, Any]], T], keep: Callable[[T], bool], limit: int,
             start: dict[str, Any] | None, read_at_least: int) -> tuple[list[T], bool]:
    """Query pages until `limit` + 1 kept items or the end of the partition: a filter that drops
    items never makes a short page, and the answer says exactly whether a kept item follows. The
    caller resumes after the last item given out (never after an item the filter dropped)."""
    found: list[T] = []
    while True:
        items, last = query(start, max(limit + 1 - len(found), read_at_least))
        for item in items:
            parsed = parse(item)
            if keep(parsed):
                found.append(parsed)
                if len(found) > limit:
                    return found[:limit], True
        if last is None:
            return found, False
        start = last
