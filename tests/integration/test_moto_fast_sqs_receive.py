"""leadline/local/moto_fast_sqs_receive.py: moto answers as before — delays, visibility timeouts and
their changes, receive counts and the move to the dead-letter queue, deletes by any handle, long
polls woken by a send, FIFO groups, purges, the counts — each test run on the patched and on moto's
own SQS; and a receive, a delete or a count looks at the messages it touches, not the whole queue."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any

import boto3
import moto.core.utils
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.sqs.models import sqs_backends

from leadline.local import moto_fast, moto_fast_sqs_receive
from leadline.local.moto_fast_sqs_index import IndexedMessages

ACCOUNT, REGION = "123456789012", "us-east-1"


class Clock:
    """moto's clock (moto.core.utils.utcnow, which every SQS time reads), moved by the test."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 12, 0, 0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(moto.core.utils, "utcnow", clock)
    return clock


def _counts(sqs: Any, url: str) -> tuple[int, int, int]:
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return (int(got["ApproximateNumberOfMessages"]), int(got["ApproximateNumberOfMessagesNotVisible"]),
            int(got["ApproximateNumberOfMessagesDelayed"]))


def _receive(sqs: Any, url: str, visibility: int = 30, count: int = 10) -> list[dict[str, Any]]:
    return list(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=count, VisibilityTimeout=visibility,
                                    AttributeNames=["All"]).get("Messages", []))


def test_todays_moto_takes_the_patch() -> None:
    assert moto_fast_sqs_receive.unsupported_reason() is None


def test_a_delayed_message_is_received_once_its_delay_ends(sqs: Any, clock: Clock) -> None:
    url = sqs.create_queue(QueueName="timers")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    sqs.send_message(QueueUrl=url, MessageBody="now")
    assert _counts(sqs, url) == (1, 0, 1)
    assert [m["Body"] for m in _receive(sqs, url, visibility=600)] == ["now"]
    clock.advance(59)
    assert _receive(sqs, url) == []
    clock.advance(2)
    assert [m["Body"] for m in _receive(sqs, url, visibility=600)] == ["later"]
    assert _counts(sqs, url) == (0, 2, 0)


def test_visibility_timeouts_and_their_changes(sqs: Any, clock: Clock) -> None:
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="job")
    [first] = _receive(sqs, url, visibility=30)
    assert _receive(sqs, url) == [] and _counts(sqs, url) == (0, 1, 0)
    clock.advance(31)
    [second] = _receive(sqs, url, visibility=30)
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"], VisibilityTimeout=0)
    clock.advance(0.01)
    [third] = _receive(sqs, url, visibility=0)  # no timeout: it stays receivable
    assert [m["MessageId"] for m in _receive(sqs, url, visibility=600)] == [third["MessageId"]]
    with pytest.raises(ClientError, match="beyond the limit"):
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=third["ReceiptHandle"], VisibilityTimeout=43200)
    with pytest.raises(ClientError, match="ReceiptHandleIsInvalid"):
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle="not-a-handle", VisibilityTimeout=0)
    assert first["MessageId"] == third["MessageId"]


def test_a_message_moves_to_the_dead_letter_queue_at_max_receives(sqs: Any, clock: Clock) -> None:
    dlq = sqs.create_queue(QueueName="jobs-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName="jobs", Attributes={
        "RedrivePolicy": f'{{"deadLetterTargetArn": "{arn}", "maxReceiveCount": "2"}}'})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    sqs.send_message(QueueUrl=url, MessageBody="fine")
    for _ in range(2):
        assert sorted(m["Body"] for m in _receive(sqs, url, visibility=10)) == ["fine", "poison"]
        clock.advance(11)
    assert _receive(sqs, url) == []  # both reached 2 receives: moved, not received
    assert _counts(sqs, url) == (0, 0, 0)
    moved = _receive(sqs, dlq)
    assert sorted(m["Body"] for m in moved) == ["fine", "poison"]
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in moved} == {"3"}


