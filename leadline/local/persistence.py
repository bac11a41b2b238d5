"""Crash-safe persistence of the in-process emulator: snapshot + journal, recovered at start.

    data/snapshot.json        the state folded up to journal segment N (state.py)
    data/journal/0000000N.log the acknowledged changes since (journal.py)
    data/blobs/<sha256>       S3 object bodies

Start: read the snapshot, fold every later segment into it (the last one may end in a torn
line: a write the crash interrupted, never acknowledged), write that as the new snapshot,
load it into the emulator, then open a fresh segment and start journaling. Running: each
acknowledged change is one fsync'ed line (capture.py, sqs_journal.py); when a segment is full
the compactor thread folds it into the snapshot, off every request's path. Clean stop: the
open segment is folded too, so the next start has nothing to replay."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from leadline.local.journal import (
    DEFAULT_SEGMENT_BYTES,
    Journal,
    JournalUnavailable,
    read_segment,
    segment_number,
    segment_paths,
)
from leadline.local.moto_state import restore_items, restore_messages
from leadline.local.sqs_journal import SqsJournal
from leadline.local.state import (
    BlobStore,
    StoreState,
    canonical_key,
    import_legacy_snapshots,
    read_snapshot,
    write_snapshot,
)
from leadline.local.streams import table_ref

log = logging.getLogger("local_stack.persistence")

JOURNAL_DIR = "journal"
S3_HEADER_ARGUMENTS = {"Content-Type": "ContentType", "Content-Encoding": "ContentEncoding",
                       "Content-Disposition": "ContentDisposition", "Content-Language": "ContentLanguage",
                       "Cache-Control": "CacheControl", "x-amz-server-side-encryption": "ServerSideEncryption"}


class Persistence:
    def __init__(self, data_dir: Path, region: str, segment_bytes: int = DEFAULT_SEGMENT_BYTES) -> None:
        self.data_dir = data_dir
        self.region = region
        self.blobs = BlobStore(data_dir)
        self.journal = Journal(data_dir / JOURNAL_DIR, segment_bytes, on_sealed=self._wake_compactor)
        self.sqs = SqsJournal(self.journal)
        self.state = StoreState()
        self.recovered: dict[str, int] = {}  # what `recover` found: items, messages, objects
        self.compactions = 0
        self._through = 0
        self._lock = threading.Lock()  # one fold at a time: the compactor's, or the final one
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._compactor: threading.Thread | None = None

    # -- start ------------------------------------------------------------------------------

    def recover(self) -> StoreState:
        """The saved state with the journal folded in, written back as the snapshot."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        state, through = read_snapshot(self.data_dir)
        legacy: list[Path] = []
        if through == 0 and not (self.data_dir / "snapshot.json").exists():
            state, legacy = import_legacy_snapshots(self.data_dir, self.blobs, self.region)
        self.state, self._through = state, through
        replayed = self._fold(final=True)
        if legacy and not replayed:
            write_snapshot(self.data_dir, self.state, self._through)
        for path in legacy:
            path.unlink()
        self.blobs.keep_only(self.state.blob_digests())
        self.recovered = self.state.counts()
        return self.state

    def load_stores(self, s3: Any) -> dict[str, int]:
        """Put the saved items and objects into the emulator's table(s) and bucket(s)."""
        loaded = {"items": 0, "objects": 0}
        loaded["items"], dropped = restore_items(self.state.tables, self.state.stream_backlog)
        if dropped:
            log.warning("%d saved items belong to tables the stack no longer makes; they are dropped", dropped)
        existing_buckets = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        for bucket, objects in self.state.buckets.items():
            if bucket not in existing_buckets:
                s3.create_bucket(Bucket=bucket)
            for key, obj in objects.items():
                extra = {S3_HEADER_ARGUMENTS[h]: v for h, v in obj["headers"].items() if h in S3_HEADER_ARGUMENTS}
                s3.put_object(Bucket=bucket, Key=key, Body=self.blobs.get(obj["blob"]), Metadata=obj["metadata"],
                              **extra)
                loaded["objects"] += 1
        return loaded

    def load_messages(self) -> int:
        """Put the saved messages back; after every queue (the mappings' too) exists."""
        restored, _ = restore_messages(self.state.queues)
        return restored

    def open(self) -> None:
        """Journal every change from now on."""
        self.sqs.install()
        self.journal.open(self._through + 1)
        self._compactor = threading.Thread(target=self._compact_loop, name="journal-compactor", daemon=True)
        self._compactor.start()

    # -- run and stop -----------------------------------------------------------------------

    def stream_taken(self, records: list[dict[str, Any]]) -> None:
        """Journal that the stream consumer is done with these records (streams.StreamDelivery.taken).
        When that cannot be kept (stopping, a failed disk) they stay in the backlog: made again at the
        next start, which the idempotent consumer takes in its stride."""
        by_table: dict[str, list[str]] = {}
        for record in records:
            by_table.setdefault(table_ref(record), []).append(canonical_key(record["dynamodb"]["Keys"]))
        try:
            self.journal.commit([{"kind": "stream_delivered", "table": table, "keys": keys}
                                 for table, keys in by_table.items()])
        except JournalUnavailable as exc:
            log.warning("%d taken stream records stay in the backlog: %s", len(records), exc)

    def _wake_compactor(self) -> None:
        self._wake.set()

    def _compact_loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                self._fold(final=False)
            except Exception:
                log.exception("folding the journal into the snapshot failed; the journal keeps everything")

    def close(self) -> None:
        """Stop journaling and fold everything into the snapshot (after the last change)."""
        self._stopping.set()
        self._wake.set()
        if self._compactor is not None:
            self._compactor.join()
        self.journal.close()
        self.sqs.uninstall()
        self._fold(final=True)
        self.blobs.keep_only(self.state.blob_digests())

    def _fold(self, *, final: bool) -> int:
        """Apply the segments after the snapshot to the state, write it, delete them. Without
        `final`, only the sealed ones (the journal still writes to the newest). Returns how many
        segments were folded."""
        with self._lock:
            open_segment = self.journal.current_segment if self.journal.is_open else None
            segments = []
            for path in segment_paths(self.journal.directory):
                if segment_number(path) <= self._through:
                    path.unlink()  # folded already: the crash came between snapshot and cleanup
                elif open_segment is None or segment_number(path) < open_segment:
                    segments.append(path)
            if not segments:
                return 0
            for index, path in enumerate(segments):
                for effects in read_segment(path, last=final and index == len(segments) - 1):
                    for effect in effects:
                        self.state.apply(effect)
            through = segment_number(segments[-1])
            write_snapshot(self.data_dir, self.state, through)
            self._through = through
            for path in segments:
                path.unlink()
            self.compactions += 1
            return len(segments)

