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
acknowledged write so the stack can journal it (`JournaledWrites`).

`stream_records=False` (the demo's history): the writes make no records on the table's stream, as
moto_state.restore_items puts saved items back. The history's report rollups are then built once,
from its report events, by the product's rebuild (leadline/demo.py), not record by record by the
stream consumer; the journal hears that no record of them is waiting (`JournaledWrites(streamless=)`)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from chalicelib.adapters.dynamodb.table import Table
from chalicelib.deps import Deps
from leadline.local.capture import touched_keys
from leadline.local.journal import Effect, Journal
from leadline.local.state import canonical_key

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
        self._direct = dynamodb

    @property
    def _client(self) -> Any:
        return self._direct


class JournaledWrites:
    """What `DirectDynamoDB`'s writes changed, committed to the local stack's journal in batches: the
    keys each write touched are noted, and `flush` commits the items now at those keys (read from
    moto under the DynamoDB lock, so no later write's line can be older than one committed here).
    `streamless`: the writes made no stream records, so none of them waits for the stream consumer
    (without it, the next start would make a record again for each report event, state.py)."""

    def __init__(self, journal: Journal, region: str, lock: AbstractContextManager[Any],
                 batch: int = 2000, streamless: bool = False) -> None:
        self._journal, self._region, self._lock, self._batch = journal, region, lock, batch
        self._streamless = streamless
        self._pending: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        self._mutex = threading.Lock()

    def __call__(self, operation: str, request: dict[str, Any]) -> None:
        """A write's keys (called with the DynamoDB lock held)."""
        for table, key, _ in touched_keys(operation, request, self._key_names):
            self._pending[(table, canonical_key(key))] = (table, key)
        if len(self._pending) >= self._batch:
            self._commit_pending()

    def flush(self) -> None:
        with self._lock:
            self._commit_pending()

    def _commit_pending(self) -> None:
        with self._mutex:
            pending, self._pending = self._pending, {}
            effects: list[Effect] = [
                {"kind": "item", "table": f"{self._region}/{table}", "key": key_text, "item": self._image(table, key)}
                for (table, key_text), (_, key) in pending.items()]
            if self._streamless:
                by_table: dict[str, list[str]] = {}
                for table, key_text in pending:
                    by_table.setdefault(f"{self._region}/{table}", []).append(key_text)
                effects.extend({"kind": "stream_delivered", "table": table, "keys": keys}
                               for table, keys in by_table.items())
            self._journal.commit(effects)

    def _key_names(self, table: str) -> list[str]:
        found = _backend(self._region).get_table(table)
        return [name for name in (found.hash_key_attr, found.range_key_attr) if name]

    def _image(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        from moto.dynamodb.models.dynamo_type import DynamoType

        found = _backend(self._region).get_table(table)
        range_key = DynamoType(key[found.range_key_attr]) if found.range_key_attr else None
        item = found.get_item(DynamoType(key[found.hash_key_attr]), range_key)
        return None if item is None else dict(item.to_json()["Attributes"])


def _backend(region: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[os.environ.get("MOTO_ACCOUNT_ID") or _default_account()][region]


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


@contextlib.contextmanager
def _direct_table(table_name: str, region: str, journal: Journal | None, *, stream_records: bool) -> Iterator[Table]:
    from leadline.local.emulator import DYNAMODB_LOCK

    written = (JournaledWrites(journal, region, DYNAMODB_LOCK, streamless=not stream_records)
               if journal is not None else None)
    try:
        yield DirectTable(table_name, DirectDynamoDB(region, lock=DYNAMODB_LOCK, written=written,
                                                     stream_records=stream_records))
    finally:
        if written is not None:
            written.flush()


@contextlib.contextmanager
def in_process_history_table(table_name: str, region: str, journal: Journal | None) -> Iterator[Table | None]:
    """The demo history's table: moto in this process under the emulator's DynamoDB lock, its writes
    without stream records (the history's rollups are rebuilt from its events at the end, demo.py),
    each journaled when there is a journal (in batches, all of them by the end of the block). None when
    the installed moto is not the one moto_fast.py was written for: the history then goes over HTTP."""
    from leadline.local import moto_fast

    if moto_fast.UNSUPPORTED is not None:
        yield None
        return
    with _direct_table(table_name, region, journal, stream_records=False) as table:
        yield table


@contextlib.contextmanager
def in_process_dynamodb(base: Deps, region: str, journal: Journal | None) -> Iterator[Table | None]:
    """`in_process_history_table`; for the block the app's own table also reaches moto this way, with
    stream records (`set_deps`): what the API and the stack's consumers in this process write meanwhile
    reaches the stream consumer as always. The app's deps are put back at the end."""
    from chalicelib.deps import set_deps

    with in_process_history_table(base.settings.table_name, region, journal) as history:
        if history is None:
            yield None
            return
        with _direct_table(base.settings.table_name, region, journal, stream_records=True) as table:
            set_deps(Deps(clock=base.clock, settings=base.settings, table=table))
            try:
                yield history
            finally:
                set_deps(base)
