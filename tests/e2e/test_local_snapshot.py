"""Snapshots of the local stack: DynamoDB items and S3 objects to $LEADLINE_HOME and back,
restored only into an empty store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chalicelib.adapters.aws import client
from chalicelib.config import get_settings
from leadline.local.snapshot import Snapshotter

pytestmark = pytest.mark.e2e


def snapshotter(home: Path) -> Snapshotter:
    settings = get_settings()
    return Snapshotter(home, settings.table_name, settings.reports_bucket, client("dynamodb"), client("s3"))


def put(pk: str, **attrs: Any) -> None:
    item = {"PK": {"S": pk}, "SK": {"S": "X"}, **attrs}
    client("dynamodb").put_item(TableName=get_settings().table_name, Item=item)


def wipe() -> None:
    settings = get_settings()
    for item in client("dynamodb").scan(TableName=settings.table_name)["Items"]:
        client("dynamodb").delete_item(TableName=settings.table_name, Key={"PK": item["PK"], "SK": item["SK"]})
    for obj in client("s3").list_objects_v2(Bucket=settings.reports_bucket).get("Contents", []):
        client("s3").delete_object(Bucket=settings.reports_bucket, Key=obj["Key"])


def test_items_and_objects_survive_a_round_trip(aws: None, tmp_path: Path) -> None:
    for i in range(30):  # more than one BatchWriteItem
        put(f"ITEM#{i:02d}", n={"N": str(i)}, tags={"SS": ["a", "b"]}, blob={"B": b"\x00\xff"},
            m={"M": {"x": {"NULL": True}}})
    bucket = get_settings().reports_bucket
    client("s3").put_object(Bucket=bucket, Key="reports/a.csv", Body=b"x,y\n1,2\n", ContentType="text/csv")
    client("s3").put_object(Bucket=bucket, Key="reports/b.bin", Body=bytes(range(256)))
    first = snapshotter(tmp_path)
    assert first.save() is True
    assert first.save() is False  # nothing changed: no rewrite
    assert oct(first.table_file.stat().st_mode & 0o777) == "0o600"
    before = first.table_items()

    wipe()
    again = snapshotter(tmp_path)
    assert again.table_is_empty()
    assert again.restore() == {"items": 30, "objects": 2}
    assert again.table_items() == before
    got = client("s3").get_object(Bucket=bucket, Key="reports/a.csv")
    assert got["Body"].read() == b"x,y\n1,2\n" and got["ContentType"] == "text/csv"
    assert client("s3").get_object(Bucket=bucket, Key="reports/b.bin")["Body"].read() == bytes(range(256))


def test_a_store_that_has_data_is_not_overwritten(aws: None, tmp_path: Path) -> None:
    put("OLD#1")
    assert snapshotter(tmp_path).save()
    wipe()
    put("NEW#1")
    restored = snapshotter(tmp_path).restore()
    assert restored["items"] == 0
    assert [i["PK"]["S"] for i in snapshotter(tmp_path).table_items()] == ["NEW#1"]


def test_a_deleted_object_leaves_the_next_snapshot(aws: None, tmp_path: Path) -> None:
    bucket = get_settings().reports_bucket
    client("s3").put_object(Bucket=bucket, Key="reports/gone.csv", Body=b"1")
    snap = snapshotter(tmp_path)
    snap.save()
    client("s3").delete_object(Bucket=bucket, Key="reports/gone.csv")
    assert snap.save() is True
    wipe()
    assert snapshotter(tmp_path).restore()["objects"] == 0
