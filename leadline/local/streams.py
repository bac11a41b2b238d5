"""Local DynamoDB stream mapping: what Lambda's event source mapping does for an
`on_dynamodb_record` consumer, for the table the local stack (or a test) made.

- `TableStream` reads every shard of the table's stream in order, from the oldest record
  (TRIM_HORIZON), and hands records over in the shape Lambda gives a function
  (ApproximateCreationDateTime in epoch seconds, binary values base64).
- `StreamDelivery` invokes the handler with batches and honours ReportBatchItemFailures as
  Lambda does for streams: the batch is retried from its first failed record, up to
  `max_retries` times; then that record is skipped and logged (Lambda would send it to the
  on-failure destination).
- `StreamPump` drains the stream into an app's stream consumers on demand (tests, benches):
  what Lambda does within a second of each write, when nothing polls.

Only the records the deployed event source's filters pass are delivered (`passes_filter`,
leadline/package.py STREAM_FILTERS).

A crash must not lose a record the stream made but the consumer never took (DynamoDB keeps a
stream for 24 hours; moto's lives in memory): the journal keeps the keys of such items until
`StreamDelivery.taken` reports them (state.py `stream_backlog`), and the next start writes those
items' records again (moto_state.restore_items). The consumer is idempotent, so a record taken
just before the crash and made again does no harm."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadline.package import STREAM_FILTERS

log = logging.getLogger("local_stack.streams")

MAX_RETRIES = 5
SHARDS_EVERY_SECONDS = 10.0


def _lambda_value(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {k: _lambda_value(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_lambda_value(v) for v in value]
    return value


def lambda_stream_record(raw: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda delivers it."""
    record = dict(raw)
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = created.timestamp()
    for image in ("Keys", "NewImage", "OldImage"):
        if image in dynamodb:
            dynamodb[image] = _lambda_value(dynamodb[image])
    record["dynamodb"] = dynamodb
    record["eventSourceARN"] = stream_arn
    return record


def carries_stream_record(item: dict[str, Any], inserted: bool) -> bool:
    """An item (DynamoDB JSON) whose write (`inserted`: a new item, else a change) makes a record the
    deployed filters pass."""
    return passes_filter({"eventName": "INSERT" if inserted else "MODIFY", "dynamodb": {"NewImage": item}})


def passes_filter(record: dict[str, Any]) -> bool:
    """Lambda's FilterCriteria of the deployed consumer, the patterns it has (ORed): the event's name
    among those listed, and each listed attribute of the new image of the type and one of the values."""
    image = record.get("dynamodb", {}).get("NewImage") or {}
    return any(record.get("eventName") in pattern["eventName"]
               and all((image.get(name) or {}).get(kind) in values
                       for name, typed in pattern["dynamodb"]["NewImage"].items() for kind, values in typed.items())
               for pattern in STREAM_FILTERS)


def table_ref(record: dict[str, Any]) -> str:
    """`region/table` of a delivered record (its eventSourceARN), as the journal names tables."""
    arn = record["eventSourceARN"].split(":", 5)  # ...:table/NAME/stream/LABEL (the label has colons)
    return f"{arn[3]}/{arn[5].split('/')[1]}"


