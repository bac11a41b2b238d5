"""What the emulator's HTTP layer journals: DynamoDB writes, S3 object changes, a moto reset.

A WSGI middleware around moto's dispatcher. For each call that changes state it lets moto do
the work and, if moto answered with success, commits what the call left at every key it touched
before the caller gets its answer: a put's item as sent, a delete as gone, an update's item
read back through moto itself (in this process, no network). Conditions, update expressions
and transactions are evaluated by moto once; the journal keeps their result, never the request
to run again.

DynamoDB calls already run one at a time (emulator.py), so read-back and commit happen in
call order; S3 changes take a lock of their own for the same reason. SQS is journaled by
hooks inside moto's queue model (sqs_journal.py): a message can move to a dead-letter queue
during a receive, which no request shows."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.test import EnvironBuilder

from leadline.local.journal import Effect, Journal, JournalUnavailable
from leadline.local.s3_capture import S3Capture
from leadline.local.state import BlobStore, canonical_key
from leadline.local.wsgi import Answer, call, request_region

DYNAMODB_PREFIX = "DynamoDB_20120810."
ITEM_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
# Calls that write items the read-back cannot name: refused rather than acknowledged and forgotten.
UNJOURNALED_WRITES = frozenset({"RestoreTableFromBackup", "RestoreTableToPointInTime", "ImportTable"})
PARTIQL = frozenset({"ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"})
BATCH_GET_LIMIT = 100


def dynamodb_error(status: str, kind: str, message: str) -> Answer:
    body = json.dumps({"__type": f"com.amazon.coral.validate#{kind}", "message": message}).encode()
    return status, [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(body)))], body


def _is_select(statement: Any) -> bool:
    return isinstance(statement, str) and statement.lstrip().upper().startswith("SELECT")


def partiql_reads_only(operation: str, request: dict[str, Any]) -> bool:
    if operation == "ExecuteStatement":
        return _is_select(request.get("Statement"))
    entries = request.get("Statements") or request.get("TransactStatements") or []
    return all(_is_select(entry.get("Statement")) for entry in entries)


# What a write left at a key: the item it put, None for a delete, READ_BACK for an update (only
# moto knows the result of an update expression, so it is read back after the call).
READ_BACK: dict[str, Any] = {"__read_back__": {"NULL": True}}
Touched = tuple[str, dict[str, Any], dict[str, Any] | None]


def touched_keys(operation: str, request: dict[str, Any], key_names: Callable[[str], list[str]]) -> list[Touched]:
    """(table, key, image) for every item a successful write call changed. A put's image is the
    request's item: replayed, it gives moto exactly what moto made of it the first time."""
    def put(table: str, item: dict[str, Any]) -> Touched:
        return table, {name: item[name] for name in key_names(table) if name in item}, item

    if operation == "PutItem":
        return [put(request["TableName"], request["Item"])]
    if operation in ("UpdateItem", "DeleteItem"):
        return [(request["TableName"], request["Key"], READ_BACK if operation == "UpdateItem" else None)]
    found: list[Touched] = []
    if operation == "BatchWriteItem":
        for table, writes in request["RequestItems"].items():
            for write in writes:
                if "PutRequest" in write:
                    found.append(put(table, write["PutRequest"]["Item"]))
                else:
                    found.append((table, write["DeleteRequest"]["Key"], None))
    elif operation == "TransactWriteItems":
        for entry in request["TransactItems"]:
            if "Put" in entry:
                found.append(put(entry["Put"]["TableName"], entry["Put"]["Item"]))
            elif "Update" in entry:
                found.append((entry["Update"]["TableName"], entry["Update"]["Key"], READ_BACK))
            elif "Delete" in entry:
                found.append((entry["Delete"]["TableName"], entry["Delete"]["Key"], None))
    return found


