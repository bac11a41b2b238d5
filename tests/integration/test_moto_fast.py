"""leadline/local/moto_fast.py: its patches are taken only by the moto they were written for, and what
they answer is what moto's own code answers."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from leadline.local import moto_fast, moto_fast_dispatch


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


def test_binary_values_read_the_same_through_the_json_answer(aws: None, unpatched: None,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.adapters.aws import client as aws_client
    from chalicelib.config import get_settings

    table, ddb = get_settings().table_name, aws_client("dynamodb")
    key = {"PK": {"S": "DEMO#2"}, "SK": {"S": "A"}}
    ddb.put_item(TableName=table, Item={**key, "blob": {"B": b"\x00\xffrollup"}, "blobs": {"BS": [b"\x01", b"\x02"]},
                                        "nested": {"M": {"b": {"B": b"\x03"}, "l": {"L": [{"B": b"\x04"}]}}}})

    def read() -> tuple[Any, ...]:
        got = ddb.batch_get_item(RequestItems={table: {"Keys": [key]}})["Responses"][table]
        return got, ddb.get_item(TableName=table, Key=key)["Item"], _stream_records(aws_client, table)

    own = read()
    assert moto_fast.install() is True
    generic: list[str] = []

    def counted(original: Any) -> Any:
        def serialized(handler: Any, result: Any) -> Any:
            generic.append(handler._get_action())
            return original(handler, result)

        return serialized

    for name in ("serialized", "stream_serialized"):
        monkeypatch.setitem(moto_fast._originals, name, counted(moto_fast._originals[name]))
    assert read() == own and own[1]["blob"] == {"B": b"\x00\xffrollup"}
    # BatchGetItem, GetItem and the stream calls went out as JSON (DescribeTable takes moto's serializer)
    assert set(generic) == {"DescribeTable"}


def test_moto_server_finds_a_hosts_service_once_and_as_moto_does(unpatched: None,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    app = DomainDispatcherApplication(create_backend_app)
    hosts = ["127.0.0.1:4566", "dynamodb.us-east-1.amazonaws.com", "sqs.us-east-1.amazonaws.com", None, "moto_api"]
    own = [app.get_backend_for_host(host) for host in hosts]
    assert own[1:3] == ["dynamodb", "sqs"]
    assert moto_fast.install() is True
    looked_up: list[str | None] = []
    original = moto_fast_dispatch._originals["get_backend_for_host"]

    def counted(dispatcher: Any, host: str | None) -> Any:
        looked_up.append(host)
        return original(dispatcher, host)

    monkeypatch.setitem(moto_fast_dispatch._originals, "get_backend_for_host", counted)
    assert [app.get_backend_for_host(host) for host in hosts * 3] == own * 3
    assert looked_up == hosts  # each host's patterns matched once


def _gsi1_keys(ddb: Any, table: str, partition: str) -> list[str]:
    pages = ddb.get_paginator("query").paginate(
        TableName=table, IndexName="GSI1", KeyConditionExpression="GSI1PK = :p",
        ExpressionAttributeValues={":p": {"S": partition}})
    return sorted(item["PK"]["S"] for page in pages for item in page["Items"])


def _scanned(ddb: Any, table: str, partition: str) -> list[str]:
    items = [i for page in ddb.get_paginator("scan").paginate(TableName=table) for i in page["Items"]]
    return sorted(i["PK"]["S"] for i in items if i.get("GSI1PK", {}).get("S") == partition and "GSI1SK" in i)


def test_a_gsi_query_answers_what_the_items_hold_through_every_kind_of_write(aws: None) -> None:
    """moto_index.py: the partitions' candidates are found from what each write left, moved, deleted
    or put back by a cancelled transaction; the answer is always what a Scan of the items says."""
    from chalicelib.adapters.aws import client as aws_client
    from chalicelib.config import get_settings

    ddb, table = aws_client("dynamodb"), get_settings().table_name

    def item(n: int, partition: str) -> dict[str, Any]:
        return {"PK": {"S": f"IX#{n}"}, "SK": {"S": "A"}, "GSI1PK": {"S": partition}, "GSI1SK": {"S": f"{n:03d}"}}

    def agree() -> None:
        for partition in ("P#a", "P#b", "P#c"):
            assert _gsi1_keys(ddb, table, partition) == _scanned(ddb, table, partition), partition

    for n in range(6):
        ddb.put_item(TableName=table, Item=item(n, "P#a"))
    agree()  # the first GSI Query makes the partitions from the items
    ddb.put_item(TableName=table, Item=item(6, "P#b"))
    ddb.update_item(TableName=table, Key={"PK": {"S": "IX#1"}, "SK": {"S": "A"}},
                    UpdateExpression="SET GSI1PK = :b", ExpressionAttributeValues={":b": {"S": "P#b"}})
    ddb.update_item(TableName=table, Key={"PK": {"S": "IX#2"}, "SK": {"S": "A"}}, UpdateExpression="REMOVE GSI1SK")
    ddb.update_item(TableName=table, Key={"PK": {"S": "IX#9"}, "SK": {"S": "A"}},  # made by the update
                    UpdateExpression="SET GSI1PK = :c, GSI1SK = :s",
                    ExpressionAttributeValues={":c": {"S": "P#c"}, ":s": {"S": "009"}})
    ddb.delete_item(TableName=table, Key={"PK": {"S": "IX#3"}, "SK": {"S": "A"}})
    agree()
    move = {"Update": {"TableName": table, "Key": {"PK": {"S": "IX#4"}, "SK": {"S": "A"}},
                       "UpdateExpression": "SET GSI1PK = :c", "ExpressionAttributeValues": {":c": {"S": "P#c"}}}}
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        ddb.transact_write_items(TransactItems=[move, {"ConditionCheck": {
            "TableName": table, "Key": {"PK": {"S": "IX#5"}, "SK": {"S": "A"}},
            "ConditionExpression": "attribute_not_exists(PK)"}}])
    agree()  # the cancelled move is undone: IX#4 is still in P#a
    ddb.transact_write_items(TransactItems=[move, {"Put": {"TableName": table, "Item": item(7, "P#c")}},
                                            {"Delete": {"TableName": table, "Key": {"PK": {"S": "IX#0"},
                                                                                    "SK": {"S": "A"}}}}])
    ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": item(8, "P#b")}},
                                               {"DeleteRequest": {"Key": {"PK": {"S": "IX#6"}, "SK": {"S": "A"}}}}]})
    agree()
    assert _gsi1_keys(ddb, table, "P#c") == ["IX#4", "IX#7", "IX#9"]

    moto_fast.uninstall()  # writes moto's own code makes are not noted: the next install starts again
    ddb.put_item(TableName=table, Item=item(10, "P#a"))
    assert moto_fast.install()
    agree()
    assert "IX#10" in _gsi1_keys(ddb, table, "P#a")
