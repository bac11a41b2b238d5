"""GET /reports/response-time/leads over moto, from the rollups and from the recomputation: the golden
history's detail rows (customer, owner, clock, first response, target), the filters matching the
response-time report's rows, cursor pages, CSV, and bad parameters named."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib.domain.leads import Lead
from chalicelib.domain.reports import csv_files
from tests.integration.reports_support import reading
from tests.integration.test_reports_api import PERIOD, Golden, golden
from tests.support import World
from tests.unit.test_reports_golden import B, M

ORDER = ["L1", "L2", "L3", "L4", "L5", "L6", "L7"]


@pytest.fixture(autouse=True, params=["rollups", "events"])
def report_source(request: pytest.FixtureRequest, world: World) -> Iterator[str]:
    """Every test here twice: reports from the rollups, and recomputed from the report events."""
    with reading(world, request.param):
        yield request.param


def _with_customers(world: World) -> Golden:
    """The golden store, with lead items for L2 and L3 (the others' leads are gone: no name)."""
    g = golden(world)
    for lead_id, first in (("L2", "Pat"), ("L3", "=cmd|' /C calc'!A0")):
        at = "2026-10-30T16:30:00.000Z"
        lead = Lead(lead_id=lead_id, account_id=g.account_id, group_id=g.tenant.group_id, first_name=first,
                    last_name="Quinn", source="Website", created_at=at, received_at=at, last_activity_at=at)
        world.deps.transactions.commit(world.deps.leads.create(lead))
    return g


def _get(world: World, g: Golden, query: str = "", **headers: str):  # type: ignore[no-untyped-def]
    return world.get(f"/reports/response-time/leads?account_id={g.account_id}&{PERIOD}{query}", g.manager_token,
                     headers=headers or None)


def test_the_golden_rows_with_their_customers_and_owners(world: World) -> None:
    g = _with_customers(world)
    reply = _get(world, g)
    assert reply.status == 200, reply.json
    page = reply.json
    assert page["period"] == {"from": "2026-10-30", "to": "2026-11-02", "as_of": "2026-11-05T00:00:00.000Z"}
    assert [r["lead_id"] for r in page["items"]] == ORDER and page["next_cursor"] is None
    rows = {r["lead_id"]: r for r in page["items"]}
    assert rows["L2"] == {
        "lead_id": "L2", "name": "Pat Quinn", "account_id": g.account_id, "source": "Website",
        "assigned_to": g.ids[M], "agent_name": "Max", "responded_by": g.ids[M],
        "received_at": "2026-10-30T16:30:00.000Z", "clock_started_at": "2026-10-30T17:00:00.000Z",
        "first_response_at": "2026-10-30T17:30:00.000Z", "first_response_kind": "call", "response_s": 1800.0,
        "within_target": True}
    assert (rows["L3"]["agent_name"], rows["L3"]["response_s"], rows["L3"]["within_target"]) == ("Bob", 1800.0, False)
    assert rows["L1"]["name"] is None                      # no lead item behind it
    assert (rows["L6"]["assigned_to"], rows["L6"]["agent_name"], rows["L6"]["within_target"]) == (None, None, None)


def test_filters_match_the_response_time_rows_and_pages_follow_the_cursor(world: World) -> None:
    g = golden(world)
    report = world.get(f"/reports/response-time?account_id={g.account_id}&{PERIOD}&group_by=agent",
                       g.manager_token).json
    for row in report["items"]:
        mine = _get(world, g, f"&agent={row['key']}").json["items"]
        assert len(mine) == row["leads"], row["key"]
        assert sum(r["response_s"] is not None for r in mine) == row["responded"]
    assert [r["lead_id"] for r in _get(world, g, f"&agent={g.ids[B]}").json["items"]] == ["L3", "L4", "L7"]
    assert [r["lead_id"] for r in _get(world, g, "&source=CarSite").json["items"]] == ["L3", "L4"]
    assert _get(world, g, "&source=Nowhere").json["items"] == []
    seen, cursor = [], ""
    for _ in range(4):
        page = _get(world, g, f"&limit=3{cursor}").json
        seen += [r["lead_id"] for r in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == ORDER


def test_every_row_as_csv(world: World) -> None:
    g = _with_customers(world)
    reply = _get(world, g, Accept="text/csv")
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/csv")
    assert 'filename="response-time-leads-2026-10-30-2026-11-02.csv"' in reply.headers["Content-Disposition"]
    rows = csv_files.read_csv(reply.body)
    assert [r["lead_id"] for r in rows] == ORDER
    by_id = {r["lead_id"]: r for r in rows}
    assert (by_id["L2"]["name"], by_id["L2"]["response_s"], by_id["L2"]["within_target"]) == ("Pat Quinn", "1800.0",
                                                                                             "true")
    assert by_id["L3"]["name"].startswith("'=")               # never runs as a formula
    assert (by_id["L6"]["within_target"], by_id["L6"]["first_response_at"]) == ("", "")


def test_bad_parameters_are_400_naming_the_field(world: World) -> None:
    g = golden(world)
    for query, field in (("&limit=0", "limit"), ("&cursor=abc", "cursor"), ("&from=soon", "from"),
                         (f"&agent={'x' * 101}", "agent")):
        reply = _get(world, g, query)
        assert reply.status == 400 and [d["field"] for d in reply.json["error"]["details"]] == [field], query
