"""Local event-source mappings: what Lambda does for the deployed functions, done in threads.

Everything is derived from `app.event_sources` at start, so every consumer registered by
any blueprint is served without a list kept here:

- `on_sqs_message`: the queue is long-polled (WaitTimeSeconds=20, as Lambda's pollers do: an idle
  queue costs one call in 20 s; a message sent meanwhile is answered at once, and moto looks at
  the queue again every second of the wait, so a DelaySeconds timer is picked up within about a
  second of becoming visible) and each receive is delivered as a Lambda SQS batch. Partial-batch
  failures are honoured as Lambda's ReportBatchItemFailures does: only the succeeded records are
  deleted; the failed ones reappear after the queue's visibility timeout, and the queue's redrive
  policy (applied by the emulator) moves them to the DLQ after maxReceiveCount receives. A handler
  that raises fails the whole batch.
- `schedule`: fired on its rate(...) / cron(...) cadence in UTC, as an EventBridge
  "Scheduled Event".
- `on_cw_event`: a rule with the handler's event pattern on the default event bus, targeting
  a queue made for that handler; the queue is polled and each EventBridge envelope is
  delivered on its own (a failing event is retried, then dead-lettered like any queue).
- `on_dynamodb_record`: the table's stream (`table_stream`), polled about four times a
  second and delivered in batches with Lambda's stream retry rules (leadline/local/streams.py).

Handlers get a Lambda-like context (function_name, aws_request_id, remaining time)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from chalice.app import Chalice, CloudWatchEventConfig, DynamoDBEventConfig, ScheduledEventConfig, SQSEventConfig

from leadline.local.lambda_events import (
    LambdaContext,
    eventbridge_envelope,
    failed_message_ids,
    lambda_sqs_record,
    scheduled_event,
)
from leadline.local.schedules import Schedule, parse_schedule
from leadline.local.streams import StreamDelivery, TableStream

log = logging.getLogger("local_stack.mappings")

SQS_WAIT_SECONDS = 20
DEFAULT_TIMEOUT_SECONDS = 60
EVENT_RETRIES = 5
STREAM_POLL_SECONDS = 0.25


class TimeSource(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, stop: threading.Event, seconds: float) -> bool:
        """Wait up to `seconds`; True when `stop` was set."""
        ...


class RealTime:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, stop: threading.Event, seconds: float) -> bool:
        return stop.wait(max(0.0, seconds))


@dataclass
class MappingStats:
    invocations: int = 0
    records: int = 0
    failed_records: int = 0
    errors: int = 0


@dataclass
class Mapping:
    name: str
    kind: str
    source: str
    stats: MappingStats = field(default_factory=MappingStats)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "source": self.source}


class MappingEngine:
    """Runs every event source of `app` until `stop()`.

    `sqs_client` and `events_client` are boto3 clients pointed at the emulator;
    `resource_prefix` names the queues and rules made for EventBridge handlers;
    `timeouts` maps a queue name to its consumer timeout (the context's remaining time)."""

    def __init__(self, app: Chalice, *, sqs_client: Any, events_client: Any, function_prefix: str,
                 resource_prefix: str, region: str, visibility_seconds: int,
                 timeouts: dict[str, int] | None = None, time_source: TimeSource | None = None,
                 max_receives: int = EVENT_RETRIES, table_stream: TableStream | None = None,
                 stream_taken: Callable[[list[dict[str, Any]]], None] | None = None) -> None:
        self.app = app
        self.sqs = sqs_client
        self.events = events_client
        self.function_prefix = function_prefix
        self.resource_prefix = resource_prefix
        self.region = region
        self.visibility_seconds = visibility_seconds
        self.timeouts = timeouts or {}
        self.max_receives = max_receives
        self.time = time_source or RealTime()
        self.table_stream = table_stream
        self.stream_taken = stream_taken
        self.stop_event = threading.Event()
        self.mappings: list[Mapping] = []
        self._threads: list[threading.Thread] = []
        # Threads waiting in a long poll: `stop` does not wait for them (what they receive after
        # the stop is not delivered: it is received again after the visibility timeout, or put
        # back at the next start).
        self._receiving: set[threading.Thread] = set()

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> list[Mapping]:
        """`prepare`, then `run`."""
        self.prepare()
        self.run()
        return self.mappings

    def prepare(self) -> list[Mapping]:
        """Resolve every source (and make the EventBridge rules' queues) without polling yet:
        the stack puts saved messages back into these queues before anything reads them."""
        started_at = self.time.now()
        for source in self.app.event_sources:
            handler = self.app.handler_map[source.name]
            if isinstance(source, SQSEventConfig):
                self._start_sqs(source, handler)
            elif isinstance(source, ScheduledEventConfig):
                self._start_schedule(source, handler, started_at)
            elif isinstance(source, CloudWatchEventConfig):
                self._start_eventbridge(source, handler)
            elif isinstance(source, DynamoDBEventConfig) and self.table_stream is not None:
                self._start_stream(source, handler, self.table_stream)
            else:
                log.warning("no local mapping for %s event source %s", type(source).__name__, source.name)
        return self.mappings

    def run(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Take no more work and let the handlers running finish (up to `timeout`)."""
        self.stop_event.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.is_alive() and thread not in self._receiving:
                thread.join(max(0.0, deadline - time.monotonic()))

    def _spawn(self, mapping: Mapping, target: Callable[[], None]) -> None:
        self.mappings.append(mapping)
        thread = threading.Thread(target=self._guard(mapping, target), name=f"mapping-{mapping.name}", daemon=True)
        self._threads.append(thread)

    def _guard(self, mapping: Mapping, loop: Callable[[], None]) -> Callable[[], None]:
        """Keep a mapping alive across emulator hiccups, as Lambda's pollers do."""

        def run() -> None:
            while not self.stop_event.is_set():
                try:
                    loop()
                    return
                except Exception:
                    if self.stop_event.is_set():
                        return  # a long poll the stopping emulator cut short
                    mapping.stats.errors += 1
                    log.exception("local mapping %s failed; retrying in 1 s", mapping.name)
                    self.stop_event.wait(1)

        return run

    def _context(self, name: str, timeout_seconds: int) -> LambdaContext:
        return LambdaContext(f"{self.function_prefix}{name}", timeout_seconds, self.region)

    # -- SQS --------------------------------------------------------------------------------

    def _queue(self, source: SQSEventConfig) -> tuple[str, str, str]:
        name = source.queue or str(source.queue_arn).rsplit(":", 1)[-1]
        url = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return name, url, arn

    def _start_sqs(self, source: SQSEventConfig, handler: Callable[..., Any]) -> None:
        name, url, arn = self._queue(source)
        mapping = Mapping(source.name, "sqs", name)
        timeout = self.timeouts.get(name, DEFAULT_TIMEOUT_SECONDS)
        batch_size = max(1, min(10, int(source.batch_size or 10)))

        def loop() -> None:
            while not self.stop_event.is_set():
                messages = self._receive(url, batch_size)
                if messages and not self.stop_event.is_set():
                    self.deliver_sqs_batch(mapping, handler, url, arn, messages, timeout)

        self._spawn(mapping, loop)

    def _receive(self, url: str, count: int) -> list[dict[str, Any]]:
        thread = threading.current_thread()
        self._receiving.add(thread)
        try:
            reply = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=count, WaitTimeSeconds=SQS_WAIT_SECONDS,
                AttributeNames=["All"], MessageAttributeNames=["All"],
            )
        finally:
            self._receiving.discard(thread)
        return list(reply.get("Messages", []))

    def deliver_sqs_batch(self, mapping: Mapping, handler: Callable[..., Any], url: str, arn: str,
                          messages: list[dict[str, Any]], timeout: int) -> set[str]:
        """Invoke the handler with one batch; delete what succeeded; return the failed ids."""
        event = {"Records": [lambda_sqs_record(m, arn, self.region) for m in messages]}
        ids = [m["MessageId"] for m in messages]
        mapping.stats.invocations += 1
        mapping.stats.records += len(ids)
        try:
            result = handler(event, self._context(mapping.name, timeout))
            failed = failed_message_ids(result, ids)
        except Exception:
            log.exception("handler %s raised; the whole batch of %d returns to %s", mapping.name, len(ids),
                          mapping.source)
            failed = set(ids)
        mapping.stats.failed_records += len(failed)
        done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(messages) if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(QueueUrl=url, Entries=done)
        if failed:
            log.info("handler %s failed %d of %d records; they return after the visibility timeout",
                     mapping.name, len(failed), len(ids))
        return failed

    # -- DynamoDB stream ----------------------------------------------------------------------

    def _start_stream(self, source: DynamoDBEventConfig, handler: Callable[..., Any], stream: TableStream) -> None:
        mapping = Mapping(source.name, "dynamodb-stream", stream.table_name)

        def invoke(event: dict[str, Any]) -> Any:
            mapping.stats.invocations += 1
            mapping.stats.records += len(event["Records"])
            return handler(event, self._context(mapping.name, DEFAULT_TIMEOUT_SECONDS))

        delivery = StreamDelivery(invoke, batch_size=max(1, int(source.batch_size or 100)), taken=self.stream_taken)

        def loop() -> None:
            while not self.stop_event.is_set():
                if len(delivery.pending) < delivery.batch_size:
                    delivery.offer(stream.read())
                if not delivery.pending:
                    self.stop_event.wait(STREAM_POLL_SECONDS)
                elif not delivery.deliver_one_batch():
                    mapping.stats.failed_records += 1
                    self.stop_event.wait(1)

        self._spawn(mapping, loop)

    # -- schedules --------------------------------------------------------------------------

    def _start_schedule(self, source: ScheduledEventConfig, handler: Callable[..., Any], started_at: datetime) -> None:
        expression = source.schedule_expression
        text = expression if isinstance(expression, str) else expression.to_string()
        schedule = parse_schedule(text, started_at)
        mapping = Mapping(source.name, "schedule", text)
        self._spawn(mapping, lambda: self._run_schedule(mapping, schedule, handler))

    def _run_schedule(self, mapping: Mapping, schedule: Schedule, handler: Callable[..., Any]) -> None:
        due = schedule.next_fire(self.time.now())
        while not self.stop_event.is_set():
            wait = (due - self.time.now()).total_seconds()
            if wait > 0:
                if self.time.sleep(self.stop_event, wait):
                    return
                continue
            self.fire_schedule(mapping, handler, due)
            # A run longer than the period skips the missed fires instead of piling them up.
            due = schedule.next_fire(max(due, self.time.now()))

    def fire_schedule(self, mapping: Mapping, handler: Callable[..., Any], at: datetime) -> None:
        mapping.stats.invocations += 1
        try:
            handler(scheduled_event(f"{self.resource_prefix}{mapping.name}", at, self.region),
                    self._context(mapping.name, DEFAULT_TIMEOUT_SECONDS))
        except Exception:
            mapping.stats.errors += 1
            log.exception("scheduled handler %s raised", mapping.name)

    # -- EventBridge ------------------------------------------------------------------------

    def _start_eventbridge(self, source: CloudWatchEventConfig, handler: Callable[..., Any]) -> None:
        queue_name = f"{self.resource_prefix}events-{source.name}"[:80]
        url, arn = self._event_queue(queue_name)
        rule = f"{self.resource_prefix}{source.name}"[:64]
        self.events.put_rule(Name=rule, EventPattern=json.dumps(source.event_pattern), State="ENABLED")
        self.events.put_targets(Rule=rule, Targets=[{"Id": "local-mapping", "Arn": arn}])
        mapping = Mapping(source.name, "eventbridge", json.dumps(source.event_pattern, sort_keys=True))

        def loop() -> None:
            while not self.stop_event.is_set():
                for message in self._receive(url, 10):
                    if not self.stop_event.is_set():
                        self.deliver_event(mapping, handler, url, message)

        self._spawn(mapping, loop)

    def _event_queue(self, name: str) -> tuple[str, str]:
        """The queue between the rule and the handler, with its own DLQ, like every queue here."""
        dlq_url = self.sqs.create_queue(QueueName=f"{name[:76]}-dlq")["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        url = self.sqs.create_queue(QueueName=name, Attributes={
            "VisibilityTimeout": str(self.visibility_seconds),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(self.max_receives)}),
        })["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def deliver_event(self, mapping: Mapping, handler: Callable[..., Any], url: str, message: dict[str, Any]) -> bool:
        mapping.stats.invocations += 1
        mapping.stats.records += 1
        try:
            envelope = eventbridge_envelope(json.loads(message["Body"]), self.region)
            handler(envelope, self._context(mapping.name, DEFAULT_TIMEOUT_SECONDS))
        except Exception:
            mapping.stats.failed_records += 1
            log.exception("event handler %s raised; the event is retried after the visibility timeout",
                          mapping.name)
            return False
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return True
