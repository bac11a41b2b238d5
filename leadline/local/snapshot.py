"""Local persistence: DynamoDB items and S3 objects copied to $LEADLINE_HOME/data and back.

A developer tool, not product code: it reads the whole table with Scan (the product never
does). Files are replaced atomically, so a stack killed mid-write keeps the previous
snapshot. Queue messages are not kept: in-flight jobs of a stopped stack are lost."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from leadline.local.home import DATA_DIR, write_json_atomically

log = logging.getLogger("local_stack.snapshot")

BATCH_WRITE_SIZE = 25


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


class Snapshotter:
    def __init__(self, home: Path, table_name: str, bucket: str, dynamodb: Any, s3: Any) -> None:
        self.table_name = table_name
        self.bucket = bucket
        self.ddb = dynamodb
        self.s3 = s3
        self.table_file = home / DATA_DIR / f"dynamodb-{table_name}.json"
        self.bucket_file = home / DATA_DIR / f"s3-{bucket}.json"
        self._last_digest: dict[Path, str] = {}
        # key -> (etag, saved object): unchanged objects are not downloaded again.
        self._objects: dict[str, tuple[str, dict[str, Any]]] = {}

    # -- reading the live store --------------------------------------------------------------

    def table_items(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in self.ddb.get_paginator("scan").paginate(TableName=self.table_name, ConsistentRead=True):
            items.extend(page.get("Items", []))
        items.sort(key=lambda i: (i["PK"].get("S", ""), i["SK"].get("S", "")))
        return items

    def table_is_empty(self) -> bool:
        return not self.ddb.scan(TableName=self.table_name, Limit=1).get("Items")

    def bucket_objects(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        seen: set[str] = set()
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for head in page.get("Contents", []):
                key, etag = head["Key"], head.get("ETag", "")
                seen.add(key)
                cached = self._objects.get(key)
                if cached is None or cached[0] != etag:
                    got = self.s3.get_object(Bucket=self.bucket, Key=key)
                    cached = (etag, {"key": key, "content_type": got.get("ContentType", "binary/octet-stream"),
                                     "body": base64.b64encode(got["Body"].read()).decode("ascii")})
                    self._objects[key] = cached
                found.append(cached[1])
        for gone in set(self._objects) - seen:
            del self._objects[gone]
        return found

    # -- save and restore ---------------------------------------------------------------------

    def save(self) -> bool:
        """Write both files if their content changed; True when something was written."""
        items = [{k: attribute_to_json(v) for k, v in item.items()} for item in self.table_items()]
        wrote = self._write_if_changed(self.table_file, {"table": self.table_name, "items": items})
        wrote |= self._write_if_changed(self.bucket_file, {"bucket": self.bucket, "objects": self.bucket_objects()})
        return wrote

    def _write_if_changed(self, path: Path, data: dict[str, Any]) -> bool:
        digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
        if self._last_digest.get(path) == digest:
            return False
        write_json_atomically(path, data, mode=0o600)
        self._last_digest[path] = digest
        return True

    def restore(self) -> dict[str, int]:
        """Load the snapshot into an empty table / bucket (a store that has data keeps it)."""
        restored = {"items": 0, "objects": 0}
        if self.table_file.exists() and self.table_is_empty():
            items = [{k: attribute_from_json(v) for k, v in item.items()}
                     for item in json.loads(self.table_file.read_text(encoding="utf-8"))["items"]]
            for start in range(0, len(items), BATCH_WRITE_SIZE):
                self._batch_write(items[start:start + BATCH_WRITE_SIZE])
            restored["items"] = len(items)
        if self.bucket_file.exists() and not self.s3.list_objects_v2(Bucket=self.bucket, MaxKeys=1).get("Contents"):
            for obj in json.loads(self.bucket_file.read_text(encoding="utf-8"))["objects"]:
                self.s3.put_object(Bucket=self.bucket, Key=obj["key"], Body=base64.b64decode(obj["body"]),
                                   ContentType=obj["content_type"])
                restored["objects"] += 1
        return restored

    def _batch_write(self, items: list[dict[str, Any]]) -> None:
        pending: dict[str, Any] = {self.table_name: [{"PutRequest": {"Item": item}} for item in items]}
        while pending:
            reply = self.ddb.batch_write_item(RequestItems=pending)
            pending = reply.get("UnprocessedItems") or {}
