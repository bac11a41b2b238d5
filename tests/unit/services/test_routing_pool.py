"""A routing use case's Pool is a value: the rotation read with it is what a first attempt decides on
(every first attempt, however often it is asked), a later attempt reads the store's again, and a pool
for a later lead is a new value (`read_again`), never the same one changed."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from chalicelib.clock import FixedClock
from chalicelib.domain.routing import Rotation, RoutingConfig
from chalicelib.services.routing_transition import Pool
from tests.fakes import fake_deps


def test_the_rotation_read_with_the_pool_is_each_first_attempts_and_a_retry_reads_it_again() -> None:
    deps = fake_deps(FixedClock(datetime(2026, 11, 26, 15, tzinfo=UTC)))
    stored, read_with_pool = Rotation(seq=7, rev=3), Rotation(seq=5, rev=2)
    deps.state.rotations["acc_1"] = stored
    pool = Pool(RoutingConfig(account_id="acc_1"), {}, None, rotation=read_with_pool)
    assert pool.context(deps, "acc_1", 0).rotation == read_with_pool
    assert pool.context(deps, "acc_1", 0).rotation == read_with_pool  # asking again changes nothing
    assert pool.context(deps, "acc_1", 1).rotation == stored
    later = pool.read_again()
    assert later.context(deps, "acc_1", 0).rotation == stored and pool.rotation == read_with_pool
    with pytest.raises(dataclasses.FrozenInstanceError):
        pool.rotation = None  # type: ignore[misc]
