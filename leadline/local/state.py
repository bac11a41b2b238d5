"""What the local emulator holds, as plain data: the snapshot's content and the fold of journal effects.

- tables: `region/table` -> canonical key -> item (DynamoDB JSON, binary values as base64)
- queues: `account/region/queue` -> message id -> message (body, attributes, timestamps)
- buckets: bucket -> key -> object (headers, metadata, and the sha256 of its body, which is
  a file of its own under `data/blobs/`, so neither the journal nor the snapshot copies it)
- stream_backlog: `region/table` -> canonical key of the items written with a stream record
  the stream consumer has not taken yet (streams.py `carries_stream_record`); a
  `stream_delivered` effect takes them off. The stream itself lives in moto's memory; at the
  next start these items' records are made again (moto_state.restore_items), so a crash loses
  none. Those items are written once (conditional puts), so a key names its one record.

Applying an effect is idempotent and order matters only per key, which is what lets the
compactor fold sealed journal segments into the snapshot in the background."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leadline.local.journal import Effect, fsync_directory
from leadline.local.streams import carries_stream_record

log = logging.getLogger("local_stack.state")

SNAPSHOT_FILE = "snapshot.json"
SNAPSHOT_FORMAT = 1
BLOBS_DIR = "blobs"


def attribute_to_json(value: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB attribute value with its binary parts (B, BS) as base64 text."""
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": base64.b64encode(inner).decode("ascii")}
    if kind == "BS":
        return {"BS": [base64.b64encode(b).decode("ascii") for b in inner]}
    if kind == "M":
        return {"M": {k: attribute_to_json(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [attribute_to_json(v) for v in inner]}
    return value


def attribute_from_json(value: dict[str, Any]) -> dict[str, Any]:
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(b) for b in inner]}
    if kind == "M":
        return {"M": {k: attribute_from_json(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [attribute_from_json(v) for v in inner]}
    return value


def canonical_key(key: dict[str, Any]) -> str:
    return json.dumps(key, sort_keys=True, separators=(",", ":"))


@dataclass
class StoreState:
    tables: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    queues: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    buckets: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    stream_backlog: dict[str, set[str]] = field(default_factory=dict)
    # message id -> queue: SQS moves a message to its dead-letter queue under the same id.
    _message_queue: dict[str, str] = field(default_factory=dict)

    def apply(self, effect: Effect) -> None:
        kind = effect["kind"]
        if kind == "item":
            table = self.tables.setdefault(effect["table"], {})
            if effect["item"] is None:
                table.pop(effect["key"], None)
                self._stream_taken(effect["table"], [effect["key"]])
            else:
                inserted = effect["key"] not in table
                table[effect["key"]] = effect["item"]
                if carries_stream_record(effect["item"], inserted):
                    self.stream_backlog.setdefault(effect["table"], set()).add(effect["key"])
        elif kind == "stream_delivered":
            self._stream_taken(effect["table"], effect["keys"])
        elif kind == "table_deleted":
            self.tables.pop(effect["table"], None)
            self.stream_backlog.pop(effect["table"], None)
        elif kind == "message":
            message = effect["message"]
            self._drop_message(message["id"])
            self.queues.setdefault(effect["queue"], {})[message["id"]] = message
            self._message_queue[message["id"]] = effect["queue"]
        elif kind == "message_deleted":
            self._drop_message(effect["id"])
        elif kind == "queue_emptied":
            for message_id in self.queues.pop(effect["queue"], {}):
                self._message_queue.pop(message_id, None)
        elif kind == "object":
            if effect["object"] is None:
                self.buckets.get(effect["bucket"], {}).pop(effect["key"], None)
            else:
                self.buckets.setdefault(effect["bucket"], {})[effect["key"]] = effect["object"]
        elif kind == "bucket":
            if effect["exists"]:
                self.buckets.setdefault(effect["bucket"], {})
            else:
                self.buckets.pop(effect["bucket"], None)
        elif kind == "reset":
            self.tables.clear()
            self.queues.clear()
            self.buckets.clear()
            self.stream_backlog.clear()
            self._message_queue.clear()
        else:
            raise ValueError(f"unknown journal effect {kind!r}")

    def _stream_taken(self, table: str, keys: list[str]) -> None:
        backlog = self.stream_backlog.get(table)
        if backlog is not None:
            backlog.difference_update(keys)
            if not backlog:
                del self.stream_backlog[table]

    def _drop_message(self, message_id: str) -> None:
        queue = self._message_queue.pop(message_id, None)
        if queue is not None:
            self.queues.get(queue, {}).pop(message_id, None)

    def blob_digests(self) -> set[str]:
        return {obj["blob"] for objects in self.buckets.values() for obj in objects.values()}

    def counts(self) -> dict[str, int]:
        return {"items": sum(len(t) for t in self.tables.values()),
                "messages": sum(len(q) for q in self.queues.values()),
                "objects": sum(len(b) for b in self.buckets.values())}

    # -- the snapshot file --------------------------------------------------------------------

    def to_json(self, through_segment: int) -> dict[str, Any]:
        return {"format": SNAPSHOT_FORMAT, "through_segment": through_segment, "tables": self.tables,
                "queues": self.queues, "buckets": self.buckets,
                "stream_backlog": {table: sorted(keys) for table, keys in self.stream_backlog.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoreState:
        if data.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"snapshot format {data.get('format')!r} is not {SNAPSHOT_FORMAT}")
        state = cls(tables=data["tables"], queues=data["queues"], buckets=data["buckets"],
                    stream_backlog={table: set(keys) for table, keys in data.get("stream_backlog", {}).items()})
        state._message_queue = {mid: queue for queue, messages in state.queues.items() for mid in messages}
        return state


def read_snapshot(data_dir: Path) -> tuple[StoreState, int]:
    """The saved state and the last journal segment folded into it (0: none)."""
    path = data_dir / SNAPSHOT_FILE
    if not path.exists():
        return StoreState(), 0
    data = json.loads(path.read_text(encoding="utf-8"))
    return StoreState.from_json(data), int(data["through_segment"])


def write_snapshot(data_dir: Path, state: StoreState, through_segment: int) -> None:
    """Replace the snapshot atomically and durably: a crash leaves the old one or the new one."""
    write_durably(data_dir / SNAPSHOT_FILE,
                  json.dumps(state.to_json(through_segment), separators=(",", ":")).encode("utf-8"))


def write_durably(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    fsync_directory(path.parent)


class BlobStore:
    """S3 object bodies by sha256: written (durably) once, shared by journal and snapshot."""

    def __init__(self, data_dir: Path) -> None:
        self.directory = data_dir / BLOBS_DIR

    def put(self, body: bytes) -> str:
        digest = hashlib.sha256(body).hexdigest()
        path = self.directory / digest
        if not path.exists():
            write_durably(path, body)
        return digest

    def get(self, digest: str) -> bytes:
        return (self.directory / digest).read_bytes()

    def keep_only(self, digests: set[str]) -> int:
        """Delete the bodies no object refers to any more; only when no write is in flight."""
        if not self.directory.exists():
            return 0
        removed = 0
        for path in self.directory.iterdir():
            if path.name not in digests:
                path.unlink()
                removed += 1
        return removed


def import_legacy_snapshots(data_dir: Path, blobs: BlobStore, region: str) -> tuple[StoreState, list[Path]]:
    """The per-store files the stack wrote before the journal (`dynamodb-<table>.json`,
    `s3-<bucket>.json`), so an upgrade keeps the data; returns the state and the files read."""
    state = StoreState()
    read: list[Path] = []
    for path in sorted(data_dir.glob("dynamodb-*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        table = state.tables.setdefault(f"{region}/{data['table']}", {})
        for item in data["items"]:
            table[canonical_key({"PK": item["PK"], "SK": item["SK"]})] = item
        read.append(path)
    for path in sorted(data_dir.glob("s3-*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        objects = state.buckets.setdefault(data["bucket"], {})
        for obj in data["objects"]:
            body = base64.b64decode(obj["body"])
            objects[obj["key"]] = {"blob": blobs.put(body), "size": len(body),
                                   "headers": {"Content-Type": obj["content_type"]}, "metadata": {}}
        read.append(path)
    if read:
        log.info("imported %s from the snapshot files of an earlier version", state.counts())
    return state, read
