"""`make fuzz` passes --fuzz-examples (total cases over all operations); `make test` runs a short,
deterministic pass with the default."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

SHORT_RUN_CASES = 400


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fuzz-examples", type=int, default=None,
                     help="total generated requests over every operation (default: a short run)")


@pytest.fixture(scope="session")
def fuzz_budget(request: pytest.FixtureRequest) -> tuple[int, bool]:
    """(total cases, long run?) — a long run is random; the short one is derandomized so CI is stable."""
    value = request.config.getoption("--fuzz-examples", default=None)
    if value is None and os.environ.get("FUZZ_EXAMPLES"):
        value = int(os.environ["FUZZ_EXAMPLES"])
    return (int(value), True) if value else (SHORT_RUN_CASES, False)


@pytest.fixture(scope="module")
def fuzz_world() -> Iterator[Any]:
    """One moto world for every operation of the module (tests/conftest.py's `world`, module-scoped):
    provisioning per operation would cost more than the fuzzing itself."""
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from chalicelib.adapters.aws import reset_clients
    from chalicelib.clock import FixedClock
    from chalicelib.config import get_settings, reset_settings
    from chalicelib.deps import Deps, set_deps
    from leadline.provision import provision_local
    from tests.support import World

    reset_settings()
    reset_clients()
    with mock_aws():
        provision_local(get_settings())
        clock = FixedClock("2026-11-02T15:00:00Z")
        deps = Deps(clock=clock)
        set_deps(deps)
        with Client(app) as client:
            yield World(client=client, deps=deps, clock=clock)
        set_deps(None)
    reset_clients()