class TableStream:
    """The stream of one table, read shard by shard; `read()` returns what is new since the last call.
    Like Lambda's poller it looks for the table's stream and shards now and then (every
    `SHARDS_EVERY_SECONDS`, on `now`'s clock), not on every read: an idle poll is one GetRecords a shard."""

    def __init__(self, dynamodb: Any, streams: Any, table_name: str,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.dynamodb = dynamodb
        self.streams = streams
        self.table_name = table_name
        self.arn = ""
        self._iterators: dict[str, str | None] = {}
        self._now = now
        self._shard_ids: list[str] = []
        self._shards_at: float | None = None

    def _shards(self) -> list[str]:
        if self._shards_at is not None and self._now() - self._shards_at < SHARDS_EVERY_SECONDS:
            return self._shard_ids
        arn = self.dynamodb.describe_table(TableName=self.table_name)["Table"].get("LatestStreamArn")
        self._shards_at = self._now()
        if not arn:
            self._shard_ids = []
            return []
        if arn != self.arn:
            self.arn, self._iterators = arn, {}
        description = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]
        self._shard_ids = [shard["ShardId"] for shard in description["Shards"]]
        return self._shard_ids

    def read(self, limit: int = 1000) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for shard in self._shards():
            if shard not in self._iterators:
                self._iterators[shard] = self.streams.get_shard_iterator(
                    StreamArn=self.arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            iterator = self._iterators[shard]
            while iterator and len(found) < limit:
                reply = self.streams.get_records(ShardIterator=iterator, Limit=min(1000, limit - len(found)))
                records = reply.get("Records", [])
                found.extend(record for record in (lambda_stream_record(r, self.arn) for r in records)
                             if passes_filter(record))
                iterator = reply.get("NextShardIterator")
                self._iterators[shard] = iterator
                if not records:
                    break
        return found


@dataclass
class StreamDelivery:
    """Batches to a handler with Lambda's stream retry rules. `invoke(event)` runs the handler;
    `taken(records)` hears of the records done with (handled, or skipped after the retries)."""

    invoke: Callable[[dict[str, Any]], Any]
    batch_size: int = 100
    max_retries: int = MAX_RETRIES
    taken: Callable[[list[dict[str, Any]]], None] | None = None

    def __post_init__(self) -> None:
        self.pending: list[dict[str, Any]] = []
        self.retries = 0
        self.skipped: list[dict[str, Any]] = []

    def offer(self, records: list[dict[str, Any]]) -> None:
        self.pending.extend(records)

    def deliver_one_batch(self) -> bool:
        """Deliver the next batch; True when it all succeeded (or there was nothing to deliver)."""
        if not self.pending:
            return True
        batch = self.pending[:self.batch_size]
        first_failed = self._first_failed(batch)
        if first_failed is None:
            self.pending = self.pending[len(batch):]
            self.retries = 0
            self._taken(batch)
            return True
        self.retries += 1
        if self.retries > self.max_retries:
            record = batch[first_failed]
            log.error("stream record %s failed %d times; skipped", record["dynamodb"].get("SequenceNumber"),
                      self.retries)
            self.skipped.append(record)
            self.pending = batch[first_failed + 1:] + self.pending[len(batch):]
            self.retries = 0
            self._taken(batch[:first_failed + 1])
        else:
            self._taken(batch[:first_failed])
            self.pending = batch[first_failed:] + self.pending[len(batch):]
        return False

    def _taken(self, records: list[dict[str, Any]]) -> None:
        if self.taken is not None and records:
            self.taken(records)

    def _first_failed(self, batch: list[dict[str, Any]]) -> int | None:
        try:
            result = self.invoke({"Records": batch})
        except Exception:
            log.exception("stream handler raised; the batch of %d is retried", len(batch))
            return 0
        failures = result.get("batchItemFailures") if isinstance(result, dict) else None
        if not failures:
            return None
        sequences = [r["dynamodb"]["SequenceNumber"] for r in batch]
        named = {f.get("itemIdentifier") for f in failures if isinstance(f, dict)}
        positions = [sequences.index(s) for s in named if s in sequences]
        # An identifier that is not in the batch fails the whole batch, as Lambda reads it.
        return min(positions) if positions and len(positions) == len(named) else 0


def _invoker(handler: Callable[..., Any], context: Any) -> Callable[[dict[str, Any]], Any]:
    def invoke(event: dict[str, Any]) -> Any:
        return handler(event, context)

    return invoke


class StreamPump:
    """An app's stream consumers fed from a table's stream on demand: `drain()` delivers all it
    holds, with Lambda's batching and retry rules; `delivered` keeps what went (to deliver again)."""

    def __init__(self, app: Any, dynamodb: Any, streams: Any, table_name: str, region: str = "us-east-1") -> None:
        from chalice.app import DynamoDBEventConfig

        from leadline.local.lambda_events import LambdaContext

        self.stream = TableStream(dynamodb, streams, table_name)
        self.delivered: list[dict[str, Any]] = []
        self.deliveries: list[StreamDelivery] = []
        for source in app.event_sources:
            if isinstance(source, DynamoDBEventConfig):
                self.deliveries.append(StreamDelivery(
                    _invoker(app.handler_map[source.name], LambdaContext(f"leadline-{source.name}", 60, region)),
                    batch_size=source.batch_size))

    def drain(self, rounds: int = 1000) -> None:
        for _ in range(rounds):
            records = self.stream.read()
            self.delivered.extend(records)
            for delivery in self.deliveries:
                delivery.offer(records)
                delivery.deliver_one_batch()
            if not records and not any(d.pending for d in self.deliveries):
                return
        raise RuntimeError("the stream did not drain: a record keeps failing (see the log)")

    def replay(self, records: list[dict[str, Any]]) -> None:
        """Deliver records again (a retried batch, a lost checkpoint)."""
        for delivery in self.deliveries:
            delivery.offer(records)
            while delivery.pending:
                if not delivery.deliver_one_batch():
                    raise RuntimeError("a redelivered record failed")
