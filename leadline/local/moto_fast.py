"""moto's DynamoDB at a cost that follows what a request touches, not what the table holds.

moto 5 does three things per request in proportion to the whole table or the whole response
model, which made a local stack with a few thousand leads take most of a second per new lead
(and the demo's 90 days of history impossible to write). `install()` patches them, keeping
moto's own code for everything it decides:

- Query sorted every item of the table before filtering (`all_items`), then sorted the matches
  again by the keys asked for. During a Query the table's items are listed unsorted (the
  matches are still sorted by moto), and a Query of the table itself lists only the items of
  the partition asked for.
- Responses of the data-plane calls (GetItem, Query, PutItem, ...) went through moto's generic,
  model-driven serializer; they are already DynamoDB's JSON, so they are dumped as JSON (any
  value JSON cannot take falls back to moto's serializer).
- Every item moto builds checked the 400 KB limit again after each attribute it added (the
  size of all attributes so far, each time): an item is built with one check at the end, which
  measures only an item whose DynamoDB JSON (never shorter than moto's measure) is over the limit.
- TransactWriteItems backed up by deep-copying every table it names, so each transaction costs time
in proportion to everything the table holds: a local stack with a few thousand leads took most of
a second per new lead, and the demo's 90 days of history could not be written at all. `install()`
keeps moto's own transaction code but hands it the table itself as its "copy", and backs up
instead just the items the transaction names (and the length of the table's stream): when moto
cancels the transaction, those items are put back as they were and the stream records its writes
left are dropped, which is all moto's rollback restored that a transaction could have changed.

- DynamoDB Streams' answers (GetRecords: every new and old image of a batch) went through the same
  generic serializer, which cost the local stack's stream poller (and the tests' stream pump) more
  than the writes it reads: they are dumped as JSON too, times as epoch seconds as botocore reads them,
  binary values as base64 (until 2026-11-26 23:50 any binary value, e.g. a report rollup's, sent the
  whole answer back to the generic serializer: 37 % of moto's busy time in the full-size load test).
- A Query of a global secondary index tested every item of the table against the index's key: the
  items of the partition asked for are found through moto_index.py (a superset, which moto's own
  code then tests as before), told of every item Table.put_item, UpdateItem and TransactWriteItems leave.
- Condition expressions were lexed again on every call, and reserved words looked up in a list
  (moto_expressions.py).
- Every request looked its handler's action up with `inspect.getmembers` of the handler class: the
  names are listed once per class.
- SQS's SendMessage counted every message of the queue (moto_fast_sqs.py); its ReceiveMessage,
  DeleteMessage, ChangeMessageVisibility, counts and long polls walked every message of the queue
  (moto_fast_sqs_receive.py).
- moto server matched each request's host against every service's URL patterns (moto_fast_dispatch.py).

Transactions are taken one at a time (the local stack already serializes DynamoDB calls).

The patches lean on moto's internals, so `install()` first checks that the installed moto is the one
they were written against (MOTO_VERSION, requirements-dev.txt's pin) and that every attribute they
replace is still there with the parameters they expect; otherwise it logs why and leaves moto as it
is (slower with a big table, still correct)."""

from __future__ import annotations

import base64
import calendar
import inspect
import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import moto
import moto.core.responses as moto_responses
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import Table
from moto.dynamodb.models.utilities import bytesize
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

from leadline.local import moto_expressions, moto_fast_dispatch, moto_fast_sqs, moto_fast_sqs_receive, moto_index
from leadline.local.moto_backup import TransactionBackup

log = logging.getLogger("local_stack.moto_fast")

# The moto release the patches below were written and tested against (requirements-dev.txt pins it).
MOTO_VERSION = "5.2.5"
# What each patch replaces, and the parameters it relies on (in order).
PATCHED: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    "DynamoDBBackend.transact_write_items": (DynamoDBBackend.transact_write_items, ("self", "transact_items")),
    # _query reads index_name by position: the 7th after hash_key.
    "Table.query": (Table.query, ("self", "hash_key", "range_comparison", "range_objs", "limit", "exclusive_start_key",
                                  "scan_index_forward", "projection_expressions", "index_name")),
    "Table.all_items": (Table.all_items, ("self",)),
    "DynamoHandler.serialized": (DynamoHandler.serialized, ("self", "action_result")),
    "DynamoDBStreamsHandler.serialized": (DynamoDBStreamsHandler.serialized, ("self", "action_result")),
    "Item.__init__": (Item.__init__, ("self", "hash_key", "range_key", "attrs")),
    "Table.put_item": (Table.put_item, ("self", "item_attrs")),
    "DynamoDBBackend.update_item": (DynamoDBBackend.update_item, ("self", "table_name", "key")),
    "ConditionExpressionParser._lex_condition_expression": (ConditionExpressionParser._lex_condition_expression,
                                                            ("self",)),
    "moto.core.responses.method_names_from_class": (moto_responses.method_names_from_class, ("clazz",)),
}


