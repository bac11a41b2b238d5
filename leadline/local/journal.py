"""The local emulator's write-ahead journal: one line per acknowledged mutation, on disk first.

Every AWS call that changes state (a DynamoDB write, an SQS message sent or deleted, an S3
object put) is appended here as the *effects* it had — item images, messages, object
references — and fsync'ed before the emulator answers the call, so nothing the product was
told succeeded can be lost by a crash or a power cut.

Effects, not requests: replaying a request would not give the same result (SQS makes new
message ids and receipt handles, a condition may read state that changed), while an effect
("this key now holds this item", "message m is in queue q until t") folds into the snapshot
the same way however often it is applied.

Layout under `data/journal/`: numbered segments `00000042.log`. A segment grows until it
passes `segment_bytes`, then the next one starts and the compactor (persistence.py) folds the
sealed ones into the snapshot off the request path. A line is `<crc32 hex> <json>\\n`; only
the last line of the last segment may be torn (a write the crash interrupted, never
acknowledged), anything else that does not check out is corruption and stops the start."""

from __future__ import annotations

import json
import os
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

Effect = dict[str, Any]

SEGMENT_SUFFIX = ".log"
DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024


class JournalCorrupt(RuntimeError):
    """A journal line that is neither valid nor the torn tail of the last segment."""


class JournalUnavailable(RuntimeError):
    """The journal cannot take writes (closed, or a write to disk failed): answer with an error."""


def encode_line(effects: list[Effect]) -> bytes:
    payload = json.dumps(effects, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


def decode_line(line: bytes) -> list[Effect] | None:
    """The effects of one line, or None when the line does not check out."""
    if not line.endswith(b"\n") or len(line) < 10 or line[8:9] != b" ":
        return None
    payload = line[9:-1]
    try:
        if int(line[:8], 16) != zlib.crc32(payload):
            return None
        effects = json.loads(payload)
    except ValueError:
        return None
    return effects if isinstance(effects, list) else None


def segment_number(path: Path) -> int:
    return int(path.stem)


def segment_paths(directory: Path) -> list[Path]:
    if not directory.exists():
        return []
    found = [p for p in directory.iterdir() if p.suffix == SEGMENT_SUFFIX and p.stem.isdigit()]
    return sorted(found, key=segment_number)


def read_segment(path: Path, *, last: bool) -> Iterator[list[Effect]]:
    """Every line's effects in order; a torn tail is dropped only in the last segment."""
    with open(path, "rb") as source:
        lines = source.readlines()
    for index, line in enumerate(lines):
        effects = decode_line(line)
        if effects is None:
            if last and index == len(lines) - 1:
                return  # the write a crash cut short: it was never acknowledged
            raise JournalCorrupt(f"{path}: line {index + 1} is damaged; move the file aside to start without it")
        yield effects


def fsync_directory(directory: Path) -> None:
    """Make a file's creation or rename in `directory` itself survive a crash."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Journal:
    """Appends lines durably. `commit` returns only once the line is on disk.

    `on_sealed` is called (outside the lock) after a segment is full and the next has begun:
    the compactor's cue."""

    def __init__(self, directory: Path, segment_bytes: int = DEFAULT_SEGMENT_BYTES,
                 on_sealed: Callable[[], None] | None = None) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        self.on_sealed = on_sealed
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._number = 0
        self._size = 0
        self._failure: str | None = None
        self.commits = 0

    @property
    def is_open(self) -> bool:
        return self._fd is not None

    @property
    def current_segment(self) -> int:
        with self._lock:
            return self._number

    def open(self, first_segment: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._start_segment(first_segment)

    def commit(self, effects: list[Effect]) -> None:
        """Append one acknowledged call's effects and fsync; raises JournalUnavailable."""
        if not effects:
            return
        line = encode_line(effects)
        sealed = False
        with self._lock:
            if self._fd is None or self._failure:
                raise JournalUnavailable(self._failure or "the local stack is stopping")
            try:
                os.write(self._fd, line)
                os.fsync(self._fd)
            except OSError as exc:
                # The call's effect is in memory but not on disk: refuse every later write until a
                # restart, so nothing else is acknowledged that a crash could take back.
                self._failure = f"the local stack cannot write its journal ({exc.strerror}); restart it"
                raise JournalUnavailable(self._failure) from exc
            self.commits += 1
            self._size += len(line)
            if self._size >= self.segment_bytes:
                self._close_segment()
                self._start_segment(self._number + 1)
                sealed = True
        if sealed and self.on_sealed is not None:
            self.on_sealed()

    def check(self) -> None:
        """Raise JournalUnavailable when a write now could not be kept (checked before making one)."""
        with self._lock:
            if self._fd is None or self._failure:
                raise JournalUnavailable(self._failure or "the local stack is stopping")

    def fail(self, reason: str) -> None:
        """A change was made that the journal could not record: refuse every later write."""
        with self._lock:
            self._failure = self._failure or reason

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                self._close_segment()

    def _start_segment(self, number: int) -> None:
        path = self.directory / f"{number:08d}{SEGMENT_SUFFIX}"
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._number = number
        self._size = os.fstat(self._fd).st_size
        fsync_directory(self.directory)

    def _close_segment(self) -> None:
        assert self._fd is not None
        os.close(self._fd)  # every line was fsync'ed when it was written
        self._fd = None
