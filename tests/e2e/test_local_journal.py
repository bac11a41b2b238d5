"""The emulator's journal, driven through moto's server in this process: every acknowledged
DynamoDB, S3 and SQS change is back after a crash (the journal closed without folding, moto's
memory wiped), sealed segments fold into the snapshot in the background, a damaged journal is
reported, and writes are refused once the journal cannot keep them."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.sqs import models as sqs_models

from leadline.local.emulator import LocalMotoServer
from leadline.local.journal import JournalCorrupt, encode_line, read_segment
from leadline.local.persistence import Persistence
from leadline.local.sqs_journal import message_record
from leadline.local.streams import StreamDelivery, TableStream
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.e2e

TABLE, BUCKET, QUEUE = "journal-test", "journal-test-bucket", "journal-test-queue"
REGION = "us-east-1"


class Emulator:
    """A LocalMotoServer with persistence under `data`, provisioned like the stack does."""

    def __init__(self, data: Path, segment_bytes: int = 8 * 1024 * 1024) -> None:
        self.persistence = Persistence(data, REGION, segment_bytes=segment_bytes)
        self.persistence.recover()
        self.port = free_port()
        self.server = LocalMotoServer("127.0.0.1", self.port, persistence=self.persistence)
        self.server.start()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.ddb, self.s3, self.sqs = (self.client(s) for s in ("dynamodb", "s3", "sqs"))
        self.ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"},
                                         {"AttributeName": "SK", "KeyType": "RANGE"}],
                              AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                                                    {"AttributeName": "SK", "AttributeType": "S"}],
                              StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        self.s3.create_bucket(Bucket=BUCKET)
        dlq = self.sqs.create_queue(QueueName=QUEUE + "-dlq")["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.queue = self.sqs.create_queue(QueueName=QUEUE, Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"})})["QueueUrl"]
        self.persistence.load_stores(self.s3)
        self.persistence.load_messages()
        self.persistence.open()

    def client(self, service: str, **config: Any) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id="local",
                            aws_secret_access_key="local", config=Config(**config) if config else None)

    def crash(self) -> None:
        """What SIGKILL leaves: the journal's lines on disk, nothing folded, moto's memory gone."""
        self.persistence.journal.close()
        self.persistence.sqs.uninstall()
        requests.post(self.endpoint + "/moto-api/reset", timeout=10)
        self.server.stop()

    def stop(self) -> None:
        self.persistence.close()
        requests.post(self.endpoint + "/moto-api/reset", timeout=10)
        self.server.stop()

    # -- what the emulator holds ----------------------------------------------------------------

    def items(self) -> list[dict[str, Any]]:
        items = self.ddb.scan(TableName=TABLE, ConsistentRead=True)["Items"]
        return sorted(items, key=lambda i: (i["PK"]["S"], i["SK"]["S"]))

    def objects(self) -> dict[str, tuple[bytes, str, dict[str, str], str | None]]:
        found = {}
        for head in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            got = self.s3.get_object(Bucket=BUCKET, Key=head["Key"])
            found[head["Key"]] = (got["Body"].read(), got["ContentType"], got["Metadata"], got.get("ContentEncoding"))
        return found

    def stream_records(self) -> list[dict[str, Any]]:
        streams = self.client("dynamodbstreams")
        arn = self.ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        return list(streams.get_records(ShardIterator=iterator)["Records"])

    @staticmethod
    def messages(name: str) -> list[dict[str, Any]]:
        queue = sqs_models.sqs_backends["123456789012"][REGION].queues[name]
        return sorted((message_record(m) for m in queue._messages), key=lambda r: r["id"])


@pytest.fixture
def started() -> Iterator[list[Emulator]]:
    emulators: list[Emulator] = []
    yield emulators
    for emulator in emulators:
        if emulator.persistence.journal.is_open:
            emulator.stop()


def make_changes(emu: Emulator) -> None:
    ddb, s3, sqs = emu.ddb, emu.s3, emu.sqs
    ddb.put_item(TableName=TABLE, Item={"PK": {"S": "A"}, "SK": {"S": "1"}, "blob": {"B": b"\x00\xff"},
                                        "tags": {"SS": ["x", "y"]}, "m": {"M": {"n": {"N": "1"}}}})
    ddb.put_item(TableName=TABLE, Item={"PK": {"S": "A"}, "SK": {"S": "2"}, "n": {"N": "1"}})
    ddb.update_item(TableName=TABLE, Key={"PK": {"S": "A"}, "SK": {"S": "2"}}, UpdateExpression="ADD n :one",
                    ExpressionAttributeValues={":one": {"N": "41"}})
    ddb.put_item(TableName=TABLE, Item={"PK": {"S": "gone"}, "SK": {"S": "1"}})
    ddb.delete_item(TableName=TABLE, Key={"PK": {"S": "gone"}, "SK": {"S": "1"}})
    ddb.batch_write_item(RequestItems={TABLE: [
        {"PutRequest": {"Item": {"PK": {"S": "B"}, "SK": {"S": str(i)}}}} for i in range(3)]})
    ddb.batch_write_item(RequestItems={TABLE: [{"DeleteRequest": {"Key": {"PK": {"S": "B"}, "SK": {"S": "0"}}}}]})
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE, "Item": {"PK": {"S": "T"}, "SK": {"S": "1"}}}},
        {"Update": {"TableName": TABLE, "Key": {"PK": {"S": "A"}, "SK": {"S": "2"}}, "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"S": "from a transaction"}}}},
        {"ConditionCheck": {"TableName": TABLE, "Key": {"PK": {"S": "A"}, "SK": {"S": "1"}},
                            "ConditionExpression": "attribute_exists(PK)"}}])
    with pytest.raises(ClientError):  # cancelled: nothing of it may come back either
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"PK": {"S": "never"}, "SK": {"S": "1"}}}},
            {"ConditionCheck": {"TableName": TABLE, "Key": {"PK": {"S": "nope"}, "SK": {"S": "1"}},
                                "ConditionExpression": "attribute_exists(PK)"}}])

    s3.put_object(Bucket=BUCKET, Key="reports/a b.csv", Body=b"x,y\n1,2\n", ContentType="text/csv",
                  Metadata={"account": "acc_1"})
    s3.put_object(Bucket=BUCKET, Key="reports/ü.gz", Body=bytes(range(256)), ContentEncoding="gzip")
    s3.put_object(Bucket=BUCKET, Key="reports/gone.csv", Body=b"1")
    s3.copy_object(Bucket=BUCKET, Key="reports/copy.csv", CopySource={"Bucket": BUCKET, "Key": "reports/a b.csv"})
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "reports/gone.csv"}]})

    sqs.send_message(QueueUrl=emu.queue, MessageBody="timer", DelaySeconds=600, MessageAttributes={
        "kind": {"DataType": "String", "StringValue": "offer"},
        "raw": {"DataType": "Binary", "BinaryValue": b"\x01\x02"}})
    sqs.send_message_batch(QueueUrl=emu.queue, Entries=[
        {"Id": "a", "MessageBody": "handled"}, {"Id": "b", "MessageBody": "poison"}])
    got = sqs.receive_message(QueueUrl=emu.queue, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    handled = next(m for m in got if m["Body"] == "handled")
    sqs.delete_message(QueueUrl=emu.queue, ReceiptHandle=handled["ReceiptHandle"])
    # Received once and not deleted: the next receive moves it to the DLQ (maxReceiveCount 1).
    sqs.receive_message(QueueUrl=emu.queue, MaxNumberOfMessages=10, VisibilityTimeout=0)


def test_every_acknowledged_change_comes_back_after_a_crash(tmp_path: Path, started: list[Emulator]) -> None:
    first = Emulator(tmp_path)
    started.append(first)
    make_changes(first)
    items, objects = first.items(), first.objects()
    queued, dead = first.messages(QUEUE), first.messages(QUEUE + "-dlq")
    assert [m["body"] for m in queued] == ["timer"] and [m["body"] for m in dead] == ["poison"]
    assert first.stream_records()
    assert {i["PK"]["S"] for i in items} == {"A", "B", "T"} and set(objects) == {
        "reports/a b.csv", "reports/ü.gz", "reports/copy.csv"}
    first.crash()

    second = Emulator(tmp_path)
    started.append(second)
    assert second.items() == items
    assert second.stream_records() == []  # a stream consumer saw them when they were written
    assert second.objects() == objects
    assert second.messages(QUEUE) == queued  # same id, attributes, and delay end (wall clock)
    assert second.messages(QUEUE + "-dlq") == dead
    assert queued[0]["delayed_until"] > time.time() * 1000 + 500_000  # still ~600 s ahead: it fires at its time


def test_sealed_segments_fold_into_the_snapshot_while_running(tmp_path: Path, started: list[Emulator]) -> None:
    first = Emulator(tmp_path, segment_bytes=2048)
    started.append(first)
    for i in range(60):
        first.ddb.put_item(TableName=TABLE, Item={"PK": {"S": "P"}, "SK": {"S": f"{i:03d}"}, "pad": {"S": "x" * 100}})
    deadline = time.monotonic() + 10
    while first.persistence.compactions == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first.persistence.compactions >= 1
    assert (tmp_path / "snapshot.json").exists()
    assert len(list((tmp_path / "journal").iterdir())) < 5  # folded segments are gone
    first.crash()

    second = Emulator(tmp_path)
    started.append(second)
    assert [i["SK"]["S"] for i in second.items()] == [f"{i:03d}" for i in range(60)]


def test_calls_it_could_not_keep_are_refused(tmp_path: Path, started: list[Emulator]) -> None:
    emu = Emulator(tmp_path)
    started.append(emu)
    emu.ddb.put_item(TableName=TABLE, Item={"PK": {"S": "Q"}, "SK": {"S": "1"}})
    assert emu.ddb.execute_statement(Statement=f'SELECT * FROM "{TABLE}"')["Items"]
    with pytest.raises(ClientError) as refused:
        emu.ddb.execute_statement(Statement=f"INSERT INTO \"{TABLE}\" VALUE {{'PK': 'R', 'SK': '1'}}")
    assert refused.value.response["Error"]["Code"] == "ValidationException"

    emu.persistence.journal.fail("the disk is full")  # as after a failed fsync
    once = {"retries": {"max_attempts": 1, "mode": "standard"}}
    with pytest.raises(ClientError) as ddb_refused:
        emu.client("dynamodb", **once).put_item(TableName=TABLE, Item={"PK": {"S": "late"}, "SK": {"S": "1"}})
    assert "the disk is full" in str(ddb_refused.value)
    with pytest.raises(ClientError):
        emu.client("s3", **once).put_object(Bucket=BUCKET, Key="late.csv", Body=b"1")
    with pytest.raises(ClientError):
        emu.client("sqs", **once).send_message(QueueUrl=emu.queue, MessageBody="late")
    # Refused before it ran: nothing was changed that a restart would take back.
    assert [i["PK"]["S"] for i in emu.items()] == ["Q"] and not emu.objects() and not emu.messages(QUEUE)
    emu.crash()


def test_a_torn_last_line_is_dropped_and_damage_elsewhere_is_reported(tmp_path: Path) -> None:
    segment = tmp_path / "00000001.log"
    good = encode_line([{"kind": "reset"}])
    segment.write_bytes(good + good[:-5])  # the second write was cut short by the crash
    assert list(read_segment(segment, last=True)) == [[{"kind": "reset"}]]
    with pytest.raises(JournalCorrupt):
        list(read_segment(segment, last=False))  # a sealed segment was complete: this is damage
    segment.write_bytes(good.replace(b"reset", b"rEset") + good)
    with pytest.raises(JournalCorrupt):
        list(read_segment(segment, last=True))


def test_snapshot_files_of_the_earlier_version_are_imported(tmp_path: Path) -> None:
    (tmp_path / "dynamodb-leadline.json").write_text(json.dumps({"table": "leadline", "items": [
        {"PK": {"S": "USER#1"}, "SK": {"S": "PROFILE"}, "blob": {"B": base64.b64encode(b"\x00").decode()}}]}))
    (tmp_path / "s3-leadline-reports.json").write_text(json.dumps({"bucket": "leadline-reports", "objects": [
        {"key": "r.csv", "content_type": "text/csv", "body": base64.b64encode(b"a,b\n").decode()}]}))
    state = Persistence(tmp_path, REGION).recover()
    assert state.counts() == {"items": 1, "messages": 0, "objects": 1}
    assert not list(tmp_path.glob("dynamodb-*.json")) and (tmp_path / "snapshot.json").exists()
    assert Persistence(tmp_path, REGION).recover().counts() == {"items": 1, "messages": 0, "objects": 1}


def test_stream_records_the_consumer_had_not_taken_are_made_again_after_a_crash(
        tmp_path: Path, started: list[Emulator]) -> None:
    first = Emulator(tmp_path)
    started.append(first)
    for n in range(1, 5):
        first.ddb.put_item(TableName=TABLE, Item={"PK": {"S": "R"}, "SK": {"S": str(n)}, "type": {"S": "report_event"}})
    first.ddb.put_item(TableName=TABLE, Item={"PK": {"S": "L"}, "SK": {"S": "1"}, "type": {"S": "lead"}})
    records = TableStream(first.ddb, first.client("dynamodbstreams"), TABLE).read()
    assert [r["dynamodb"]["Keys"]["SK"]["S"] for r in records] == ["1", "2", "3", "4"]  # the filter's

    def third_fails(event: dict[str, Any]) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][2]["dynamodb"]["SequenceNumber"]}]}

    delivery = StreamDelivery(third_fails, taken=first.persistence.stream_taken)
    delivery.offer(records)
    assert not delivery.deliver_one_batch()  # 1 and 2 taken; 3 and 4 wait for the retry
    first.crash()

    second = Emulator(tmp_path)
    started.append(second)
    again = second.stream_records()
    assert [(r["eventName"], r["dynamodb"]["Keys"]["SK"]["S"]) for r in again] == [("INSERT", "3"), ("INSERT", "4")]
    assert len(second.items()) == 5
    made = TableStream(second.ddb, second.client("dynamodbstreams"), TABLE).read()
    delivery = StreamDelivery(lambda event: {}, taken=second.persistence.stream_taken)
    delivery.offer(made)
    assert delivery.deliver_one_batch()
    second.stop()  # a clean stop folds the journal: the backlog is empty in the snapshot

    third = Emulator(tmp_path)
    started.append(third)
    assert third.stream_records() == [] and len(third.items()) == 5
