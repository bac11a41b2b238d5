"""moto's global secondary indexes, looked up by partition instead of walked whole.

moto answers a Query of a GSI by testing every item of the table against the index's key
(table.py `query`): with a few thousand leads every inbox, offer list, group's users and due
sweep cost milliseconds more than the last, and the demo's history spent much of its time there.

`Partitions` remembers, for each GSI hash-key attribute of one moto table, which primary keys
have held each of its values. It is made when the table's first GSI Query asks (from every item)
and told of each item a write leaves (moto_fast.py hooks Table.put_item, UpdateItem and
TransactWriteItems, the only ways moto changes an item's attributes). An entry is never taken
out: an item that moved to another partition, or was deleted, is still a candidate of its old
one, and moto's own test of each candidate against the query's key leaves it out. So the
candidates are always a superset of the answer, and moto decides the answer as before, from
fewer items. Writes made while the patches are off (moto_fast.uninstall) are not noted, so
`install()` starts a new generation: each table's partitions are made again at its next Query."""

from __future__ import annotations

import threading
from typing import Any

ATTRIBUTE = "_leadline_gsi_partitions"
_generation = [0]  # moto_fast.install() starts a new one: writes made while uninstalled were not noted
# Writes made while the partitions are noted, and queries reading them, one at a time: a write's
# hook and a Query can come from two threads (the tests' moto answers threads at once).
LOCK = threading.RLock()

Key = tuple[Any, Any]  # (hash key, range key or None): moto DynamoType values


class Partitions:
    def __init__(self, table: Any) -> None:
        self.generation = _generation[0]
        self.attributes = [_hash_attribute(index) for index in table.global_indexes]
        self.keys: dict[str, dict[Any, dict[Key, None]]] = {name: {} for name in self.attributes if name}
        for item in _every_item(table):
            self.note(item)

    def note(self, item: Any) -> None:
        for name, partitions in self.keys.items():
            value = item.attrs.get(name)
            if value is not None:
                partitions.setdefault(value, {})[(item.hash_key, item.range_key)] = None

    def candidates(self, table: Any, name: str, value: Any) -> list[Any] | None:
        """The items that may be in partition `value` of `name` (None: not an attribute noted here)."""
        partitions = self.keys.get(name)
        if partitions is None:
            return None
        found = []
        for hash_key, range_key in partitions.get(value, {}):
            item = table.get_item(hash_key, range_key)
            if item is not None:
                found.append(item)
        return found


def _hash_attribute(index: Any) -> str | None:
    hashes = [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
    return hashes[0] if len(hashes) == 1 else None


def _every_item(table: Any) -> list[Any]:
    return [item for group in table.items.values() for item in (group.values() if table.range_key_attr else [group])]


def noted(table: Any, item: Any) -> None:
    """An item a write left in `table` (its partitions, if the table has them yet)."""
    partitions = table.__dict__.get(ATTRIBUTE)
    if partitions is not None and item is not None:
        with LOCK:
            partitions.note(item)


def noted_key(table: Any, hash_key: Any, range_key: Any) -> None:
    if table.__dict__.get(ATTRIBUTE) is not None:
        noted(table, table.get_item(hash_key, range_key))


def candidates(table: Any, conditions: list[tuple[str, Any]]) -> list[Any] | None:
    """The items a GSI Query with these hash-key conditions may answer (None: moto lists them all)."""
    if len(conditions) != 1:
        return None
    name, value = conditions[0]
    with LOCK:
        partitions = table.__dict__.get(ATTRIBUTE)
        if partitions is None or partitions.generation != _generation[0]:
            partitions = Partitions(table)
            table.__dict__[ATTRIBUTE] = partitions
        return partitions.candidates(table, name, value)


def new_generation() -> None:
    """Every table's partitions are made again at its next GSI Query."""
    with LOCK:
        _generation[0] += 1