def unsupported_reason() -> str | None:
    """Why the installed moto cannot take the patches (None: it can)."""
    if moto.__version__ != MOTO_VERSION:
        return f"moto {moto.__version__} is installed; moto_fast was written for moto {MOTO_VERSION}"
    own_reason = (moto_fast_sqs.unsupported_reason() or moto_fast_sqs_receive.unsupported_reason()
                  or moto_fast_dispatch.unsupported_reason())
    if own_reason is not None:
        return own_reason
    for name, (function, expected) in PATCHED.items():
        try:
            parameters = tuple(inspect.signature(function).parameters)
        except (TypeError, ValueError):
            return f"{name} is no longer a function"
        if parameters[:len(expected)] != expected:
            return f"{name} takes {parameters}, not {expected}"
    return None


UNSUPPORTED = unsupported_reason()
# Transactions one at a time, and the GSI partitions noted or read in step with them (moto_index.py).
_lock = moto_index.LOCK
_listing = threading.local()
_originals: dict[str, Any] = {}
ITEM_LIMIT = 405000  # moto's own figure (LimitedSizeDict): DynamoDB's 400 KB as measured
JSON_ACTIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem",
                          "BatchWriteItem", "TransactGetItems", "TransactWriteItems"})
STREAM_JSON_ACTIONS = frozenset({"GetRecords", "GetShardIterator", "DescribeStream", "ListStreams"})
_action_names: dict[type, list[str]] = {}


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    with _lock:
        backup = TransactionBackup(self, transact_items)
        for table in backup.tables.values():
            table.__deepcopy__ = lambda memo, same=table: same  # moto's backup: the table itself
        try:
            _originals["transact"](self, transact_items)
        except BaseException:
            backup.restore()
            raise
        finally:
            for table in backup.tables.values():
                del table.__deepcopy__
            for table, hash_key, range_key, _ in backup.items:
                moto_index.noted_key(table, hash_key, range_key)


def _put_item(self: Table, *args: Any, **kwargs: Any) -> Any:
    with _lock:
        item = _originals["put_item"](self, *args, **kwargs)
        moto_index.noted(self, item)
        return item


def _update_item(self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
    with _lock:
        try:
            return _originals["update_item"](self, table_name, key, *args, **kwargs)
        finally:
            table = self.tables.get(table_name)
            if table is not None and table.hash_key_attr in key:
                range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
                moto_index.noted_key(table, DynamoType(key[table.hash_key_attr]), range_key)


def _all_items(self: Table) -> list[Any]:
    listing = getattr(_listing, "current", None)
    if listing is not None and listing[0] is self:
        return listing[1]()
    return _originals["all_items"](self)


def _query(self: Table, hash_key: DynamoType | None, *args: Any, **kwargs: Any) -> Any:
    index_name = args[6] if len(args) > 6 else kwargs.get("index_name")  # after hash_key, as moto passes it
    if index_name:
        # The partition's candidates (moto_index.py), else every item of the table.
        found = moto_index.candidates(self, kwargs.get("hash_key_conditions") or [])

        def listed() -> list[Any]:
            if found is not None:
                return found
            return [item for group in self.items.values()
                    for item in (group.values() if self.range_key_attr else [group])]
    else:
        def listed() -> list[Any]:
            group = self.items.get(hash_key) if hash_key is not None else None
            return [] if group is None else list(group.values()) if self.range_key_attr else [group]
    before = getattr(_listing, "current", None)
    _listing.current = (self, listed)  # this thread's Query only (the tests' moto answers threads at once)
    try:
        return _originals["query"](self, hash_key, *args, **kwargs)
    finally:
        _listing.current = before


def _item_init(self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]) -> None:
    self.hash_key = hash_key
    self.range_key = range_key
    typed = {key: DynamoType(value) for key, value in attrs.items()}
    if _json_length(attrs) > ITEM_LIMIT and sum(bytesize(k) + v.size() for k, v in typed.items()) > ITEM_LIMIT:
        raise ItemSizeTooLarge
    self.attrs = LimitedSizeDict()
    dict.update(self.attrs, typed)


