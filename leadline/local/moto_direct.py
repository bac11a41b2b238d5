"""DynamoDB calls answered by moto's DynamoDB handler in this process: no HTTP, no botocore.

The demo's history (leadline/demo_history.py) makes some fifty DynamoDB calls per lead. Through
botocore and moto's request pipeline (a signed HTTP request built, a werkzeug request, moto's
model-driven parsing, the answer parsed back) a GetItem costs about 3.5 ms of CPU; handed straight
to moto's `DynamoHandler` it costs 0.2 ms, and the work moto does for it is the same.

`DirectDynamoDB` is the part of a botocore DynamoDB client that chalicelib's `Table` uses, with
the same arguments and answers: the request goes to moto as the JSON botocore would have sent, the
answer comes back as the JSON moto would have sent, and a moto error is raised as the botocore
client's own exception, parsed from moto's error body by botocore's parser (so `exc.response`
carries the CancellationReasons and the old Item as it does over the wire). What it skips is
botocore's parameter validation; `Table` builds every request itself.

On the local stack moto also serves HTTP from other threads: `lock` is the emulator's DynamoDB
lock (calls one at a time, emulator.py), and `written(operation, request)` hears of every
acknowledged write so the stack can journal it (history_table.py `JournaledWrites`).

`stream_records=False` (the demo's history): the writes make no records on the table's stream, as
moto_state.restore_items puts saved items back. The history's report rollups are then built once,
from its report events, by the product's rebuild (leadline/demo.py), not record by record by the
stream consumer; the journal hears that no record of them is waiting (history_table.py)."""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from chalicelib.adapters.dynamodb.table import Table

Written = Callable[[str, dict[str, Any]], None]
TARGET_PREFIX = "DynamoDB_20120810."
BINARY_IN_ANSWER = re.compile(r'"BS?": ?[\["]')
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"})
FORGET_EVERY_CALLS = 500  # moto keeps every model object it made until told to forget (emulator.py)


