"""leadline/local/moto_fork.py: work done in a forked copy of moto comes back whole (puts, updates,
deletes, found by a GSI Query afterwards); an item written on both sides, or a failing child, is named
and nothing of the child's is brought back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.adapters.dynamodb.table import Table


@pytest.fixture
def direct(aws: None) -> Iterator[Any]:
    from chalicelib.config import get_settings
    from leadline.local.history_table import in_process_history_table

    with in_process_history_table(get_settings().table_name, "us-east-1", journal=None) as table:
        assert table is not None
        yield table


def _item(pk: str, **fields: Any) -> dict[str, Any]:
    return {"PK": pk, "SK": "A", **fields}


def test_the_childs_writes_come_back_beside_the_parents(direct: Any) -> None:
    from leadline.local.moto_fork import in_two

    direct.put(_item("FORK#kept", n=1))
    direct.put(_item("FORK#gone"))

    def here(table: Table) -> str:
        table.put(_item("FORK#here", GSI1PK="FORK#P", GSI1SK="1"))
        return "here"

    def there(table: Table) -> dict[str, int]:
        table.put(_item("FORK#there", GSI1PK="FORK#P", GSI1SK="2"))
        table.update({"PK": "FORK#kept", "SK": "A"}, "SET n = n + :one", values={":one": 1})
        table.delete({"PK": "FORK#gone", "SK": "A"})
        return {"done": 3}

    assert in_two(here, there, direct) == ("here", {"done": 3})
    assert direct.get({"PK": "FORK#kept", "SK": "A"})["n"] == 2
    assert direct.get({"PK": "FORK#gone", "SK": "A"}) is None
    assert [i["PK"] for i in direct.query("FORK#P", index=1)] == ["FORK#here", "FORK#there"]


def test_an_item_written_on_both_sides_is_named_and_the_child_s_writes_stay_out(direct: Any) -> None:
    from leadline.local.moto_fork import ForkedConflict, in_two

    def here(table: Table) -> None:
        table.put(_item("FORK#both", side="here"))

    def there(table: Table) -> None:
        table.put(_item("FORK#both", side="there"))
        table.put(_item("FORK#only-there"))

    with pytest.raises(ForkedConflict, match="FORK#both"):
        in_two(here, there, direct)
    assert direct.get({"PK": "FORK#both", "SK": "A"})["side"] == "here"
    assert direct.get({"PK": "FORK#only-there", "SK": "A"}) is None


def test_a_failing_child_is_reported_with_its_traceback(direct: Any) -> None:
    from leadline.local.moto_fork import in_two

    def there(table: Table) -> None:
        table.put(_item("FORK#half"))
        raise ValueError("the child broke")

    with pytest.raises(RuntimeError, match="the child broke"):
        in_two(lambda table: None, there, direct)
    assert direct.get({"PK": "FORK#half", "SK": "A"}) is None