def _json_length(attrs: dict[str, Any]) -> int:
    """An item's length as DynamoDB JSON, never less than moto's measure of its size (each value's
    text is there whole, escaped at no fewer bytes than UTF-8, with its quotes and type); binary values
    and anything else JSON cannot take count as over the limit (moto then measures)."""
    try:
        return len(json.dumps(attrs))
    except (TypeError, ValueError):
        return ITEM_LIMIT + 1


def _as_json(handler: Any, action_result: Any, actions: frozenset[str], original: str) -> Any:
    result = action_result.result
    if isinstance(result, dict) and handler._get_action() in actions:
        try:
            body = json.dumps(result, default=_json_value)
        except (TypeError, ValueError):
            pass
        else:
            return 200, {"Content-Type": "application/x-amz-json-1.0", **handler.response_headers}, body
    return _originals[original](handler, action_result)


def _json_value(value: Any) -> float | str:
    """What moto's own JSON serializer writes for the values json cannot take: a binary value (B, BS, nested in
    a map or list) as base64, a time as epoch seconds."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        # A JSON-protocol timestamp as moto's own serializer writes it: epoch seconds, truncated to the
        # millisecond, a naive time being UTC (moto's utcnow).
        return calendar.timegm(value.utctimetuple()) + (value.microsecond // 1000) / 1000
    raise TypeError(f"not JSON: {type(value).__name__}")


def _serialized(self: DynamoHandler, action_result: Any) -> Any:
    return _as_json(self, action_result, JSON_ACTIONS, "serialized")


def _stream_serialized(self: DynamoDBStreamsHandler, action_result: Any) -> Any:
    return _as_json(self, action_result, STREAM_JSON_ACTIONS, "stream_serialized")


def _method_names_from_class(clazz: Any) -> list[str]:
    names = _action_names.get(clazz)
    if names is None:
        names = _action_names[clazz] = _originals["method_names"](clazz)
    return names


def uninstall() -> None:
    """Give moto its own code back."""
    with _lock:
        if not _originals:
            return
        DynamoDBBackend.transact_write_items = _originals["transact"]  # type: ignore[method-assign]
        Table.query = _originals["query"]  # type: ignore[method-assign]
        Table.all_items = _originals["all_items"]  # type: ignore[method-assign]
        DynamoHandler.serialized = _originals["serialized"]  # type: ignore[method-assign]
        DynamoDBStreamsHandler.serialized = _originals["stream_serialized"]  # type: ignore[method-assign]
        Item.__init__ = _originals["item"]  # type: ignore[method-assign]
        Table.put_item = _originals["put_item"]  # type: ignore[method-assign]
        DynamoDBBackend.update_item = _originals["update_item"]  # type: ignore[method-assign]
        moto_expressions.uninstall()
        moto_responses.method_names_from_class = _originals["method_names"]
        moto_fast_sqs.uninstall()
        moto_fast_sqs_receive.uninstall()
        moto_fast_dispatch.uninstall()
        _originals.clear()
        _action_names.clear()


def install() -> bool:
    """Patch moto's DynamoDB (once per process); False, with a log line saying why, when the installed
    moto is not the one the patches were written for (moto then runs as it is)."""
    if UNSUPPORTED is not None:
        log.warning("moto runs unpatched (slower with a big table): %s", UNSUPPORTED)
        return False
    with _lock:
        if _originals:
            return True
        _originals.update(transact=DynamoDBBackend.transact_write_items, query=Table.query, all_items=Table.all_items,
                          serialized=DynamoHandler.serialized, stream_serialized=DynamoDBStreamsHandler.serialized,
                          item=Item.__init__, method_names=moto_responses.method_names_from_class,
                          put_item=Table.put_item, update_item=DynamoDBBackend.update_item)
        moto_index.new_generation()
        DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
        Table.query = _query  # type: ignore[method-assign]
        Table.all_items = _all_items  # type: ignore[method-assign]
        DynamoHandler.serialized = _serialized  # type: ignore[method-assign,assignment]
        DynamoDBStreamsHandler.serialized = _stream_serialized  # type: ignore[method-assign,assignment]
        Item.__init__ = _item_init  # type: ignore[method-assign]
        Table.put_item = _put_item  # type: ignore[method-assign]
        DynamoDBBackend.update_item = _update_item  # type: ignore[method-assign]
        moto_expressions.install()
        moto_responses.method_names_from_class = _method_names_from_class
        moto_fast_sqs.install()
        moto_fast_sqs_receive.install()
        moto_fast_dispatch.install()
        return True