class DirectDynamoDB:
    """A botocore DynamoDB client's data-plane calls, answered by moto in this process."""

    def __init__(self, region: str, *, lock: AbstractContextManager[Any] | None = None,
                 written: Written | None = None, stream_records: bool = True) -> None:
        import boto3
        from botocore.parsers import create_parser

        # Never called: its exceptions, its service model and botocore's parser read moto's errors.
        self._botocore = boto3.session.Session().client("dynamodb", region_name=region)
        self.exceptions = self._botocore.exceptions
        self._model = self._botocore.meta.service_model
        self._parser = create_parser(self._model.metadata["protocol"])
        self._region = region
        self._account_id = os.environ.get("MOTO_ACCOUNT_ID") or _default_account()
        self._lock = lock or contextlib.nullcontext()
        self._written = written
        self._stream_records = stream_records
        self._calls = 0

    def get_item(self, **params: Any) -> dict[str, Any]:
        return self._call("GetItem", params)

    def batch_get_item(self, **params: Any) -> dict[str, Any]:
        return self._call("BatchGetItem", params)

    def put_item(self, **params: Any) -> dict[str, Any]:
        return self._call("PutItem", params)

    def update_item(self, **params: Any) -> dict[str, Any]:
        return self._call("UpdateItem", params)

    def delete_item(self, **params: Any) -> dict[str, Any]:
        return self._call("DeleteItem", params)

    def query(self, **params: Any) -> dict[str, Any]:
        return self._call("Query", params)

    def transact_write_items(self, **params: Any) -> dict[str, Any]:
        return self._call("TransactWriteItems", params)

    def _call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        from moto.core.exceptions import ServiceException
        from moto.core.responses import ActionResult
        from moto.dynamodb.responses import DynamoHandler
        from werkzeug.exceptions import HTTPException

        wire = json.dumps(params, default=_wire_value)  # what botocore would send
        handler = DynamoHandler()
        handler.current_account, handler.region = self._account_id, self._region
        handler.params = handler.body = json.loads(wire)
        # What moto's setup_class would have set from an HTTP request, as moto's own methods read it.
        handler.method, handler.uri_match, handler.querystring = "POST", {}, {}
        handler.response_headers = {"server": "amazon.com"}
        handler.headers = {"X-Amz-Target": f"{TARGET_PREFIX}{operation}", "Content-Type": "application/x-amz-json-1.0"}
        with self._lock, self._streams_for(operation):
            self._forget_now_and_then()
            try:
                status, _, body = handler.serialized(getattr(handler, _method_name(operation))())
            except ServiceException as exc:
                status, _, body = handler.serialized(ActionResult(exc))
            except HTTPException as exc:  # moto's DynamoDB errors (JsonRESTError)
                status, body = exc.code or 500, exc.description or ""
            if status == 200 and self._written is not None and operation in WRITES:
                self._written(operation, json.loads(wire))
        if status != 200:
            raise self._client_error(operation, int(status), body)
        if not body:
            return {}
        if BINARY_IN_ANSWER.search(body if isinstance(body, str) else body.decode()):
            # Binary values come back base64 on the wire: botocore's parser decodes them as it would.
            response = {"status_code": 200, "headers": {}, "body": body.encode() if isinstance(body, str) else body}
            return dict(self._parser.parse(response, self._model.operation_model(operation).output_shape))
        return dict(json.loads(body))

    @contextlib.contextmanager
    def _streams_for(self, operation: str) -> Iterator[None]:
        """Without stream records: the tables' streams are set aside for the write (the lock is held)."""
        if self._stream_records or operation not in WRITES:
            yield
            return
        tables = list(_backend(self._region).tables.values())
        shards = [table.stream_shard for table in tables]
        for table in tables:
            table.stream_shard = None
        try:
            yield
        finally:
            for table, shard in zip(tables, shards, strict=True):
                table.stream_shard = shard

    @property
    def region(self) -> str:
        return self._region

    @property
    def lock(self) -> AbstractContextManager[Any]:
        return self._lock

    def telling(self, hook: Written) -> DirectDynamoDB:
        """The same calls, `hook` also hearing of each acknowledged write (before this one's `written`)."""
        then = self._written

        def both(operation: str, request: dict[str, Any]) -> None:
            hook(operation, request)
            if then is not None:
                then(operation, request)

        other = copy.copy(self)
        other._written = both
        return other

    def put_back(self, items: list[tuple[str, dict[str, Any], dict[str, Any] | None]]) -> None:
        """Items as another copy of moto left them (table, key, `stored_item` or None: deleted), put
        into this one without stream records (leadline/local/moto_fork.py); `written` hears of each."""
        backend = _backend(self._region)
        with self._lock:
            for table_name, key, image in items:
                table = backend.get_table(table_name)
                shard, table.stream_shard = table.stream_shard, None
                try:
                    if image is None:
                        table.delete_item(*_moto_keys(table, key))
                    else:
                        table.put_item(image, overwrite=True)
                finally:
                    table.stream_shard = shard
                if self._written is not None:
                    self._written(*(("DeleteItem", {"TableName": table_name, "Key": key}) if image is None
                                    else ("PutItem", {"TableName": table_name, "Item": image})))

    def _client_error(self, operation: str, status: int, body: str | bytes) -> Exception:
        """moto's error answer as botocore raises it: the error, and the modeled fields of its shape."""
        response = {"status_code": status, "headers": {}, "body": body.encode() if isinstance(body, str) else body}
        operation_model = self._model.operation_model(operation)
        parsed = self._parser.parse(response, operation_model.output_shape)
        code = parsed.get("Error", {}).get("Code", "")
        shape = self._model.shape_for_error_code(code)
        if shape is not None:
            parsed.update(self._parser.parse(response, shape))
        exception: Exception = self.exceptions.from_code(code)(parsed, operation)
        return exception

    def _forget_now_and_then(self) -> None:
        self._calls += 1
        if self._calls % FORGET_EVERY_CALLS == 0:
            from leadline.local.emulator import forget_tracked_instances

            forget_tracked_instances()


class DirectTable(Table):
    """chalicelib's Table (every request built and every answer read as the product does), its calls
    answered by a `DirectDynamoDB`."""

    def __init__(self, name: str, dynamodb: DirectDynamoDB) -> None:
        super().__init__(name)
        self.direct = dynamodb

    @property
    def _client(self) -> Any:
        return self.direct


def _backend(region: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[os.environ.get("MOTO_ACCOUNT_ID") or _default_account()][region]


def key_names(region: str, table: str) -> list[str]:
    found = _backend(region).get_table(table)
    return [name for name in (found.hash_key_attr, found.range_key_attr) if name]


def _moto_keys(table: Any, key: dict[str, Any]) -> tuple[Any, Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    return DynamoType(key[table.hash_key_attr]), range_key


def stored_item(region: str, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    """The item at `key` as moto holds it (DynamoDB JSON, as the journal keeps items), None if none."""
    found = _backend(region).get_table(table)
    item = found.get_item(*_moto_keys(found, key))
    return None if item is None else dict(item.to_json()["Attributes"])


def _wire_value(value: Any) -> str:
    """A binary attribute value as botocore puts it on the wire: base64."""
    from boto3.dynamodb.types import Binary

    if isinstance(value, Binary):
        value = value.value
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    raise TypeError(f"not a DynamoDB wire value: {type(value).__name__}")


def _method_name(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


def _default_account() -> str:
    from moto.core import DEFAULT_ACCOUNT_ID

    return str(DEFAULT_ACCOUNT_ID)