def test_deletes_by_any_handle_once_and_refuse_unknown_ones(sqs: Any, clock: Clock) -> None:
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": f"m{n}"} for n in range(3)])
    got = _receive(sqs, url, visibility=5)
    clock.advance(6)
    again = {m["MessageId"]: m["ReceiptHandle"] for m in _receive(sqs, url, visibility=5)}
    old = got[0]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=old["ReceiptHandle"])  # its first handle still deletes it
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again[old["MessageId"]])  # a repeat: no-op
    with pytest.raises(ClientError, match="ReceiptHandleIsInvalid"):
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")
    rest = [m for m in got[1:]]
    answer = sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "ReceiptHandle": again[rest[0]["MessageId"]]}, {"Id": "b", "ReceiptHandle": "nope"}])
    assert [s["Id"] for s in answer["Successful"]] == ["a"] and [f["Id"] for f in answer["Failed"]] == ["b"]
    clock.advance(6)
    assert [m["MessageId"] for m in _receive(sqs, url)] == [rest[1]["MessageId"]]


def test_purge_empties_the_queue_and_it_takes_messages_after(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="a")
    sqs.send_message(QueueUrl=url, MessageBody="b", DelaySeconds=30)
    _receive(sqs, url)
    sqs.purge_queue(QueueUrl=url)
    assert _counts(sqs, url) == (0, 0, 0)
    sqs.send_message(QueueUrl=url, MessageBody="c")
    assert [m["Body"] for m in _receive(sqs, url)] == ["c"]


def test_fifo_groups_keep_their_order(sqs: Any, clock: Clock) -> None:
    url = sqs.create_queue(QueueName="jobs.fifo", Attributes={
        "FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}", MessageGroupId="g")
    [first] = _receive(sqs, url, visibility=30, count=1)
    assert first["Body"] == "m0"
    assert _receive(sqs, url) == []  # the group waits for its first message
    clock.advance(31)
    assert [m["Body"] for m in _receive(sqs, url, count=1)] == ["m0"]


def test_a_long_poll_wakes_when_a_message_is_sent(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    got: list[list[dict[str, Any]]] = []
    poll = threading.Thread(target=lambda: got.append(
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20).get("Messages", [])))
    poll.start()
    queue = sqs_backends[ACCOUNT][REGION].queues["jobs"]
    for _ in range(500):  # until the poll waits on the queue
        if queue._messages_lock._waiters:  # type: ignore[attr-defined]
            break
        time.sleep(0.01)
    sqs.send_message(QueueUrl=url, MessageBody="wake up")
    poll.join(timeout=15)
    assert not poll.is_alive()
    assert [m["Body"] for m in got[0]] == ["wake up"]


def test_a_receive_looks_at_the_messages_it_takes_not_the_whole_queue(clock: Clock) -> None:
    moto_fast.uninstall()
    assert moto_fast.install()
    try:
        with mock_aws():
            sqs = boto3.client("sqs", region_name=REGION)
            url = sqs.create_queue(QueueName="backlog")["QueueUrl"]
            backend = sqs_backends[ACCOUNT][REGION]
            for n in range(10_000):
                backend.send_message("backlog", f"m{n}")
            for n in range(5_000):
                backend.send_message("backlog", f"d{n}", delay_seconds=900)
            messages = backend.queues["backlog"]._messages
            assert isinstance(messages, IndexedMessages)
            index = messages.tracker
            before = index.examined
            got = _receive(sqs, url, visibility=60)
            assert len(got) == 10 and index.examined - before == 10
            before = index.examined
            assert _counts(sqs, url) == (9_990, 10, 5_000)
            sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(got)])
            assert index.examined == before and _counts(sqs, url) == (9_990, 0, 5_000)
            clock.advance(901)  # the 5,000 delayed ones become receivable: looked at once each
            _receive(sqs, url, visibility=60)
            # + the deleted ten's timeouts (stale, dropped as they come up) + the ten taken
            assert index.examined - before == 5_000 + 10 + 10
            assert _counts(sqs, url) == (14_980, 10, 0)
    finally:
        moto_fast.uninstall()
