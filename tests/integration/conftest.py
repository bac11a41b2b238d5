"""The real adapters under moto (tests/aws_world.py): `aws`, `world`, `client`; and the repository
contract suites' `deps` (test_*_contract*.py): every test that takes it runs twice, against the
in-memory fakes of tests/fakes.py and against the DynamoDB repositories under moto, with the clock at
`contract_now` (a suite overrides that fixture to start elsewhere); `sqs`: a client of in-process moto
whose tests run twice, on the local stack's patched SQS (moto_fast) and on moto's own."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.clock import FixedClock
from chalicelib.deps import Deps
from leadline.local import moto_fast
from tests.aws_world import aws, client, world
from tests.fakes import fake_deps

__all__ = ["aws", "client", "contract_now", "deps", "sqs", "world"]

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



@pytest.fixture(params=["patched", "moto's own"])
def sqs(request: pytest.FixtureRequest) -> Iterator[Any]:
    moto_fast.uninstall()
    if request.param == "patched":
        assert moto_fast.install()
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")
    moto_fast.uninstall()
