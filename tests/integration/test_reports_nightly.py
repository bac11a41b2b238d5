"""Nightly report files: equal to the API's answers for the same day, identical when re-run,
listed with short-lived links, fanned out per store through the reports queue."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from chalicelib.adapters.aws import client
from chalicelib.domain.reports import csv_files
from chalicelib.services.nightly import run_nightly
from tests.integration.reports_support import reading
from tests.integration.test_reports_api import golden
from tests.support import World

DAY = date(2026, 10, 30)
# the end of Fri 2026-10-30 in New York (EDT): the night's snapshot time
DAY_END = "2026-10-31T04:00:00.000Z"


@pytest.fixture(autouse=True, params=["rollups", "events"])
def report_source(request: pytest.FixtureRequest, world: World) -> Iterator[str]:
    """Every test here twice: reports from the rollups, and recomputed from the report events."""
    with reading(world, request.param):
        yield request.param


def _files(world: World, keys: list[str]) -> dict[str, bytes]:
    return {k.rsplit("/", 1)[1]: world.deps.reports_store.get(k) for k in keys}


def test_nightly_files_equal_the_api_answers_for_that_day(world: World) -> None:
    g = golden(world)
    keys = run_nightly(world.deps, DAY, [g.account_id])
    prefix = f"reports/{g.tenant.group_id}/{g.account_id}/2026/10/30/"
    assert sorted(keys) == sorted(prefix + n for n in ("dashboard.csv", "agents.csv", "response-time.csv",
                                                       "response-time-leads.csv", "lead-sources.csv",
                                                       "manifest.json"))
    files = _files(world, keys)
    manifest = json.loads(files["manifest.json"])
    assert manifest["as_of"] == DAY_END and manifest["date"] == "2026-10-30"
    query = f"account_id={g.account_id}&from=2026-10-30&to=2026-10-30&as_of={DAY_END}"
    token = g.manager_token
    dashboard = world.get(f"/reports/dashboard?{query}", token).json
    response = world.get(f"/reports/response-time?{query}", token).json
    sources = world.get(f"/reports/lead-sources?{query}", token).json
    assert manifest["reports"] == {"dashboard": dashboard, "response_time": response, "lead_sources": sources}
    # Friday: L1, L2, L3 arrived; by midnight L1 and L2 were accepted (L3 only on Saturday)
    assert (dashboard["leads"], dashboard["accepted"]) == (3, 2)
    # the agents CSV is byte for byte the API's CSV of the same day
    csv_reply = world.get(f"/reports/dashboard?{query}", token, headers={"Accept": "text/csv"})
    assert files["agents.csv"] == csv_reply.body
    # and the response-time detail is the API's CSV of the same day
    leads_reply = world.get(f"/reports/response-time/leads?{query}", token, headers={"Accept": "text/csv"})
    assert files["response-time-leads.csv"] == leads_reply.body
    assert [r["lead_id"] for r in csv_files.read_csv(leads_reply.body)] == ["L1", "L2", "L3"]
    # the other CSVs carry the same figures
    board = csv_files.read_csv(files["dashboard.csv"])
    assert board == [{"from": "2026-10-30", "to": "2026-10-30", "leads": "3", "accepted": "2",
                      "acceptance_rate": str(dashboard["acceptance_rate"]), "catchall_accepted": "1",
                      "catchall_acceptance_rate": str(dashboard["catchall_acceptance_rate"]), "delinquent": "0",
                      "time_to_accept_median_s": str(dashboard["time_to_accept"]["median_s"]),
                      "time_to_accept_mean_s": str(dashboard["time_to_accept"]["mean_s"]),
                      # Friday's deadlines: L1's and L2's met (L3's was decided on Saturday)
                      "targets_met": "2", "targets_missed": "0", "targets_met_pct": "100.0"}]
    rt_rows = csv_files.read_csv(files["response-time.csv"])
    assert [r["key"] for r in rt_rows] == [r["key"] for r in response["items"]] + ["TOTAL"]
    assert [r["leads"] for r in rt_rows] == [str(r["leads"]) for r in response["items"]] + \
        [str(response["totals"]["leads"])]
    assert rt_rows[-1]["0-1h"] == str(response["totals"]["buckets"][0]["count"])
    src_rows = csv_files.read_csv(files["lead-sources.csv"])
    assert [(r["source"], r["leads"]) for r in src_rows] == \
        [(r["source"], str(r["leads"])) for r in sources["items"]] + [("TOTAL", str(sources["totals"]["leads"]))]
    # the manifest lists every CSV with its size and checksum
    assert {f["name"]: f["bytes"] for f in manifest["files"]} == {n: len(b) for n, b in files.items()
                                                                   if n != "manifest.json"}


def test_at_the_end_of_the_day_the_api_answers_what_the_night_wrote(world: World) -> None:
    g = golden(world)
    world.clock.set(DAY_END)
    files = _files(world, run_nightly(world.deps, DAY, [g.account_id]))
    query = f"account_id={g.account_id}&from=2026-10-30&to=2026-10-30"
    assert json.loads(files["manifest.json"])["reports"]["dashboard"] == \
        world.get(f"/reports/dashboard?{query}", g.manager_token).json


def test_rerunning_a_night_replaces_its_files_with_identical_content(world: World) -> None:
    g = golden(world)
    first = _files(world, run_nightly(world.deps, DAY, [g.account_id]))
    world.clock.advance(days=3)   # later outcomes exist now; the night is a snapshot at its end
    again = run_nightly(world.deps, DAY, [g.account_id])
    assert _files(world, again) == first
    assert len(world.deps.reports_store.list(f"reports/{g.tenant.group_id}/{g.account_id}/")) == 6


def test_every_store_when_none_is_named(world: World) -> None:
    g = golden(world)
    second = world.account(g.tenant, "Second Store", timezone="America/Los_Angeles")
    keys = run_nightly(world.deps, DAY)
    assert {k.split("/")[2] for k in keys} == {g.account_id, second["account_id"]}
    assert len(keys) == 12


def test_files_are_listed_with_links_that_expire_within_15_minutes(world: World) -> None:
    g = golden(world)
    keys = run_nightly(world.deps, DAY, [g.account_id])
    world.clock.set("2026-10-31T16:00:00Z")     # "yesterday" in New York is 10-30
    reply = world.get("/reports/files", g.manager_token)
    assert reply.status == 200, reply.json
    items = reply.json["items"]
    assert sorted(i["key"] for i in items) == sorted(keys)
    for item in items:
        query = parse_qs(urlparse(item["url"]).query)
        if "X-Amz-Expires" in query:     # SigV4: seconds of validity
            assert int(query["X-Amz-Expires"][0]) <= 900
        else:                            # SigV2 query auth: the expiry instant, on the wall clock
            assert int(query["Expires"][0]) - time.time() <= 900
        assert item["bytes"] == len(world.deps.reports_store.get(item["key"]))
        assert item["date"] == "2026-10-30"
    assert world.get("/reports/files?date=2026-10-29", g.manager_token).json["items"] == []
    other = world.tenant("Other Motors", "boss@othermotors.com")
    assert world.get("/reports/files?date=2026-10-30", other.token).json["items"] == []


def _sqs_event(bodies: list[str]) -> dict[str, Any]:
    return {"Records": [{
        "messageId": str(uuid.uuid4()), "receiptHandle": f"rh-{i}", "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0", "SenderId": "test",
                       "ApproximateFirstReceiveTimestamp": "0"},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:leadline-reports", "awsRegion": "us-east-1",
    } for i, body in enumerate(bodies)]}


def test_the_schedule_fans_out_one_message_per_due_store_and_the_worker_writes_it(world: World) -> None:
    g = golden(world)
    west = world.account(g.tenant, "West Store", timezone="America/Los_Angeles")
    world.clock.set("2026-10-31T05:15:00Z")      # 01:15 in New York (due), 22:15 in Los Angeles (not yet)
    event = world.client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                                  resources=[], region="us-east-1")
    assert world.client.lambda_.invoke("nightly_reports_fan_out", event).payload == {"queued": 1}
    url = world.deps.queues.url("reports")
    received = client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    bodies = [m["Body"] for m in received]
    assert [json.loads(b) for b in bodies] == [{"kind": "nightly", "account_id": g.account_id, "date": "2026-10-30"}]
    # the same message twice (SQS delivers at least once) and a bad one: only the bad one fails
    sqs = _sqs_event([bodies[0], bodies[0], json.dumps({"kind": "nightly"})])
    result = world.client.lambda_.invoke("nightly_reports_worker", sqs).payload
    assert result == {"batchItemFailures": [{"itemIdentifier": sqs["Records"][2]["messageId"]}]}
    stored = world.deps.reports_store.list(f"reports/{g.tenant.group_id}/")
    assert len(stored) == 6 and all("/2026/10/30/" in f.key for f in stored)
    assert west["account_id"] not in {f.key.split("/")[2] for f in stored}
