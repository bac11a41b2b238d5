"""Every test runs against moto (in-process) with the table, queues and bucket made from
infra/resources.json, a fixed clock, and helpers to make groups, stores, users and tokens."""

from __future__ import annotations

import os

# Before anything imports boto3: no real endpoint, fake credentials, one region.
for _var in [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL")]:
    os.environ.pop(_var)
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "LEADLINE_JWT_SECRET": "test-secret-0123456789abcdef0123456789", "LEADLINE_STAGE": "test",
    "POWERTOOLS_TRACE_DISABLED": "1", "POWERTOOLS_METRICS_NAMESPACE": "LeadlineTest",
    "POWERTOOLS_DEV": "0", "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "1",
})

import io  # noqa: E402
import logging  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from tests.support import World  # noqa: E402


@pytest.fixture
def aws() -> Iterator[None]:
    from chalicelib.adapters.aws import reset_clients
    from chalicelib.config import get_settings, reset_settings
    from leadline.provision import provision_local

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
    from chalicelib.clock import FixedClock
    from chalicelib.deps import Deps, set_deps

    clock = FixedClock("2026-11-02T15:00:00Z")
    deps = Deps(clock=clock)
    set_deps(deps)
    with Client(app) as client:
        yield World(client=client, deps=deps, clock=clock)
    set_deps(None)


@pytest.fixture
def client(world: World) -> Any:
    return world.client


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """What the app logs during the test, every level: the Powertools logger binds its stream at
    import (FIELD-NOTES), so the test swaps the handler's stream rather than using capsys."""
    from chalicelib.observability import logger

    stream = io.StringIO()
    handler = logger.registered_handler
    old_stream, old_level = handler.stream, logger.log_level
    handler.setStream(stream)
    logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        handler.setStream(old_stream)
        logger.setLevel(old_level)
