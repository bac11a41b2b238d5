"""tests/aws_world.py's `world`, for a whole module: one moto account, table, queues and bucket shared
by every test of a module whose tests only need their own data (fuzzing, delivery faults), because
provisioning moto for each test costs more than the tests themselves."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tests.support import World


@contextmanager
def module_world() -> Iterator[World]:
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from chalicelib.adapters.aws import reset_clients
    from chalicelib.clock import FixedClock
    from chalicelib.config import get_settings, reset_settings
    from chalicelib.deps import Deps, set_deps
    from leadline.provision import provision_local

    reset_settings()
    reset_clients()
    with mock_aws():
        provision_local(get_settings())
        clock = FixedClock("2026-11-02T15:00:00Z")
        deps = Deps(clock=clock)
        set_deps(deps)
        try:
            with Client(app) as client:
                yield World(client=client, deps=deps, clock=clock)
        finally:
            set_deps(None)
    reset_clients()
