"""Delivery faults, one family for every event handler found on the app: each SQS consumer in
`app.event_sources`, each schedule, and the webhooks.

- twice: the same delivery again changes nothing (the table is the same after the second as after the first);
- late: delivered days later, it is handled without a failure;
- out of order: a consumer's samples delivered newest first, then again oldest first, never fail;
- poison: in a batch [good, poison, good] only the poison record is reported in batchItemFailures,
  and on the real queue (moto) the poison message ends in the DLQ after 5 receives.

Samples are the messages the app itself enqueues during one scenario (a lead routed, a message sent,
an SMS received, a night of reports fanned out), plus tests/events/queues/<consumer>.json. A consumer
with no sample fails loudly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chalicelib.adapters.aws import client
from tests.fakes_channels import FakeMediaFetcher
from tests.integration import conversations_support as conv
from tests.support import World

EVENTS = Path(__file__).resolve().parents[1] / "events" / "queues"
POISON = "{this is not json"
LATE = {"days": 3}


def _app() -> Any:
    from app import app

    return app


def _consumers() -> dict[str, str]:
    """consumer function name -> queue name"""
    from chalice.app import SQSEventConfig

    return {s.name: s.queue for s in _app().event_sources if isinstance(s, SQSEventConfig)}


def _schedules() -> list[str]:
    from chalice.app import ScheduledEventConfig

    return [s.name for s in _app().event_sources if isinstance(s, ScheduledEventConfig)]


@dataclass
class Scenario:
    world: World
    store: conv.Store
    lead_id: str
    samples: dict[str, list[str]]  # consumer -> raw bodies


def _queue_url(name: str) -> str:
    return str(client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def _drain(queue: str) -> list[str]:
    """Every message now on the queue (delays ignored), removed from it."""
    sqs = client("sqs")
    url = _queue_url(queue)
    bodies: list[str] = []
    for _ in range(20):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30,
                                  WaitTimeSeconds=0).get("Messages", [])
        if not got:
            break
        for message in got:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def _delays_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto honours DelaySeconds; the scenario wants every produced message at once."""
    from chalicelib.adapters import queues as queues_module

    original = queues_module.QueuePublisher.send

    def send(self: Any, queue: str, body: dict[str, Any], delay_seconds: int = 0) -> None:
        original(self, queue, body, 0)

    monkeypatch.setattr(queues_module.QueuePublisher, "send", send)


@pytest.fixture(scope="module")
def captured() -> Iterator[Scenario]:
    """The scenario, once per module; each test starts from its clock (see `scenario`)."""
    from tests.fuzz.world import module_world

    with module_world() as world, pytest.MonkeyPatch.context() as monkeypatch:
        _delays_off(monkeypatch)
        store = conv.store(world)
        lead = world.post(f"/accounts/{store.account_id}/leads", store.admin_token, {
            "first_name": "Maria", "phone": "+13125550177", "source": "Web", "channel": "web", "message": "price?"})
        assert lead.status == 201, lead.json
        lead_id = lead.json["lead_id"]
        assert world.post(f"/leads/{lead_id}/messages", store.admin_token, {"body": "Hi Maria"}).status == 202
        # A new contact's MMS: its lead is made in the webhook, its picture copied on the inbound queue.
        picture = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MMfaults/Media/ME1"
        fetcher = FakeMediaFetcher()
        fetcher.files[picture] = (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "image/png")
        world.deps.media_fetcher = fetcher
        assert conv.sms(world, "Is it still available?", sid="MMfaults0000000000000000000000001", NumMedia="1",
                        MediaUrl0=picture, MediaContentType0="image/png").status == 200
        # 01:15 in Chicago the next night: the nightly fan-out queues this store's day.
        world.clock.set("2026-11-03T07:15:00Z")
        if "nightly_reports_fan_out" in _schedules():
            fire(world, "nightly_reports_fan_out")
        samples: dict[str, list[str]] = {}
        for consumer, queue in _consumers().items():
            samples[consumer] = _drain(queue)
            extra = EVENTS / f"{consumer}.json"
            if extra.exists():
                text = extra.read_text().replace("{account_id}", store.account_id).replace("{lead_id}", lead_id)
                samples[consumer] += [json.dumps(body) for body in json.loads(text)]
        yield Scenario(world, store, lead_id, samples)


