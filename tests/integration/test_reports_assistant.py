"""The assistant report (GET /reports/assistant, the overview's `assistant` block) over moto, on
both report paths (the rollups, and the recomputation from raw report events): a small history
of cadence events with every figure worked out by hand, and a cadence's real work (steps through
the outbox, a customer's reply) read back from the timeline it wrote."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.conversations_support import sms, store
from tests.integration.reports_support import reading, remap, store_events
from tests.integration.routing_support import record_queues
from tests.integration.test_cadences_api import CADENCE, LEAD, _run
from tests.support import World
from tests.unit.assistant_history import BY_CADENCE, TOTALS, history

PERIOD = "from=2026-11-02&to=2026-11-03"


@pytest.fixture(autouse=True, params=["rollups", "events"])
def report_source(request: pytest.FixtureRequest, world: World) -> Iterator[str]:
    with reading(world, request.param):
        yield request.param


def test_the_assistant_figures_of_a_small_history_worked_by_hand(world: World) -> None:
    world.clock.set("2026-11-05T00:00:00Z")
    s = store(world)
    store_events(world, remap(history().events, {"acc_main": s.account_id, "grp_1": s.tenant.group_id}))
    reply = world.get(f"/reports/assistant?account_id={s.account_id}&{PERIOD}", s.admin_token)
    assert reply.status == 200, reply.json
    report = reply.json
    assert report["period"]["from"] == "2026-11-02" and report["account_ids"] == [s.account_id]
    assert {k: report[k] for k in TOTALS} == TOTALS
    assert report["by_cadence"] == BY_CADENCE

    overview = world.get(f"/reports/overview?kind=sales&{PERIOD}", s.admin_token).json
    [row] = overview["accounts"]
    assert row["assistant"] == {**TOTALS, "by_cadence": BY_CADENCE}
    assert overview["totals"]["assistant"] == row["assistant"]

    # Before the replies (16:15 UTC): L1 is contacted, not yet engaged; L5 is only in A (contacted).
    early = world.get(f"/reports/assistant?account_id={s.account_id}&{PERIOD}&as_of=2026-11-02T16:15:00Z",
                      s.admin_token).json
    assert {k: early[k] for k in TOTALS} == {"enrolled": 5, "contacted": 4, "engaged": 0, "engaged_pct": 0.0,
                                             "hot": 0, "appointments": 0, "opted_out": 1, "stopped_by_staff": 2}
    assert world.get(f"/reports/assistant?account_id={s.account_id}", s.agent_token).status == 403


def test_a_cadences_real_work_is_what_the_report_counts(world: World) -> None:
    s = store(world)
    queues = record_queues(world)
    world.post(f"/accounts/{s.account_id}/cadences", s.admin_token, CADENCE)
    replied = world.post(f"/accounts/{s.account_id}/leads", s.admin_token, LEAD).json["lead_id"]
    quiet = world.post(f"/accounts/{s.account_id}/leads", s.admin_token,
                       {**LEAD, "first_name": "Ana", "phone": "+13125550142"}).json["lead_id"]
    _run(world, queues)
    world.clock.advance(minutes=1)
    assert sms(world, "Yes! Can I come by at 5?", sid="SM" + "6" * 32).status == 200
    world.post(f"/leads/{quiet}/stop-messaging", s.admin_token, {})
    for lead_id, state in ((replied, ("stopped", "replied")), (quiet, ("stopped", "stopped_by_staff"))):
        enrolment = world.get(f"/leads/{lead_id}", s.admin_token).json["cadence"]
        assert (enrolment["state"], enrolment["stop_reason"]) == state
    report = world.get(f"/reports/assistant?account_id={s.account_id}", s.admin_token).json
    assert {k: report[k] for k in TOTALS} == {"enrolled": 2, "contacted": 2, "engaged": 1, "engaged_pct": 50.0,
                                              "hot": 0, "appointments": 0, "opted_out": 0, "stopped_by_staff": 1}
    assert [(r["name"], r["enrolled"]) for r in report["by_cadence"]] == [("Internet leads", 2)]
