"""The /reports routes over moto: the golden history written through the lead repository,
permissions, parameter validation, CSV, overview sums, internet response, stale leads."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib.adapters.dynamodb.leads import LeadRepository
from chalicelib.domain.leads import Lead
from chalicelib.domain.reports import csv_files
from chalicelib.domain.reports.ledger import from_ms
from tests.integration.reports_support import reading, remap, score, store_events, store_scores
from tests.support import Tenant, World
from tests.unit.reports_history import History
from tests.unit.test_reports_golden import MAIN_HOURS, A, B, C, M, main_history, main_scores

PERIOD = "from=2026-10-30&to=2026-11-02"


@pytest.fixture(autouse=True, params=["rollups", "events"])
def report_source(request: pytest.FixtureRequest, world: World) -> Iterator[str]:
    """Every test here twice: reports from the rollups, and recomputed from the report events."""
    with reading(world, request.param):
        yield request.param


@dataclass
class Golden:
    tenant: Tenant
    account_id: str
    ids: dict[str, str]
    manager_token: str
    agent_token: str


def golden(world: World) -> Golden:
    """The golden store of tests/unit/test_reports_golden.py, with real users and ids."""
    world.clock.set("2026-11-05T00:00:00Z")
    tenant = world.tenant(hours=MAIN_HOURS)
    account_id = tenant.accounts[0]["account_id"]
    world.patch(f"/accounts/{account_id}", tenant.token, {"holidays": ["2026-11-26"]})
    ann, ann_token = world.user(tenant, "ann@acme.com")
    bob, _ = world.user(tenant, "bob@acme.com")
    cat, _ = world.user(tenant, "cat@acme.com")
    max_, max_token = world.user(tenant, "max@acme.com", role="manager")
    ids = {"acc_main": account_id, "grp_1": tenant.group_id, A: ann["user_id"], B: bob["user_id"],
           C: cat["user_id"], M: max_["user_id"]}
    store_events(world, remap(main_history().events, ids))
    store_scores(world, [score(ids[e.user_id], account_id, from_ms(e.at), e.points, n)
                         for n, e in enumerate(main_scores())])
    return Golden(tenant, account_id, ids, max_token, ann_token)


def test_dashboard_of_the_golden_history(world: World) -> None:
    g = golden(world)
    reply = world.get(f"/reports/dashboard?account_id={g.account_id}&{PERIOD}", g.manager_token)
    assert reply.status == 200, reply.json
    report = reply.json
    assert report["period"] == {"from": "2026-10-30", "to": "2026-11-02", "as_of": "2026-11-05T00:00:00.000Z"}
    assert (report["leads"], report["accepted"], report["acceptance_rate"]) == (7, 6, 0.8571)
    assert (report["catchall_accepted"], report["catchall_acceptance_rate"], report["delinquent"]) == (1, 0.1429, 1)
    assert report["time_to_accept"] == {"median_s": 600.0, "mean_s": 22550.0}
    rows = {r["name"]: r for r in report["agents"]}
    assert sorted(rows) == ["Ann", "Bob", "Cat", "Max"]
    # scores come from the ledger written under USER#... (see the golden test for the sums)
    assert {n: r["score"] for n, r in rows.items()} == {"Ann": 103, "Bob": 103, "Cat": 100, "Max": 100}
    assert (rows["Ann"]["offered"], rows["Ann"]["accepted"], rows["Ann"]["closed_won"]) == (5, 2, 1)
    assert (rows["Bob"]["assigned"], rows["Bob"]["owned"], rows["Bob"]["in_progress"]) == (1, 3, 1)
    # the follow-through beside the score: the store's business hours run the response clock
    assert {n: (r["first_response_median_s"], r["targets_met"], r["targets_missed"]) for n, r in rows.items()} == {
        "Ann": (1200.0, 1, 1), "Bob": (1800.0, 1, 3), "Cat": (None, 0, 0), "Max": (1800.0, 1, 0)}
    assert (report["targets_met"], report["targets_missed"], report["targets_met_pct"]) == (3, 4, 42.9)


def test_dashboard_as_csv(world: World) -> None:
    g = golden(world)
    reply = world.get(f"/reports/dashboard?account_id={g.account_id}&{PERIOD}", g.manager_token,
                      headers={"Accept": "text/csv"})
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in reply.headers["Content-Disposition"]
    assert reply.body.startswith(b"\xef\xbb\xbf")
    rows = csv_files.read_csv(reply.body)
    assert [r["name"] for r in rows] == ["Ann", "Bob", "Cat", "Max", "TOTAL"]
    assert all(r["from"] == "2026-10-30" and r["to"] == "2026-11-02" for r in rows)
    total = rows[-1]
    # 5 + 4 + 0 + 2 offers; owned 2 + 3 + 0 + 1; 3 comments over 6 owned leads
    assert (total["offered"], total["owned"], total["avg_comments_per_lead"]) == ("11", "6", "0.5")
    assert [(r["first_response_median_s"], r["targets_met"], r["targets_missed"]) for r in rows] == [
        ("1200.0", "1", "1"), ("1800.0", "1", "3"), ("", "0", "0"), ("1800.0", "1", "0"), ("", "3", "4")]


def test_response_time_and_lead_sources(world: World) -> None:
    g = golden(world)
    reply = world.get(f"/reports/response-time?account_id={g.account_id}&{PERIOD}&group_by=agent&buckets=0-1,1-6,6-24",
                      g.manager_token)
    assert reply.status == 200, reply.json
    totals = reply.json["totals"]
    assert (totals["leads"], totals["responded"], totals["mean_s"], totals["median_s"]) == (7, 5, 19080.0, 1800.0)
    labels = [r["label"] for r in reply.json["items"]]
    assert labels == ["Ann", "Bob", "Max", "unassigned"]
    by_account = world.get(f"/reports/response-time?account_id={g.account_id}&{PERIOD}&group_by=account",
                           g.manager_token).json
    assert [(r["label"], r["leads"]) for r in by_account["items"]] == [("Acme Auto Store 1", 7)]
    sources = world.get(f"/reports/lead-sources?account_id={g.account_id}&{PERIOD}", g.manager_token).json
    assert sources["totals"]["leads"] == 8 and sources["totals"]["duplicates"] == 1
    assert [r["source"] for r in sources["items"]] == ["Website", "CarSite", "Referral"]


def test_managers_and_up_only_and_other_tenants_see_nothing(world: World) -> None:
    g = golden(world)
    other = world.tenant("Other Motors", "boss@othermotors.com")
    for path in ("dashboard", "response-time", "response-time/leads", "lead-sources", "overview",
                 "internet-response", "stale", "files", "assistant"):
        assert world.get(f"/reports/{path}", g.agent_token).status == 403, path
        assert world.get(f"/reports/{path}?account_id={g.account_id}", other.token).status == 404, path
        assert world.get(f"/reports/{path}?account_id=acc_nope", g.manager_token).status == 404, path
        assert world.get(f"/reports/{path}").status == 401, path
    # the other group's own dashboard is empty, not ours
    assert world.get("/reports/dashboard", other.token).json["leads"] == 0


def _bad_field(reply: Any) -> list[str]:
    assert reply.status == 400, (reply.status, reply.json)
    return [d["field"] for d in reply.json["error"]["details"]]


def test_bad_parameters_are_400_naming_the_field(world: World) -> None:
    g = golden(world)
    token, base = g.manager_token, f"account_id={g.account_id}"
    assert _bad_field(world.get(f"/reports/dashboard?{base}&from=yesterday", token)) == ["from"]
    assert _bad_field(world.get(f"/reports/dashboard?{base}&to=2026-13-01", token)) == ["to"]
    assert _bad_field(world.get(f"/reports/dashboard?{base}&from=2026-11-02&to=2026-11-01", token)) == ["from"]
    assert _bad_field(world.get(f"/reports/dashboard?{base}&from=2024-01-01&to=2026-11-01", token)) == ["from"]
    assert _bad_field(world.get(f"/reports/dashboard?{base}&as_of=2026-11-01T00:00:00", token)) == ["as_of"]
    assert _bad_field(world.get(f"/reports/dashboard?{base}&from=0001-01-01&to=9999-12-31", token)) == ["from", "to"]
    assert _bad_field(world.get(f"/reports/dashboard?{base}&as_of=0001-01-01T00:00:00Z", token)) == ["as_of"]
    assert _bad_field(world.get("/reports/files?date=9999-12-31", token)) == ["date"]
    for buckets in ("0-1,1-6,6-24,24-48,48-72,72-96", "6-1", "0-1,0-2", "x"):
        assert _bad_field(world.get(f"/reports/response-time?{base}&buckets={buckets}", token)) == ["buckets"]
    assert _bad_field(world.get(f"/reports/response-time?{base}&group_by=team", token)) == ["group_by"]
    assert _bad_field(world.get("/reports/overview?kind=parts", token)) == ["kind"]
    assert _bad_field(world.get("/reports/stale?hours=-1", token)) == ["hours"]
    assert _bad_field(world.get("/reports/stale?hours=soon", token)) == ["hours"]
    assert _bad_field(world.get("/reports/files?date=today", token)) == ["date"]
    assert _bad_field(world.get("/reports/stale?cursor=abc", token)) == ["cursor"]


def test_default_period_is_the_last_30_days_in_the_store_timezone(world: World) -> None:
    # 2026-11-02 03:00Z is still 2026-11-01 in New York (EST, UTC-5)
    world.clock.set("2026-11-02T03:00:00Z")
    tenant = world.tenant()
    account_id = tenant.accounts[0]["account_id"]
    h = History(account_id=account_id, group_id=tenant.group_id)
    h.lead("in-first-day", "2026-10-03T04:00:00Z")   # 10-03 00:00 EDT: the first instant of the period
    h.lead("before", "2026-10-03T03:59:59Z")          # 10-02 23:59:59 EDT: outside
    h.lead("today", "2026-11-02T02:00:00Z")           # 11-01 21:00 EST: inside
    store_events(world, h.events)
    report = world.get(f"/reports/dashboard?account_id={account_id}", tenant.token).json
    assert report["period"]["from"] == "2026-10-03" and report["period"]["to"] == "2026-11-01"
    assert report["leads"] == 2


def test_lead_sources_and_overview_across_the_group(world: World) -> None:
    world.clock.set("2026-11-05T00:00:00Z")
    tenant = world.tenant(stores=2)
    service_store = world.account(tenant, "Service Lane", kind="service")
    first, second = (a["account_id"] for a in tenant.accounts[:2])
    h = History(group_id=tenant.group_id)
    for n, (account_id, source) in enumerate([(first, "Website"), (first, "CarSite"), (second, "Website"),
                                              (second, "Website"), (service_store["account_id"], "Website")]):
        h.lead(f"L{n}", f"2026-11-02T15:0{n}:00Z", source, account_id=account_id)
    h.add("offer_made", "2026-11-02T15:10:00Z", "L2", "usr_x", account_id=second, offer_id="o", catchall=False)
    h.add("offer_accepted", "2026-11-02T15:12:00Z", "L2", "usr_x", account_id=second, offer_id="o", catchall=False)
    h.respond("L0", "2026-11-02T16:00:00Z", "usr_x")
    h.events[-1]["account_id"] = first
    store_events(world, h.events)
    sources = world.get(f"/reports/lead-sources?{PERIOD}", tenant.token).json
    # every store the caller sees, the service store included, when no store is named
    assert {r["source"]: r["leads"] for r in sources["items"]} == {"Website": 4, "CarSite": 1}
    overview = world.get(f"/reports/overview?kind=sales&{PERIOD}", tenant.token).json
    assert {a["account_id"] for a in overview["accounts"]} == {first, second}
    for name in ("leads", "requests", "accepted", "responded", "delinquent", "sold"):
        assert overview["totals"][name] == sum(a[name] for a in overview["accounts"]), name
    assert overview["totals"]["leads"] == 4 and overview["totals"]["accepted"] == 1
    assert overview["totals"]["acceptance_rate"] == 0.25
    service = world.get(f"/reports/overview?kind=service&{PERIOD}", tenant.token).json
    assert [a["name"] for a in service["accounts"]] == ["Service Lane"] and service["totals"]["leads"] == 1


def test_internet_response_counts_the_last_12_hours(world: World) -> None:
    world.clock.set("2026-11-04T20:00:00Z")      # Wed 15:00 EST; the store is open 09:00-18:00 every day
    tenant = world.tenant()
    account_id = tenant.accounts[0]["account_id"]
    h = History(account_id=account_id, group_id=tenant.group_id)
    h.lead("old", "2026-11-04T07:59:00Z")            # 12 h 1 min ago: outside
    h.lead("night", "2026-11-04T09:00:00Z")          # 04:00 EST, closed: clock starts 09:00 EST (14:00Z)
    h.respond("night", "2026-11-04T14:30:00Z", "usr_a")   # 1800 s
    h.lead("day", "2026-11-04T15:00:00Z")            # 10:00 EST, open
    h.respond("day", "2026-11-04T15:10:00Z", "usr_a")     # 600 s
    h.respond("day", "2026-11-04T15:00:01Z", None, automated=True)
    h.lead("waiting", "2026-11-04T19:00:00Z")        # not answered yet
    store_events(world, h.events)
    reply = world.get(f"/reports/internet-response?account_id={account_id}", tenant.token)
    assert reply.status == 200
    assert {k: reply.json[k] for k in ("leads", "responded_12h", "mean_s")} == {
        "leads": 3, "responded_12h": 2, "mean_s": 1200.0}


def _awaiting_lead(world: World, tenant: Tenant, account_id: str, name: str, since: str,
                   assigned_to: str | None) -> Lead:
    lead = Lead(lead_id=f"lead_{name}", account_id=account_id, group_id=tenant.group_id, first_name=name,
                source="Website", created_at=since, received_at=since, last_activity_at=since, awaiting_since=since,
                assigned_to=assigned_to, routing_state="accepted" if assigned_to else "routing")
    repo = LeadRepository(world.deps.table)
    world.deps.transactions.commit(repo.create(lead))
    return lead


def test_stale_leads_longest_waiting_first_with_their_agent(world: World) -> None:
    world.clock.set("2026-11-04T20:00:00Z")
    tenant = world.tenant(stores=2)
    first, second = (a["account_id"] for a in tenant.accounts)
    ann, _ = world.user(tenant, "ann@acme.com", account_ids=[first, second])
    manager, manager_token = world.user(tenant, "max@acme.com", role="manager", account_ids=[first])
    _awaiting_lead(world, tenant, first, "Ada", "2026-11-04T10:00:00.000Z", ann["user_id"])     # 10 h
    _awaiting_lead(world, tenant, second, "Bea", "2026-11-04T08:00:00.000Z", ann["user_id"])    # 12 h
    _awaiting_lead(world, tenant, first, "Cy", "2026-11-04T12:00:00.000Z", None)                # 8 h
    _awaiting_lead(world, tenant, first, "Dot", "2026-11-04T18:30:00.000Z", None)               # 1.5 h
    reply = world.get("/reports/stale?hours=2", tenant.token)
    assert reply.status == 200
    items = reply.json["items"]
    assert [i["name"] for i in items] == ["Bea", "Ada", "Cy"]
    assert items[0]["waiting_s"] == 12 * 3600 and items[0]["agent_name"] == "Ann"
    assert items[2]["assigned_to"] is None
    # paging across stores keeps the order
    page1 = world.get("/reports/stale?hours=2&limit=2", tenant.token).json
    page2 = world.get(f"/reports/stale?hours=2&limit=2&cursor={page1['next_cursor']}", tenant.token).json
    assert [i["name"] for i in page1["items"] + page2["items"]] == ["Bea", "Ada", "Cy"]
    assert page2["next_cursor"] is None
    # a manager of the first store sees only its leads
    assert [i["name"] for i in world.get("/reports/stale?hours=2", manager_token).json["items"]] == ["Ada", "Cy"]
    assert world.get(f"/reports/stale?hours=2&account_id={second}", manager_token).status == 404
    assert manager["role"] == "manager"
