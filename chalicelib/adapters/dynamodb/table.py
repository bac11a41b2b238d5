"""A thin layer over the DynamoDB client: plain dicts in and out, numbers as int
(or Decimal when fractional), conditional-check failures turned into domain errors.

Repositories build keys with `keys.py` and call these methods; nothing else in the
code base talks to DynamoDB."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from chalicelib.adapters.aws import client
from chalicelib.config import get_settings
from chalicelib.domain import changes
from chalicelib.domain.errors import Conflict, LostRace, ValidationFailed

Item = dict[str, Any]
# What every entity's item carries besides the entity's own fields.
_KEY_ATTRIBUTES = ("PK", "SK", "type", "ttl")


def entity_fields(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item without its keys, index attributes, entity marker and TTL: the entity's own fields."""
    return {k: v for k, v in item.items() if k not in _KEY_ATTRIBUTES and not k.startswith("GSI")}


@dataclass(frozen=True)
class Write:
    """One operation of a transaction (a Put, Update, Delete or ConditionCheck, in the shape
    `Table.transact` takes) and the named conflict its failed condition means."""

    op: dict[str, Any]
    conflict: type[LostRace] = LostRace


def _serializer() -> Any:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


_SER: Any = None


def _codec() -> Any:
    global _SER
    if _SER is None:
        _SER = _serializer()
    return _SER


def _to_dynamo_value(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo_value(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_to_dynamo_value(v) for v in value]
    return value


def _from_dynamo_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo_value(v) for v in value]
    if isinstance(value, set):
        return sorted(_from_dynamo_value(v) for v in value)
    return value


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    ser, _ = _codec()
    return {k: ser.serialize(_to_dynamo_value(v)) for k, v in item.items() if v is not None}


def deserialize(raw: Mapping[str, Any]) -> Item:
    _, de = _codec()
    return {k: _from_dynamo_value(de.deserialize(v)) for k, v in raw.items()}


class TransactionCancelled(Conflict):
    """A transaction lost a race. `reasons` has one code per item ('None' where it passed)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("the change lost a race with another one", code="conflict")
        self.reasons = reasons

    def failed(self, index: int) -> bool:
        """Whether the condition of the transaction's `index`-th operation failed."""
        return len(self.reasons) > index and self.reasons[index] == "ConditionalCheckFailed"


class ConditionFailed(Conflict):
    def __init__(self, item: Item | None) -> None:
        super().__init__("the item changed or does not exist", code="conflict")
        self.item = item