class JournalingApp:
    """moto's dispatcher, with every acknowledged change committed to `journal` first.

    While the journal is not open (the stack is still loading what it saved) calls pass
    through unrecorded."""

    def __init__(self, dispatcher: Any, journal: Journal, blobs: BlobStore) -> None:
        self.dispatcher = dispatcher
        self.journal = journal
        self.s3 = S3Capture(dispatcher, blobs)
        self._s3_lock = threading.Lock()
        self._key_names: dict[tuple[str, str], list[str]] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not self.journal.is_open:
            return self.dispatcher(environ, start_response)
        service = getattr(self.dispatcher.get_application(environ), "service", None)
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if service == "dynamodb" and target.startswith(DYNAMODB_PREFIX):
            answer = self._dynamodb(environ, target[len(DYNAMODB_PREFIX):])
        elif service == "s3" and environ.get("REQUEST_METHOD") in ("PUT", "POST", "DELETE"):
            with self._s3_lock:
                answer = self.s3.handle(environ, self.journal)
        elif service == "moto_api" and environ.get("PATH_INFO") == "/moto-api/reset":
            answer = self._reset(environ)
        else:
            return self.dispatcher(environ, start_response)
        status, headers, body = answer
        start_response(status, headers)
        return [body]

    # -- DynamoDB ---------------------------------------------------------------------------

    def _dynamodb(self, environ: dict[str, Any], operation: str) -> Answer:
        journaled = operation in ITEM_WRITES or operation == "DeleteTable"
        if not journaled and operation not in UNJOURNALED_WRITES and operation not in PARTIQL:
            if operation in ("CreateTable", "DeleteTable"):
                self._key_names.clear()
            return call(self.dispatcher, environ)
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ = {**environ, "wsgi.input": io.BytesIO(raw), "CONTENT_LENGTH": str(len(raw))}
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            return call(self.dispatcher, environ)  # moto answers the malformed call itself
        if operation in PARTIQL and partiql_reads_only(operation, request):
            return call(self.dispatcher, environ)
        if not journaled:
            return dynamodb_error("400 Bad Request", "ValidationException",
                                  f"the local stack does not support {operation}: it could not keep what it writes")
        try:
            self.journal.check()
        except JournalUnavailable as exc:
            return dynamodb_error("500 Internal Server Error", "InternalServerError", str(exc))
        region = request_region(environ)
        try:
            keys = [] if operation == "DeleteTable" else touched_keys(
                operation, request, lambda table: self._table_key_names(environ, region, table))
        except (KeyError, TypeError, AttributeError):
            # Not a shape DynamoDB takes; refused here rather than risk a change the journal cannot name.
            return dynamodb_error("400 Bad Request", "ValidationException", f"a malformed {operation} request")
        status, headers, body = call(self.dispatcher, environ)
        if not status.startswith("200"):
            return status, headers, body
        try:
            if operation == "DeleteTable":
                self._key_names.clear()
                self.journal.commit([{"kind": "table_deleted", "table": f"{region}/{request['TableName']}"}])
            else:
                self.journal.commit(self._item_images(environ, region, keys))
        except JournalUnavailable as exc:
            return dynamodb_error("500 Internal Server Error", "InternalServerError", str(exc))
        except Exception as exc:  # the write happened but cannot be kept: no later write may be acknowledged
            self.journal.fail(f"the local stack could not record a {operation}: {exc}")
            raise
        return status, headers, body

    def _inner(self, environ: dict[str, Any], operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A DynamoDB call of our own through moto, signed like the caller's (same region)."""
        inner = EnvironBuilder(method="POST", path="/", data=json.dumps(payload).encode(), headers=[
            ("Authorization", str(environ.get("HTTP_AUTHORIZATION", ""))), ("Host", str(environ.get("HTTP_HOST", ""))),
            ("X-Amz-Target", DYNAMODB_PREFIX + operation), ("Content-Type", "application/x-amz-json-1.0"),
        ]).get_environ()
        status, _, body = call(self.dispatcher, inner)
        if not status.startswith("200"):
            raise RuntimeError(f"the journal's own {operation} failed: {status} {body[:200]!r}")
        return dict(json.loads(body))

    def _table_key_names(self, environ: dict[str, Any], region: str, table: str) -> list[str]:
        cached = self._key_names.get((region, table))
        if cached is None:
            try:
                described = self._inner(environ, "DescribeTable", {"TableName": table})
            except RuntimeError:
                return []  # no such table: moto answers the write itself with the error
            cached = [k["AttributeName"] for k in described["Table"]["KeySchema"]]
            self._key_names[(region, table)] = cached
        return cached

    def _item_images(self, environ: dict[str, Any], region: str, touched: list[Touched]) -> list[Effect]:
        """The item now at every key the call touched (None: deleted), updates read back from moto."""
        images = {(table, canonical_key(key)): (key, image) for table, key, image in touched}
        pending = [(table, key) for (table, _), (key, image) in images.items() if image is READ_BACK]
        for start in range(0, len(pending), BATCH_GET_LIMIT):
            request: dict[str, Any] = {}
            for table, key in pending[start:start + BATCH_GET_LIMIT]:
                request.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(key)
                images[(table, canonical_key(key))] = (key, None)  # unless the read finds it
            reply = self._inner(environ, "BatchGetItem", {"RequestItems": request})
            for table, items in reply.get("Responses", {}).items():
                names = self._table_key_names(environ, region, table)
                for item in items:
                    key = {n: item[n] for n in names}
                    images[(table, canonical_key(key))] = (key, item)
        return [{"kind": "item", "table": f"{region}/{table}", "key": key_text, "item": image}
                for (table, key_text), (_, image) in images.items()]

    # -- moto's reset -----------------------------------------------------------------------

    def _reset(self, environ: dict[str, Any]) -> Answer:
        status, headers, body = call(self.dispatcher, environ)
        if status.startswith("200"):
            self._key_names.clear()
            self.journal.commit([{"kind": "reset"}])
        return status, headers, body

