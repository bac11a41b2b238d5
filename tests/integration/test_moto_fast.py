"""leadline/local/moto_fast.py: its patches are taken only by the moto they were written for, and what
they answer is what moto's own code answers."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from leadline.local import moto_fast


@pytest.fixture
def unpatched() -> Iterator[None]:
    moto_fast.uninstall()
    yield
    moto_fast.uninstall()


def test_todays_moto_takes_the_patches() -> None:
    assert moto_fast.unsupported_reason() is None
    assert moto_fast.UNSUPPORTED is None


def test_another_moto_release_is_left_unpatched(unpatched: None, monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    from moto.dynamodb.responses import DynamoHandler

    monkeypatch.setattr(moto_fast, "MOTO_VERSION", "4.0.0")
    reason = moto_fast.unsupported_reason()
    assert reason is not None and "4.0.0" in reason
    monkeypatch.setattr(moto_fast, "UNSUPPORTED", reason)
    before = DynamoHandler.serialized
    with caplog.at_level(logging.WARNING, logger="local_stack.moto_fast"):
        assert moto_fast.install() is False
    assert DynamoHandler.serialized is before
    assert "moto runs unpatched" in caplog.text and "4.0.0" in caplog.text


def test_a_patched_function_whose_parameters_moved_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    def query(self: Any, hash_key: Any, index_name: Any, *rest: Any) -> None: ...

    monkeypatch.setitem(moto_fast.PATCHED, "Table.query", (query, moto_fast.PATCHED["Table.query"][1]))
    reason = moto_fast.unsupported_reason()
    assert reason is not None and reason.startswith("Table.query takes")


def _stream_records(aws_client: Any, table: str) -> list[dict[str, Any]]:
    streams = aws_client("dynamodbstreams")
    arn = aws_client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return list(streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"])


def test_stream_records_read_the_same_through_the_json_answer(aws: None, unpatched: None) -> None:
    from chalicelib.adapters.aws import client as aws_client
    from chalicelib.config import get_settings

    table = get_settings().table_name
    aws_client("dynamodb").put_item(TableName=table, Item={
        "PK": {"S": "DEMO#1"}, "SK": {"S": "A"}, "n": {"N": "1.5"}, "tags": {"SS": ["a", "b"]},
        "nested": {"M": {"list": {"L": [{"BOOL": True}, {"NULL": True}]}}}})
    own = _stream_records(aws_client, table)
    assert moto_fast.install() is True
    fast = _stream_records(aws_client, table)
    assert fast == own and own  # the images, and the record's time to the millisecond moto writes