class Table:
    def __init__(self, name: str | None = None) -> None:
        self.name = name or get_settings().table_name

    @property
    def _client(self) -> Any:
        return client("dynamodb")

    def get(self, key: Mapping[str, str], consistent: bool = False) -> Item | None:
        resp = self._client.get_item(TableName=self.name, Key=serialize(key), ConsistentRead=consistent)
        raw = resp.get("Item")
        return deserialize(raw) if raw else None

    def batch_get(self, keys: list[dict[str, str]], consistent: bool = False) -> list[Item]:
        found: list[Item] = []
        pending = [serialize(k) for k in keys]
        while pending:
            chunk, pending = pending[:100], pending[100:]
            request: dict[str, Any] = {self.name: {"Keys": chunk, **({"ConsistentRead": True} if consistent else {})}}
            while request:
                resp = self._client.batch_get_item(RequestItems=request)
                found.extend(deserialize(i) for i in resp.get("Responses", {}).get(self.name, []))
                request = resp.get("UnprocessedKeys") or {}
        return found

    def put(self, item: Mapping[str, Any], condition: str | None = None,
            names: Mapping[str, str] | None = None, values: Mapping[str, Any] | None = None) -> None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Item": serialize(item)}
        _add_condition(kwargs, condition, names, values)
        try:
            self._client.put_item(**kwargs, ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except self._client.exceptions.ConditionalCheckFailedException as exc:
            raise ConditionFailed(_old_item(exc)) from exc

    def update(self, key: Mapping[str, str], expression: str, *, condition: str | None = None,
               names: Mapping[str, str] | None = None, values: Mapping[str, Any] | None = None) -> Item:
        kwargs: dict[str, Any] = {
            "TableName": self.name, "Key": serialize(key), "UpdateExpression": expression,
            "ReturnValues": "ALL_NEW",
        }
        _add_condition(kwargs, condition, names, values)
        try:
            resp = self._client.update_item(**kwargs, ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except self._client.exceptions.ConditionalCheckFailedException as exc:
            raise ConditionFailed(_old_item(exc)) from exc
        return deserialize(resp.get("Attributes", {}))

    def delete(self, key: Mapping[str, str], condition: str | None = None,
               names: Mapping[str, str] | None = None, values: Mapping[str, Any] | None = None) -> None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Key": serialize(key)}
        _add_condition(kwargs, condition, names, values)
        try:
            self._client.delete_item(**kwargs)
        except self._client.exceptions.ConditionalCheckFailedException as exc:
            raise ConditionFailed(None) from exc

    def query_page(self, pk_value: str, *, index: int | None = None, sk_condition: str | None = None,
                   sk_values: Mapping[str, Any] | None = None, ascending: bool = True, limit: int | None = None,
                   start_key: Mapping[str, Any] | None = None, filter_expression: str | None = None,
                   names: Mapping[str, str] | None = None, values: Mapping[str, Any] | None = None,
                   consistent: bool = False) -> tuple[list[Item], dict[str, Any] | None]:
        """One Query call. `sk_condition` uses `#sk` for the sort attribute, e.g. `#sk BETWEEN :a AND :b`."""
        if index is None:
            pk_attr, sk_attr, index_name = "PK", "SK", None
        else:
            index_name, pk_attr, sk_attr = (f"GSI{index}", f"GSI{index}PK", f"GSI{index}SK")
        expr = "#pk = :pk" + (f" AND {sk_condition}" if sk_condition else "")
        all_names = {"#pk": pk_attr, **({"#sk": sk_attr} if sk_condition else {}), **(names or {})}
        all_values = {":pk": pk_value, **(sk_values or {}), **(values or {})}
        kwargs: dict[str, Any] = {
            "TableName": self.name, "KeyConditionExpression": expr,
            "ExpressionAttributeNames": all_names,
            "ExpressionAttributeValues": serialize(all_values),
            "ScanIndexForward": ascending,
        }
        if index_name:
            kwargs["IndexName"] = index_name
        elif consistent:
            kwargs["ConsistentRead"] = True
        if limit:
            kwargs["Limit"] = limit
        if start_key:
            _check_start_key(start_key, pk_value, (pk_attr, sk_attr, "PK", "SK"))
            kwargs["ExclusiveStartKey"] = serialize(start_key)
        if filter_expression:
            kwargs["FilterExpression"] = filter_expression
        resp = self._client.query(**kwargs)
        items = [deserialize(i) for i in resp.get("Items", [])]
        last = resp.get("LastEvaluatedKey")
        return items, (deserialize(last) if last else None)

    def query(self, pk_value: str, **kwargs: Any) -> Iterator[Item]:
        """Every item of a Query, following pages."""
        start: dict[str, Any] | None = None
        while True:
            items, start = self.query_page(pk_value, start_key=start, **kwargs)
            yield from items
            if not start:
                return

    def transact(self, operations: list[dict[str, Any]]) -> None:
        """operations: [{"Put": {...}} | {"Update": {...}} | {"Delete": {...}} | {"ConditionCheck": {...}}]
        with plain-python Item / Key / ExpressionAttributeValues; TableName is filled in."""
        wire = []
        for op in operations:
            (kind, body), = op.items()
            body = dict(body)
            body["TableName"] = self.name
            if "Item" in body:
                body["Item"] = serialize(body["Item"])
            if "Key" in body:
                body["Key"] = serialize(body["Key"])
            if "ExpressionAttributeValues" in body:
                body["ExpressionAttributeValues"] = serialize(body["ExpressionAttributeValues"])
            wire.append({kind: body})
        try:
            self._client.transact_write_items(TransactItems=wire)
        except self._client.exceptions.TransactionCanceledException as exc:
            reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
            raise TransactionCancelled(reasons) from exc

    def commit(self, writes: Sequence[changes.Write]) -> None:
        """One transaction of repository writes. A failed condition raises the named conflict of the
        first write whose condition failed; a cancellation naming none (a conflicting transaction
        in flight) is a plain LostRace."""
        try:
            self.transact([_op_of(w) for w in writes])
        except TransactionCancelled as exc:
            for index, write in enumerate(writes):
                if exc.failed(index):
                    raise write.conflict() from exc
            raise LostRace() from exc


def _op_of(write: changes.Write) -> dict[str, Any]:
    if not isinstance(write, Write):
        raise TypeError(f"not a DynamoDB repository's write: {write!r}")
    return write.op


def _check_start_key(start: Any, pk_value: str, key_attrs: tuple[str, ...]) -> None:
    """Lists whose cursor is the Query's LastEvaluatedKey get it back from the client: it must be a
    position in this very partition (another user's, store's or list's cursor is not), made of the
    key attributes only, as strings. DynamoDB would answer anything else with a ValidationException,
    a 5xx for what is bad input."""
    if (not isinstance(start, Mapping) or set(start) != set(key_attrs) or start[key_attrs[0]] != pk_value
            or any(not isinstance(v, str) or not v for v in start.values())):
        raise ValidationFailed.field("cursor", "is not a cursor of this list")


def _add_condition(kwargs: dict[str, Any], condition: str | None, names: Mapping[str, str] | None,
                   values: Mapping[str, Any] | None) -> None:
    if condition:
        kwargs["ConditionExpression"] = condition
    if names:
        kwargs["ExpressionAttributeNames"] = dict(names)
    if values:
        kwargs["ExpressionAttributeValues"] = serialize(values)


def _old_item(exc: Any) -> Item | None:
    raw = getattr(exc, "response", {}).get("Item")
    return deserialize(raw) if raw else None