@pytest.fixture
def scenario(captured: Scenario) -> Iterator[Scenario]:
    world = captured.world
    start = world.clock.now()
    sender = world.deps.__dict__.get("sender")
    yield captured
    world.clock.set(start)
    if sender is None:
        world.deps.__dict__.pop("sender", None)
    else:
        world.deps.__dict__["sender"] = sender
    _drain_all()


def fire(world: World, schedule: str) -> Any:
    """One run of a schedule, with the event EventBridge sends."""
    event = world.client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                                  resources=[f"arn:aws:events:us-east-1:123456789012:rule/{schedule}"])
    return world.client.lambda_.invoke(schedule, event).payload


def _table_snapshot() -> list[dict[str, Any]]:
    from chalicelib.config import get_settings

    items = client("dynamodb").scan(TableName=get_settings().table_name)["Items"]
    return sorted(items, key=lambda i: (i["PK"]["S"], i["SK"]["S"]))


def _event(consumer: str, bodies: list[str], ids: list[str]) -> dict[str, Any]:
    queue = _consumers()[consumer]
    return {"Records": [{
        "messageId": message_id, "receiptHandle": f"rh-{message_id}", "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795000000000",
                       "SenderId": "AIDTEST", "ApproximateFirstReceiveTimestamp": "1795000000000"},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}", "awsRegion": "us-east-1",
    } for body, message_id in zip(bodies, ids, strict=True)]}


def deliver(world: World, consumer: str, bodies: list[str], ids: list[str]) -> list[str]:
    """Invoke the consumer like Lambda's SQS poller; returns the failed message ids."""
    payload = world.client.lambda_.invoke(consumer, _event(consumer, bodies, ids)).payload
    return [f["itemIdentifier"] for f in (payload or {}).get("batchItemFailures", [])]


def _samples(s: Scenario, consumer: str) -> list[str]:
    found = s.samples.get(consumer) or []
    if not found:
        pytest.fail(f"no sample message for consumer {consumer}: make the faults scenario produce one, or add "
                    f"tests/events/queues/{consumer}.json", pytrace=False)
    return found


CONSUMERS = sorted(_consumers())
SCHEDULES = sorted(_schedules())


@pytest.mark.parametrize("consumer", CONSUMERS)
def test_consumer_delivered_twice(scenario: Scenario, consumer: str) -> None:
    bodies = _samples(scenario, consumer)
    ids = [f"twice-{i}" for i in range(len(bodies))]
    assert deliver(scenario.world, consumer, bodies, ids) == []
    _drain_all()
    after_first = _table_snapshot()
    assert deliver(scenario.world, consumer, bodies, ids) == []
    assert _table_snapshot() == after_first


@pytest.mark.parametrize("consumer", CONSUMERS)
def test_consumer_delivered_late(scenario: Scenario, consumer: str) -> None:
    bodies = _samples(scenario, consumer)
    scenario.world.clock.advance(**LATE)
    assert deliver(scenario.world, consumer, bodies, [f"late-{i}" for i in range(len(bodies))]) == []


@pytest.mark.parametrize("consumer", CONSUMERS)
def test_consumer_delivered_out_of_order(scenario: Scenario, consumer: str) -> None:
    bodies = _samples(scenario, consumer)
    for i, body in reversed(list(enumerate(bodies))):
        assert deliver(scenario.world, consumer, [body], [f"rev-{i}"]) == [], body
    for i, body in enumerate(bodies):
        assert deliver(scenario.world, consumer, [body], [f"fwd-{i}"]) == [], body


@pytest.mark.parametrize("consumer", CONSUMERS)
def test_consumer_poison_is_the_only_failure(scenario: Scenario, consumer: str) -> None:
    good = _samples(scenario, consumer)[0]
    failed = deliver(scenario.world, consumer, [good, POISON, good], ["good-1", "poison", "good-2"])
    assert failed == ["poison"]


