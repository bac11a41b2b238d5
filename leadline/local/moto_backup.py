"""What a TransactWriteItems can change, kept aside so a cancelled one is undone (moto_fast.py).

moto backs a transaction up by deep-copying every table it names; moto_fast hands moto the table
itself instead and keeps just the items the transaction names, as they were (a deep copy only of
those an Update changes in place: a Put makes a new item and a Delete takes it away), and each
table's stream length: `restore` puts those items back and drops the stream records the
cancelled transaction left."""

from __future__ import annotations

import copy
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType


class TransactionBackup:
    """The items a transaction names, as they were before it, and each table's stream length."""

    def __init__(self, backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        self.items: list[tuple[Any, DynamoType, DynamoType | None, Any]] = []
        self.streams: dict[int, tuple[Any, int]] = {}
        self.tables: dict[int, Any] = {}
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName", ""))
            attrs = op.get("Item") if "Item" in op else op.get("Key")
            if table is None or not isinstance(attrs, dict) or table.hash_key_attr not in attrs:
                continue  # moto rejects it before changing anything
            hash_key = DynamoType(attrs[table.hash_key_attr])
            range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr in attrs else None
            if table.has_range_key and range_key is None:
                continue
            self.tables[id(table)] = table
            before = table.get_item(hash_key, range_key)
            # A Put makes a new item and a Delete takes it away: only an Update changes the item in place.
            self.items.append((table, hash_key, range_key, copy.deepcopy(before) if "Update" in entry else before))
            shard = table.stream_shard
            if shard is not None and id(table) not in self.streams:
                self.streams[id(table)] = (shard, len(shard.items))

    def restore(self) -> None:
        for table, hash_key, range_key, before in reversed(self.items):
            if range_key is not None:
                if before is None:
                    table.items[hash_key].pop(range_key, None)
                else:
                    table.items[hash_key][range_key] = before
            elif before is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = before
        for shard, length in self.streams.values():
            del shard.items[length:]
