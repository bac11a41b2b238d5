"""A store's ARRIVALS item (the ids of its new-lead cadences) in DynamoDB where the contract suite
cannot reach: a store whose cadences were written before the item was kept, and two managers' first
cadence writes of such a store racing to fill it."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.adapters.dynamodb.cadences import CadenceRepository, _item
from chalicelib.clock import FixedClock
from chalicelib.deps import Deps
from tests.integration.test_repository_contract import NOW
from tests.integration.test_repository_contract_cadences import _arrivals, _cadence


@pytest.fixture
def deps(aws: Any) -> Deps:
    return Deps(clock=FixedClock(NOW))


def _written_before_arrivals_were_kept(deps: Deps, *cadences: Any) -> None:
    repo = deps.cadences
    assert isinstance(repo, CadenceRepository)
    for cadence in cadences:
        repo.table.put(_item(cadence))


def test_a_store_without_the_item_is_unknown_until_its_next_cadence_write_fills_it(deps: Deps) -> None:
    _written_before_arrivals_were_kept(deps, _cadence(1, "Welcome", enroll="new_lead"), _cadence(2, "Service"))
    assert _arrivals(deps) is None
    deps.cadences.add(_cadence(3, "Aged"))
    assert _arrivals(deps) == ("cad_0001",)


def test_two_first_writes_racing_to_fill_the_item_both_count(deps: Deps, monkeypatch: pytest.MonkeyPatch) -> None:
    _written_before_arrivals_were_kept(deps, _cadence(1, "Welcome", enroll="new_lead"))
    repo = deps.cadences
    assert isinstance(repo, CadenceRepository)
    other = CadenceRepository(repo.table)
    read = CadenceRepository.for_account
    raced: list[str] = []

    def for_account_while_another_manager_writes(self: CadenceRepository, account_id: str) -> list[Any]:
        found = read(self, account_id)
        if self is repo and not raced:
            # Between this write's read of the store's cadences and its fill, another fills the item.
            raced.append("other")
            other.add(_cadence(2, "Second", enroll="new_lead"))
        return found

    monkeypatch.setattr(CadenceRepository, "for_account", for_account_while_another_manager_writes)
    repo.add(_cadence(3, "Third", enroll="new_lead"))
    assert raced and _arrivals(deps) == ("cad_0001", "cad_0002", "cad_0003")
