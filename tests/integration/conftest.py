"""The real adapters under moto (tests/aws_world.py): `aws`, `world`, `client`; and the repository
contract suites' `deps` (test_*_contract*.py): every test that takes it runs twice, against the
in-memory fakes of tests/fakes.py and against the DynamoDB repositories under moto, with the clock at
`contract_now` (a suite overrides that fixture to start elsewhere)."""

from collections.abc import Iterator

import pytest

from chalicelib.clock import FixedClock
from chalicelib.deps import Deps
from tests.aws_world import aws, client, world
from tests.fakes import fake_deps

__all__ = ["aws", "client", "contract_now", "deps", "world"]

CONTRACT_NOW = "2026-11-02T15:00:00.000Z"


@pytest.fixture
def contract_now() -> str:
    return CONTRACT_NOW


@pytest.fixture(params=["fake", "dynamodb"])
def deps(request: pytest.FixtureRequest, contract_now: str) -> Iterator[Deps]:
    if request.param == "fake":
        yield fake_deps(FixedClock(contract_now))
        return
    request.getfixturevalue("aws")
    yield Deps(clock=FixedClock(contract_now))

