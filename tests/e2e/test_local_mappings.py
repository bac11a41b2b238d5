"""The local event-source mappings against moto's server, with a small Chalice app of their
own so they do not depend on the product's consumers: SQS batches with partial failures,
redelivery and the DLQ, DelaySeconds timers, schedules and EventBridge rules."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from chalice import Chalice, Cron, Rate

from leadline.local.mappings import MappingEngine
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.e2e

REGION = "us-east-1"


class AcceleratedTime:
    """Wall time running `factor` times faster, so a one-minute schedule fires every second."""

    def __init__(self, factor: float) -> None:
        self.factor = factor
        self.start_wall = datetime(2026, 11, 2, 14, 59, 30, tzinfo=UTC)
        self.start_real = time.monotonic()

    def now(self) -> datetime:
        return self.start_wall + timedelta(seconds=(time.monotonic() - self.start_real) * self.factor)

    def sleep(self, stop: threading.Event, seconds: float) -> bool:
        return stop.wait(max(0.0, seconds / self.factor))


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def aws(endpoint: str, service: str) -> Any:
    return boto3.session.Session().client(service, endpoint_url=endpoint, region_name=REGION,
                                          aws_access_key_id="local", aws_secret_access_key="local")


def make_queue(sqs: Any, name: str, visibility: int, max_receives: int) -> tuple[str, str]:
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName=name, Attributes={
        "VisibilityTimeout": str(visibility),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)})})
    return url["QueueUrl"], dlq


def engine_for(app: Chalice, endpoint: str, **kw: Any) -> MappingEngine:
    return MappingEngine(app, sqs_client=aws(endpoint, "sqs"), events_client=aws(endpoint, "events"),
                         function_prefix="leadline-test-", resource_prefix="mt-", region=REGION,
                         visibility_seconds=1, **kw)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_batch_failing_on_one_record_returns_only_that_record_until_it_lands_in_the_dlq(endpoint: str) -> None:
    sqs = aws(endpoint, "sqs")
    url, dlq = make_queue(sqs, "mt-jobs", visibility=1, max_receives=2)
    app = Chalice(app_name="mapping-test")
    batches: list[dict[str, Any]] = []
    contexts: list[Any] = []

    @app.on_sqs_message(queue="mt-jobs", batch_size=10)
    def work(event: Any) -> dict[str, Any]:
        raw = event.to_dict()
        batches.append(raw)
        contexts.append(event.context)
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]}
                                      for r in raw["Records"] if r["body"] == "poison"]}

    engine = engine_for(app, endpoint, timeouts={"mt-jobs": 30})
    engine.start()
    try:
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": body} for i, body in enumerate(["ok-1", "poison", "ok-2"])])

        def poison_receives() -> list[dict[str, Any]]:
            return [r for b in batches for r in b["Records"] if r["body"] == "poison"]

        wait_for(lambda: len(poison_receives()) >= 2, 10, "the failed record to be redelivered")
        wait_for(lambda: "Messages" in sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0,
                                                            VisibilityTimeout=0), 10, "the DLQ")
    finally:
        engine.stop()

    delivered = [r["body"] for b in batches for r in b["Records"]]
    assert sorted(b for b in delivered if b != "poison") == ["ok-1", "ok-2"]  # each once: they were deleted
    assert [r["attributes"]["ApproximateReceiveCount"] for r in poison_receives()] == ["1", "2"]
    record = batches[0]["Records"][0]
    assert set(record) >= {"messageId", "receiptHandle", "body", "attributes", "messageAttributes",
                           "eventSource", "eventSourceARN", "awsRegion", "md5OfBody"}
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"].endswith(":mt-jobs")
    assert contexts[0].function_name == "leadline-test-work" and contexts[0].aws_request_id
    assert 0 < contexts[0].get_remaining_time_in_millis() <= 30_000
    assert not sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0, VisibilityTimeout=0).get("Messages")
    stats = engine.mappings[0].stats
    assert stats.records == 4 and stats.failed_records == 2


def test_a_handler_that_raises_fails_the_whole_batch(endpoint: str) -> None:
    sqs = aws(endpoint, "sqs")
    url, _ = make_queue(sqs, "mt-crash", visibility=1, max_receives=5)
    app = Chalice(app_name="mapping-test")
    seen: list[str] = []

    @app.on_sqs_message(queue="mt-crash", batch_size=10)
    def crash_once(event: Any) -> None:
        bodies = [r.body for r in event]
        seen.extend(bodies)
        if seen.count("a") == 1:
            raise RuntimeError("the first delivery fails")

    engine = engine_for(app, endpoint)
    engine.start()
    try:
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "a"}, {"Id": "2", "MessageBody": "b"}])
        wait_for(lambda: seen.count("a") == 2 and seen.count("b") == 2, 10, "the whole batch to come back")
    finally:
        engine.stop()


def test_a_delayed_message_is_delivered_within_two_seconds_of_its_delay(endpoint: str) -> None:
    sqs = aws(endpoint, "sqs")
    url, _ = make_queue(sqs, "mt-timers", visibility=5, max_receives=5)
    app = Chalice(app_name="mapping-test")
    arrived: list[float] = []

    @app.on_sqs_message(queue="mt-timers", batch_size=10)
    def timer(event: Any) -> None:
        arrived.extend(time.monotonic() for _ in event)

    engine = engine_for(app, endpoint)
    engine.start()
    try:
        sent = time.monotonic()
        sqs.send_message(QueueUrl=url, MessageBody="offer-timeout", DelaySeconds=2)
        wait_for(lambda: bool(arrived), 6, "the delayed message")
    finally:
        engine.stop()
    assert 2 - 0.2 <= arrived[0] - sent <= 2 + 2


def test_schedules_fire_on_their_cadence(endpoint: str) -> None:
    app = Chalice(app_name="mapping-test")
    fired: dict[str, list[dict[str, Any]]] = {"sweep": [], "every_two": []}

    @app.schedule(Rate(1, unit=Rate.MINUTES))
    def sweep(event: Any) -> None:
        fired["sweep"].append(event.to_dict())

    @app.schedule(Cron("0/2", "*", "*", "*", "?", "*"))
    def every_two(event: Any) -> None:
        fired["every_two"].append(event.to_dict())

    clock = AcceleratedTime(factor=120)  # two simulated minutes per real second
    engine = engine_for(app, endpoint, time_source=clock)
    engine.start()
    try:
        wait_for(lambda: len(fired["sweep"]) >= 4, 6, "four minutes of sweeps")
    finally:
        engine.stop()
    sweep_times = [datetime.fromisoformat(e["time"]) for e in fired["sweep"]]
    gaps = {(b - a).total_seconds() for a, b in itertools.pairwise(sweep_times)}
    assert gaps == {60.0}  # every minute, none skipped or doubled
    assert fired["sweep"][0]["detail-type"] == "Scheduled Event" and fired["sweep"][0]["source"] == "aws.events"
    cron_minutes = [datetime.fromisoformat(e["time"]).minute for e in fired["every_two"]]
    assert cron_minutes and all(m % 2 == 0 for m in cron_minutes)
    assert {m["kind"] for m in (x.describe() for x in engine.mappings)} == {"schedule"}


def test_eventbridge_events_reach_on_cw_event_handlers(endpoint: str) -> None:
    app = Chalice(app_name="mapping-test")
    got: list[dict[str, Any]] = []

    @app.on_cw_event({"source": ["leadline.test"], "detail-type": ["lead.sold"]})
    def on_sold(event: Any) -> None:
        got.append(event.to_dict())

    engine = engine_for(app, endpoint)
    engine.start()
    try:
        events = aws(endpoint, "events")
        events.put_events(Entries=[
            {"Source": "leadline.other", "DetailType": "lead.sold", "Detail": json.dumps({"lead_id": "skip"})},
            {"Source": "leadline.test", "DetailType": "lead.sold", "Detail": json.dumps({"lead_id": "lead_1"})},
        ])
        wait_for(lambda: bool(got), 6, "the event")
        time.sleep(1.2)  # one more poll: the event that does not match must not arrive
    finally:
        engine.stop()
    assert [e["detail"] for e in got] == [{"lead_id": "lead_1"}]
    assert got[0]["detail-type"] == "lead.sold" and got[0]["source"] == "leadline.test"
