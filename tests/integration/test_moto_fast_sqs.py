"""leadline/local/moto_fast_sqs.py: a send no longer counts the queue's messages, and moto answers
as before — GetQueueAttributes' counts, FIFO deduplication and its refusals."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.sqs.models import Queue

from leadline.local import moto_fast, moto_fast_sqs


def test_todays_moto_takes_the_patch() -> None:
    assert moto_fast_sqs.unsupported_reason() is None


def test_counts_delays_and_batches_answer_as_moto_does(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="timers")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="now")
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=600)
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": f"b{n}"} for n in range(3)])
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=60)["Messages"]
    assert len(received) == 1
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (counts["ApproximateNumberOfMessages"], counts["ApproximateNumberOfMessagesDelayed"],
            counts["ApproximateNumberOfMessagesNotVisible"]) == ("3", "1", "1")
    assert "ContentBasedDeduplication" not in counts


def test_fifo_deduplication_and_its_refusals_stay(sqs: Any) -> None:
    by_content = sqs.create_queue(QueueName="jobs.fifo", Attributes={
        "FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    for _ in range(2):
        sqs.send_message(QueueUrl=by_content, MessageBody="same", MessageGroupId="g")
    assert sqs.get_queue_attributes(QueueUrl=by_content, AttributeNames=["All"])["Attributes"][
        "ApproximateNumberOfMessages"] == "1"
    by_id = sqs.create_queue(QueueName="ids.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    with pytest.raises(ClientError, match="ContentBasedDeduplication enabled or MessageDeduplicationId"):
        sqs.send_message(QueueUrl=by_id, MessageBody="x", MessageGroupId="g")
    assert sqs.get_queue_attributes(QueueUrl=by_id, AttributeNames=["ContentBasedDeduplication"])[
        "Attributes"] == {"ContentBasedDeduplication": "false"}


def test_a_send_does_not_count_the_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    moto_fast.uninstall()
    assert moto_fast.install()
    counted: list[str] = []
    original = Queue.approximate_number_of_messages_delayed

    def spy(self: Queue) -> int:
        counted.append(self.name)
        return int(original.fget(self))  # type: ignore[attr-defined]

    try:
        # The spy goes before moto_fast's uninstall (which puts moto's own count back).
        with monkeypatch.context() as spying, mock_aws():
            spying.setattr(Queue, "approximate_number_of_messages_delayed", property(spy))
            sqs = boto3.client("sqs", region_name="us-east-1")
            url = sqs.create_queue(QueueName="timers")["QueueUrl"]
            for n in range(5):
                sqs.send_message(QueueUrl=url, MessageBody=str(n), DelaySeconds=900)
            assert counted == []
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
            assert counted == ["timers"]
    finally:
        moto_fast.uninstall()
