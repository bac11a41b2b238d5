"""The due index (GSI7): what becomes due at a time — pending offers, leads waiting for an opening,
outbound messages waiting to be handed over — for the every-minute sweeps. Keys: keys.py (pattern 24).

Sharded: an entry's partition is `DUE#{kind}#{shard}`, the shard a stable hash of the entry's id, so
the timers of every tenant are spread over DUE_SHARDS partitions instead of one (keys.py says what
rate that supports). A sweep reads every shard: a page goes on to the next shard until it is full,
and its cursor names the shard and the position in it."""

from __future__ import annotations

import zlib
from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.table import Item, Table

DUE_INDEX = 7
DUE_SHARDS = keys.DUE_SHARDS
_, DUE_PK, DUE_SK = keys.gsi(DUE_INDEX)
# Sorts after every id character: `{time}#~` is an upper bound for every `{time}#{id}` key.
_AFTER_ANY_ID = "#~"


def shard_of(item_id: str) -> int:
    """Stable across processes and releases (not Python's salted hash()); ids are ULID-based, so their
    random tail spreads them evenly."""
    return zlib.crc32(item_id.encode()) % DUE_SHARDS


def due_entry(kind: str, item_id: str, due_at: str) -> dict[str, str]:
    """The index attributes that put an item in the due index at `due_at`."""
    return {DUE_PK: keys.due_pk(kind, shard_of(item_id)), DUE_SK: f"{due_at}#{item_id}"}


class DueIndex:
    def __init__(self, table: Table) -> None:
        self.table = table

    def page(self, kind: str, now: str, limit: int, start: dict[str, Any] | None = None,
             ) -> tuple[list[Item], dict[str, Any] | None]:
        """Up to `limit` entries of `kind` due by `now`, and where the next page starts (None when every
        shard has been read). Shard by shard, oldest first within each; a page is short or empty only
        when nothing more is due."""
        shard = int(start["shard"]) if start else 0
        key = start.get("key") if start else None
        found: list[Item] = []
        while shard < DUE_SHARDS:
            items, key = self.table.query_page(
                keys.due_pk(kind, shard), index=DUE_INDEX, sk_condition="#sk <= :now",
                sk_values={":now": now + _AFTER_ANY_ID}, limit=limit - len(found), start_key=key)
            found += items
            if key is None:
                shard += 1
            if len(found) >= limit:
                break
        return found, ({"shard": shard, "key": key} if shard < DUE_SHARDS else None)

    def all_due(self, kind: str, now: str, limit: int) -> list[Item]:
        """Every entry due by `now`, at most `limit` (the next sweep takes the rest)."""
        found: list[Item] = []
        start: dict[str, Any] | None = None
        while len(found) < limit:
            items, start = self.page(kind, now, min(limit - len(found), 500), start)
            found += items
            if start is None:
                break
        return found
