"""The seeded demo (leadline/demo.py) on the moto world: 90 days of history per store, written
through the services with the clock stepped, make reports worth opening and true to what happened."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.support import World


class _ClientApi:
    def __init__(self, world: World, token: str) -> None:
        self.world, self.token = world, token

    def call(self, method: str, path: str, body: Any) -> Any:
        reply = self.world.call(method, path, self.token, body)
        assert reply.status < 300, (method, path, reply.json)
        return reply.json


@pytest.fixture
def demo(world: World) -> dict[str, Any]:
    from app import app
    from leadline.demo import seed_demo
    from leadline.local.history_table import in_process_history_table

    # The history writes as on the local stack: moto answers its calls in this process (moto_direct.py).
    with in_process_history_table(world.deps.settings.table_name, "us-east-1", journal=None) as table:
        assert table is not None
        seed = seed_demo(app, world.deps, lambda token: _ClientApi(world, token), table)
    assert not seed.skipped, seed.skipped
    return seed.as_dict()


def _period(world: World) -> dict[str, str]:
    today = world.clock.now().date()
    return {"from": str(today - timedelta(days=90)), "to": str(today)}


def test_the_demo_holds_90_days_true_to_its_reports(world: World, demo: dict[str, Any]) -> None:
    """One test: seeding the history takes most of its time."""
    from leadline.demo import LEADS

    history = demo["history"]
    assert history["leads"] > 100
    for outcome in ("accepted", "declined", "customer replies", "appointments", "showed", "no shows", "sold",
                    "cold", "opted out", "coalesced"):
        assert history[outcome] > 0, outcome

    token = world.token(demo["manager_id"])
    period = _period(world)
    total = missed = 0
    for account_id in demo["account_ids"]:
        board = world.get(f"/reports/dashboard?account_id={account_id}&from={period['from']}&to={period['to']}",
                          token).json
        assert board["leads"] > 10, board
        assert board["accepted"] > 0 and board["time_to_accept"]["median_s"] is not None
        assert sum(a["declined"] for a in board["agents"]) + sum(a["timed_out"] for a in board["agents"]) > 0
        assert board["targets_met"] > 0, board  # every store has response targets
        total, missed = total + board["leads"], missed + board["targets_missed"]
    assert missed > 0  # and not every agent answers in time
    # The history's leads, and the five of today made through the API.
    assert total == demo["history"]["leads"] + len(LEADS)

    sources = world.get(f"/reports/lead-sources?from={period['from']}&to={period['to']}", token).json
    assert len(sources["items"]) >= 5
    assert sources["totals"]["leads"] == total + history["coalesced"]  # every request, its repeats too
    assert sources["totals"]["duplicates"] == history["coalesced"]
    for figure in ("appointments", "showed", "sold", "duplicates", "no_email"):
        assert sources["totals"][figure] > 0, figure
    assert sources["totals"]["sold"] == demo["history"]["sold"]
    assert sources["totals"]["showed"] == demo["history"]["showed"]

    # The rollups the table's stream fed say what the recomputation from the raw events says.
    from chalicelib.services.report_check import verify

    world.settle()
    today = world.clock.now().date()
    for account_id in demo["account_ids"]:
        assert verify(world.deps, account_id, today - timedelta(days=90), today) == [], account_id