@pytest.mark.parametrize("consumer", CONSUMERS)
def test_consumer_poison_ends_in_the_dead_letter_queue(scenario: Scenario, consumer: str) -> None:
    """Lambda's poller on the real (moto) queue: failed records stay, and after maxReceiveCount (5) the
    queue's redrive moves the poison message to its DLQ while the good one is deleted at once."""
    sqs = client("sqs")
    queue = _consumers()[consumer]
    url, dlq_url = _queue_url(queue), _queue_url(f"{queue}-dlq")
    good = _samples(scenario, consumer)[0]
    sqs.send_message(QueueUrl=url, MessageBody=good)
    sqs.send_message(QueueUrl=url, MessageBody=POISON)
    for _ in range(7):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0,
                                  AttributeNames=["All"]).get("Messages", [])
        got = [m for m in got if m["Body"] in (good, POISON)]
        if not got:
            break
        ids = [m["MessageId"] for m in got]
        try:
            failed = set(deliver(scenario.world, consumer, [m["Body"] for m in got], ids))
        except Exception:
            # Powertools raises when every record of the batch failed: Lambda then retries them all.
            failed = set(ids)
        for message in got:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    dead = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in dead] == [POISON]


def _drain_all() -> None:
    for queue in set(_consumers().values()):
        _drain(queue)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_schedule_fired_twice_changes_nothing_the_second_time(scenario: Scenario, schedule: str) -> None:
    fire(scenario.world, schedule)
    _drain_all()
    after_first = _table_snapshot()
    fire(scenario.world, schedule)
    assert _table_snapshot() == after_first


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_schedule_fired_late(scenario: Scenario, schedule: str) -> None:
    scenario.world.clock.advance(**LATE)
    fire(scenario.world, schedule)
    fire(scenario.world, schedule)


# -- webhooks ------------------------------------------------------------------------------------------------


def test_twilio_sms_delivered_twice_is_stored_once(scenario: Scenario) -> None:
    sid = "SMfaults0000000000000000000000002"
    assert conv.sms(scenario.world, "twice", sid=sid).status == 200
    _drain_all()
    after_first = _table_snapshot()
    assert conv.sms(scenario.world, "twice", sid=sid).status == 200
    assert _table_snapshot() == after_first


def test_twilio_status_late_out_of_order_and_twice(scenario: Scenario) -> None:
    from chalicelib.domain.messaging import OutboundMessage, SendResult

    params = conv.twilio_params("status_delivered.txt")

    class TwilioLike:
        def send(self, message: OutboundMessage) -> SendResult:
            return SendResult(provider_id=params["MessageSid"], status="queued")

    world = scenario.world
    world.deps.__dict__["sender"] = TwilioLike()
    world.clock.set("2026-11-03T16:00:00Z")  # 10:00 in Chicago: sent now, not scheduled for the morning
    _drain_all()
    sent = world.post(f"/leads/{scenario.lead_id}/messages", scenario.store.admin_token, {"body": "Status test"})
    assert sent.status == 202
    outbox = _drain(_consumers()["conversations_outbox"])
    assert outbox, "the message is queued for the outbox"
    assert deliver(world, "conversations_outbox", outbox, [f"send-{i}" for i in range(len(outbox))]) == []

    def last_status() -> str:
        outbound = [m for m in conv.messages(world, scenario.lead_id) if m["direction"] == "outbound"]
        return str(outbound[-1]["status"])

    assert last_status() == "sent"
    world.clock.advance(**LATE)
    assert conv.twilio_post(world, "/webhooks/twilio/status", params).status < 300
    assert last_status() == "delivered"
    late_sent = {**params, "MessageStatus": "sent", "SmsStatus": "sent"}  # older news, arriving after
    assert conv.twilio_post(world, "/webhooks/twilio/status", late_sent).status < 300
    assert last_status() == "delivered"
    after = _table_snapshot()
    assert conv.twilio_post(world, "/webhooks/twilio/status", params).status < 300
    assert _table_snapshot() == after


def test_meta_message_delivered_twice_is_stored_once(scenario: Scenario) -> None:
    raw = conv.meta_event("message.json", mid="m_faults_twice", text="still there?")
    assert conv.meta_post(scenario.world, raw).status == 200
    _drain_all()
    after_first = _table_snapshot()
    assert conv.meta_post(scenario.world, raw).status == 200
    assert _table_snapshot() == after_first
