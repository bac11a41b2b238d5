"""The demo history's table on the local stack: moto's DynamoDB answered in this process
(`DirectDynamoDB`, moto_direct.py) under the emulator's DynamoDB lock, each acknowledged write
journaled in batches (`JournaledWrites`) so the history survives a restart like every other write."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

from chalicelib.adapters.dynamodb.table import Table
from chalicelib.deps import Deps
from leadline.local.capture import touched_keys
from leadline.local.journal import Effect, Journal
from leadline.local.moto_direct import DirectDynamoDB, DirectTable, key_names, stored_item
from leadline.local.state import canonical_key


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
        return key_names(self._region, table)

    def _image(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        return stored_item(self._region, table, key)


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
