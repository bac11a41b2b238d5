"""leadline/local/moto_direct.py: chalicelib's Table over moto in this process answers what it answers
through botocore, errors and binary values included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from leadline.local import moto_fast


@pytest.fixture
def tables(aws: None) -> Iterator[tuple[Any, Any]]:
    from chalicelib.adapters.dynamodb.table import Table
    from chalicelib.config import get_settings
    from leadline.local.history_table import in_process_history_table

    assert moto_fast.install()
    try:
        with in_process_history_table(get_settings().table_name, "us-east-1", journal=None) as direct:
            yield Table(get_settings().table_name), direct
    finally:
        moto_fast.uninstall()


ITEM = {"PK": "DIRECT#1", "SK": "A", "n": 3, "ratio": 0.25, "blob": b"\x00\xffzip", "tags": {"x", "y"},
        "nested": {"list": [1, "two", None, True]}}


def test_reads_and_writes_answer_as_through_botocore(tables: tuple[Any, Any]) -> None:
    table, direct = tables
    direct.put(ITEM)
    assert direct.get({"PK": "DIRECT#1", "SK": "A"}) == table.get({"PK": "DIRECT#1", "SK": "A"})
    assert direct.get({"PK": "DIRECT#1", "SK": "A"})["blob"] == b"\x00\xffzip"
    updated = direct.update({"PK": "DIRECT#1", "SK": "A"}, "SET n = n + :one", values={":one": 1})
    assert updated["n"] == 4 and updated["blob"] == b"\x00\xffzip"
    for sk in ("B", "C", "D"):
        table.put({"PK": "DIRECT#1", "SK": sk})
    assert direct.query_page("DIRECT#1", limit=2) == table.query_page("DIRECT#1", limit=2)
    assert [i["SK"] for i in direct.query("DIRECT#1", ascending=False)] == ["D", "C", "B", "A"]
    assert direct.batch_get([{"PK": "DIRECT#1", "SK": "A"}]) == table.batch_get([{"PK": "DIRECT#1", "SK": "A"}])


def test_errors_are_botocore_s(tables: tuple[Any, Any]) -> None:
    from chalicelib.adapters.dynamodb.table import ConditionFailed, TransactionCancelled

    table, direct = tables
    table.put(ITEM)
    with pytest.raises(ConditionFailed) as failed:
        direct.put({"PK": "DIRECT#1", "SK": "A"}, condition="attribute_not_exists(PK)")
    assert failed.value.item == table.get({"PK": "DIRECT#1", "SK": "A"})
    with pytest.raises(TransactionCancelled) as cancelled:
        direct.transact([
            {"Put": {"Item": {"PK": "DIRECT#2", "SK": "A"}}},
            {"ConditionCheck": {"Key": {"PK": "DIRECT#1", "SK": "A"}, "ConditionExpression": "n = :n",
                                "ExpressionAttributeValues": {":n": 99}}}])
    assert cancelled.value.reasons == ["None", "ConditionalCheckFailed"]
    assert table.get({"PK": "DIRECT#2", "SK": "A"}) is None  # the transaction changed nothing
    with pytest.raises(direct._client.exceptions.ClientError):
        direct.query_page("DIRECT#1", filter_expression="no such ((")
