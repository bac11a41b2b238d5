"""The moto world the integration-style suites share: DynamoDB, SQS and S3 in-process, made from
infra/resources.json, the app under chalice's test client, a fixed clock.

Suites that need it import these fixtures in their own conftest (integration, isolation, faults,
fuzz, e2e); tests/unit does not, so no unit test loads moto. The environment they rely on (no real
endpoint, fake credentials) is set by tests/conftest.py before boto3 loads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from tests.support import World


@pytest.fixture
def aws() -> Iterator[None]:
    from chalicelib.adapters.aws import reset_clients
    from chalicelib.config import get_settings, reset_settings
    from leadline.local import moto_fast
    from leadline.provision import provision_local

    # moto as the local stack runs it: moto's own transactions copy the whole table per item they
    # name, so a test's cost grew with everything earlier steps wrote (tests/integration/test_moto_fast.py
    # holds the patches to moto's own answers).
    moto_fast.install()
    reset_settings()
    reset_clients()
    with mock_aws():
        provision_local(get_settings())
        yield
    reset_clients()


@pytest.fixture
def world(aws: None) -> Iterator[World]:
    """The app under chalice's test client, a fixed clock, and builders for tenants."""
    from chalice.test import Client

    from app import app
    from chalicelib.adapters.aws import client as aws_client
    from chalicelib.clock import FixedClock
    from chalicelib.deps import Deps, set_deps
    from leadline.local.streams import StreamPump

    clock = FixedClock("2026-11-02T15:00:00Z")
    deps = Deps(clock=clock)
    set_deps(deps)
    pump = StreamPump(app, aws_client("dynamodb"), aws_client("dynamodbstreams"), deps.settings.table_name)
    with Client(app) as client:
        yield World(client=client, deps=deps, clock=clock, pump=pump)
    set_deps(None)


@pytest.fixture
def client(world: World) -> Any:
    return world.client
