"""Work done on a copy of moto's in-process DynamoDB in a forked process, its writes brought back.

The demo's history is CPU work in Python, one core per process. `start(work, ...)` forks while it
holds the emulator's DynamoDB lock (so no DynamoDB request is half done in the copy the child gets);
the child runs `work(table)` over a `DirectTable` of its own copy of moto, noting the key of every
item it writes, then writes its result (JSON) and the items now at those keys to a file and exits. The
parent goes on with its own work meanwhile; `Forked.join(into)` waits for the child and puts those
items into this process's moto through `into` (`DirectDynamoDB.put_back`: without stream records,
journaled like any write of the history).

What makes the copy safe to bring back: the child's work writes only items nobody else writes while
it runs (the demo gives each process its own stores). `join` checks it: an item written on both
sides raises `ForkedConflict` naming it, and nothing of the child's is brought back. Only the
forking thread exists in the child; the child uses moto, the product's services and logging (which
Python makes fork-safe), and leaves with `os._exit`, running nothing of the parent's at exit."""

from __future__ import annotations

import json
import os
import signal
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.adapters.dynamodb.table import Table
from leadline.local.capture import touched_keys
from leadline.local.moto_direct import DirectDynamoDB, DirectTable, key_names, stored_item
from leadline.local.state import canonical_key

Keys = dict[tuple[str, str], tuple[str, dict[str, Any]]]  # (table, canonical key) -> (table, key)


class ForkedConflict(RuntimeError):
    """An item written both by the forked work and by this process meanwhile."""


class KeyRecorder:
    """A `written` hook: the key of every item a write touched."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.keys: Keys = {}

    def __call__(self, operation: str, request: dict[str, Any]) -> None:
        for table, key, _ in touched_keys(operation, request, lambda name: key_names(self.region, name)):
            self.keys[(table, canonical_key(key))] = (table, key)


@dataclass
class Forked:
    pid: int
    result_path: Path

    def join(self, into: DirectDynamoDB, written_here: Keys) -> Any:
        """Wait for the child, check that nothing it wrote was written here (`written_here`), put its
        items into this process's moto through `into`; returns what its work returned."""
        _, status = os.waitpid(self.pid, 0)
        try:
            outcome = json.loads(self.result_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RuntimeError(f"the forked work left no result (exit status {status})") from exc
        finally:
            self.result_path.unlink(missing_ok=True)
        if "error" in outcome:
            raise RuntimeError(f"the forked work failed:\n{outcome['error']}")
        both = [key for key in map(tuple, outcome["keys"]) if key in written_here]
        if both:
            raise ForkedConflict(f"{len(both)} items were written on both sides of the fork, e.g. {both[:3]}")
        into.put_back(outcome["items"])
        return outcome["result"]


def in_two(here: Callable[[Table], Any], there: Callable[[Table], Any], table: DirectTable) -> tuple[Any, Any]:
    """`there` in a forked copy of moto while `here` runs in this process over `table`, then the
    child's writes brought back into this process's moto; returns both results."""
    direct = table.direct
    forked = start(there, table.name, direct.region, direct.lock)
    recorder = KeyRecorder(direct.region)
    try:
        mine = here(DirectTable(table.name, direct.telling(recorder)))
    except BaseException:
        os.kill(forked.pid, signal.SIGKILL)
        os.waitpid(forked.pid, 0)
        forked.result_path.unlink(missing_ok=True)
        raise
    return mine, forked.join(direct, recorder.keys)


def start(work: Callable[[Table], Any], table_name: str, region: str, lock: Any) -> Forked:
    """Fork; the child runs `work` on its copy of moto's DynamoDB (see the module's docstring)."""
    handle, name = tempfile.mkstemp(prefix="leadline-fork-", suffix=".json")
    os.close(handle)
    with lock:
        pid = os.fork()
        if pid == 0:
            _child(work, table_name, region, lock, Path(name))  # never returns
    return Forked(pid, Path(name))


def _child(work: Callable[[Table], Any], table_name: str, region: str, lock: Any, out: Path) -> None:
    code = 1
    try:
        lock.release()  # the child's copy of the lock the parent held when it forked
        recorder = KeyRecorder(region)
        result = work(DirectTable(table_name, DirectDynamoDB(region, lock=lock, written=recorder,
                                                             stream_records=False)))
        items = [(table, key, stored_item(region, table, key)) for table, key in recorder.keys.values()]
        outcome: dict[str, Any] = {"result": result, "keys": list(recorder.keys), "items": items}
        code = 0
    except BaseException:  # everything the parent must hear of, whatever it is
        outcome = {"error": traceback.format_exc()}
    try:
        out.write_text(json.dumps(outcome), encoding="utf-8")
    finally:
        os._exit(code)
