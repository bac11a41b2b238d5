"""Report rollups under moto, fed by the table's real DynamoDB stream through the consumer:
random histories of several stores in DST-crossing timezones folded from rollups and from
the raw events (the recomputation) for random stores, periods and cutoffs; duplicate, late
and out-of-order records; a consumer dying between a ledger and its days; the live tail;
and the rebuild."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from app import app
from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.rollups import RollupRepository
from chalicelib.domain.reports import figures
from chalicelib.domain.reports.stats import parse_buckets
from chalicelib.services import reports
from chalicelib.services.report_sources import EventSource, RollupSource
from chalicelib.services.rollup_rebuild import rebuild
from leadline.local.lambda_events import LambdaContext
from tests.integration.reports_support import reading, store_events, store_scores
from tests.integration.test_reports_random import random_history
from tests.support import World

ZONES = ("America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata")
ORIGIN = datetime(2026, 10, 20, 6, tzinfo=UTC)      # London leaves summer time on 10-25, New York on 11-01
SPAN_DAYS = 14


def _group(world: World, rng: random.Random, leads_per_store: int) -> tuple[Any, list[dict[str, Any]], list[str]]:
    world.clock.set(ORIGIN + timedelta(days=SPAN_DAYS + 10))
    tenant = world.tenant(stores=0)
    accounts = [world.account(tenant, f"Store {zone}", timezone=zone) for zone in ZONES]
    agents = [world.user(tenant, f"agent{i}@acme.com", account_ids=[a["account_id"] for a in accounts])[0]["user_id"]
              for i in range(4)]
    boss = world.user(tenant, "boss@acme.com", role="manager", account_ids=[a["account_id"] for a in accounts])[0]
    events: list[dict[str, Any]] = []
    scores = []
    for n, account in enumerate(accounts):
        history, score_events = random_history(rng, account["account_id"], tenant.group_id, agents, boss["user_id"],
                                                leads_per_store, origin=ORIGIN, days=SPAN_DAYS, prefix=f"s{n}")
        events += history.events
        scores += score_events
    rng.shuffle(events)                  # the stream sees outcomes before their leads, late ones, ...
    rng.shuffle(scores)
    store_events(world, events)
    store_scores(world, scores)
    return tenant, accounts, agents


def _answers(world: World, accounts: list[dict[str, Any]], first: date, last: date, as_of: datetime,
             names: dict[str, str], roster: list[str]) -> dict[str, Any]:
    answers = {}
    for source in (RollupSource(), EventSource()):
        scope = reports.store_scope(world.deps, [world.deps.accounts.require(a["account_id"]) for a in accounts],
                                    first, last, as_of)
        folded = source.fold(world.deps, scope)
        people = set(roster) | set(folded.agents) | {x.owner for x in folded.leads.values() if x.owner}
        cal = reports.calendars(scope)
        stores = [{"account_id": a["account_id"], "name": a["name"]} for a in accounts]
        answers[type(source).__name__] = {
            "leads": folded.leads, "agents": folded.agents, "requests": folded.requests,
            "dashboard": figures.dashboard(folded, source.scores(world.deps, scope, folded, people), names, roster),
            "response": [figures.response_time(folded, g, parse_buckets("0-0.5,0.5-2,2-30"), cal, names)
                         for g in figures.GROUP_BYS],
            "sources": figures.lead_sources(folded),
            "overview": figures.overview(folded, stores, cal, "sales"),
        }
    return answers


def test_rollups_equal_the_recomputation_for_random_stores_periods_and_timezones(world: World) -> None:
    rng = random.Random(20261126)
    _tenant, accounts, agents = _group(world, rng, leads_per_store=30)
    names = {u.user_id: u.name for u in world.deps.users.list_for_group(_tenant.group_id)}
    world.settle()
    # a third of the records again, shuffled: a redelivery changes nothing
    days_before = _day_items(world, accounts)
    assert world.pump is not None
    again = rng.sample(world.pump.delivered, len(world.pump.delivered) // 3)
    world.pump.replay(again)
    assert _day_items(world, accounts) == days_before
    compared = 0
    for trial in range(5):
        stores = rng.sample(accounts, rng.randrange(1, 4))
        first = ORIGIN.date() + timedelta(days=rng.randrange(-1, SPAN_DAYS))
        last = first + timedelta(days=rng.randrange(0, SPAN_DAYS - 3))
        as_of = ORIGIN + timedelta(days=rng.randrange(1, SPAN_DAYS + 8), seconds=rng.randrange(86400))
        got = _answers(world, stores, first, last, as_of, names, agents)
        assert got["RollupSource"] == got["EventSource"], (trial, [s["timezone"] for s in stores], first, last, as_of)
        compared += len(got["RollupSource"]["leads"])
    assert compared > 50


def _day_items(world: World, accounts: list[dict[str, Any]]) -> dict[str, Any]:
    found = {}
    for account in accounts:
        for item in world.deps.table.query(keys.rollup_pk(account["account_id"])):
            found[item["SK"] + account["account_id"]] = (item["version"], bytes(item["entries"].value))
    return found


# -- the consumer's failures and races ---------------------------------------------------------

def _golden_events(world: World) -> tuple[Any, str]:
    """The golden history's events written (not yet applied), with the store's id."""
    from tests.integration.test_reports_api import golden

    g = golden(world)
    return g, g.account_id


def _dashboard(world: World, account_id: str, first: str = "2026-10-30", last: str = "2026-11-02") -> Any:
    scope = reports.store_scope(world.deps, [world.deps.accounts.require(account_id)], date.fromisoformat(first),
                                date.fromisoformat(last))
    return reports.dashboard(world.deps, scope)


def test_a_consumer_dying_between_a_ledger_and_its_day_is_healed_by_the_retry(world: World,
                                                                               monkeypatch: Any) -> None:
    pump, world.pump = world.pump, None       # the golden history is written but not applied
    g, account_id = _golden_events(world)
    with reading(world, "events"):
        expected = _dashboard(world, account_id)
    real = RollupRepository.save_day
    failures = {"left": 3}

    def dying(self: RollupRepository, rollup: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("the Lambda timed out")
        real(self, rollup)

    monkeypatch.setattr(RollupRepository, "save_day", dying)
    world.pump = pump
    world.settle()
    assert failures["left"] == 0                    # it did fail, and the stream retried those records
    assert _dashboard(world, account_id) == expected
    assert g.account_id == account_id


def test_two_consumers_racing_on_a_lead_keep_both_facts(world: World, monkeypatch: Any) -> None:
    from chalicelib.services.rollups import apply_items

    world.clock.set("2026-11-05T00:00:00Z")
    tenant = world.tenant()
    account_id = tenant.accounts[0]["account_id"]
    base = {"account_id": account_id, "group_id": tenant.group_id, "lead_id": "L1", "type": "report_event"}
    received = {**base, "event_id": "rev_1", "kind": "lead_received", "at": "2026-11-02T15:00:00.000Z",
                "data": {"source": "Website", "has_email": True, "has_phone": True}}
    offer = {**base, "event_id": "rev_2", "kind": "offer_made", "at": "2026-11-02T15:00:01.000Z", "user_id": "usr_a",
             "data": {"offer_id": "o", "catchall": False}}
    accept = {**base, "event_id": "rev_3", "kind": "offer_accepted", "at": "2026-11-02T15:01:00.000Z",
              "user_id": "usr_a", "data": {"offer_id": "o", "catchall": False}}
    apply_items(world.deps, [received])
    real = RollupRepository.save_together
    raced = {"done": False}

    def racing(self: RollupRepository, ledgers: Any, days: Any) -> None:
        if not raced["done"]:       # another consumer saves the same lead first
            raced["done"] = True
            apply_items(world.deps, [offer])
        real(self, ledgers, days)

    monkeypatch.setattr(RollupRepository, "save_together", racing)
    applied = apply_items(world.deps, [accept])
    assert not applied.failed_leads and raced["done"]
    ledger = RollupRepository(world.deps.table).ledger("L1")
    assert ledger is not None and [f[1] for f in ledger.facts] == ["rev_1", "rev_2", "rev_3"]
    day = RollupRepository(world.deps.table).day(account_id, "2026-11-02")
    assert day.entries["L1"][0] == ledger.version
    summary = day.entries["L1"][1].summary
    assert summary is not None and [code for _o, code, _u, _x in summary.facts] == ["o", "a"]


# -- the live tail -------------------------------------------------------------------------------

def test_the_live_tail_counts_what_the_stream_has_not_applied_yet(world: World, monkeypatch: Any) -> None:
    from tests.unit.reports_history import History

    world.clock.set("2026-11-04T20:00:00Z")
    tenant = world.tenant()
    account_id = tenant.accounts[0]["account_id"]
    ann, _ = world.user(tenant, "ann@acme.com")
    h = History(account_id=account_id, group_id=tenant.group_id)
    h.lead("old", "2026-11-04T15:00:00Z")
    h.offer("old", "2026-11-04T15:00:00Z", ann["user_id"], "accepted", "2026-11-04T15:02:00Z")
    store_events(world, h.events)               # applied
    pump, world.pump = world.pump, None
    h.events.clear()
    h.lead("new", "2026-11-04T19:59:00Z")        # within the tail: written, not applied
    h.offer("new", "2026-11-04T19:59:10Z", ann["user_id"], "accepted", "2026-11-04T19:59:30Z")
    h.add("feedback", "2026-11-04T19:59:40Z", "old", ann["user_id"], contact_status="contacted", comment_chars=0)
    store_events(world, h.events)
    store_scores(world, [_score(ann["user_id"], account_id, "2026-11-04T19:59:30.000Z", "new", "accept", 1),
                         _score(ann["user_id"], account_id, "2026-11-04T19:59:40.000Z", "old", "feedback_status", 2)])
    with reading(world, "events"):
        expected = _dashboard(world, account_id, "2026-11-04", "2026-11-04")
    live = _dashboard(world, account_id, "2026-11-04", "2026-11-04")
    assert (live["leads"], live["accepted"]) == (2, 2)
    assert live == expected
    # The overview shows no scores: its fold leaves out the tail's score Queries, same figures.
    scope = reports.store_scope(world.deps, [world.deps.accounts.require(account_id)], date(2026, 11, 4),
                                date(2026, 11, 4))
    stores = [{"account_id": account_id, "name": "Store"}]
    with reading(world, "events"):
        from_events = figures.overview(reports.fold_scope(world.deps, scope), stores, reports.calendars(scope), "sales")
    asked: list[str] = []
    score_items = world.deps.report_records.score_items
    monkeypatch.setattr(world.deps.report_records, "score_items",
                        lambda user_id, *rest: asked.append(user_id) or score_items(user_id, *rest))
    overview = figures.overview(reports.fold_scope(world.deps, scope, scores=False), stores,
                                reports.calendars(scope), "sales")
    assert overview == from_events and overview["totals"]["leads"] == 2 and asked == []
    reports.fold_scope(world.deps, scope)
    assert asked == [ann["user_id"]]  # with scores, the tail's scored user is read
    world.settle()                               # still nothing applied: the pump is off
    world.pump = pump
    world.settle()
    assert _dashboard(world, account_id, "2026-11-04", "2026-11-04") == live
    rows = {r["user_id"]: r for r in live["agents"]}
    assert rows[ann["user_id"]]["score"] == 100 + 2 + 1 and rows[ann["user_id"]]["contacted"] == 1


def _score(user_id: str, account_id: str, at: str, lead_id: str, reason: str, n: int) -> Any:
    from chalicelib.domain.scoring import POINTS, ScoreEvent

    return ScoreEvent(event_id=f"scr_tail_{n}", user_id=user_id, account_id=account_id, lead_id=lead_id, at=at,
                      reason=reason, points=POINTS[reason])  # type: ignore[arg-type]


# -- the rebuild ---------------------------------------------------------------------------------

def test_rebuild_restores_a_damaged_rollup_and_running_it_again_changes_nothing(world: World) -> None:
    g, account_id = _golden_events(world)
    world.settle()
    expected = _dashboard(world, account_id)
    table = world.deps.table
    # damage: a day lost, a ledger lost, a stranger's entry on another day
    table.delete(keys.rollup_day_key(account_id, "2026-10-30"))
    table.delete(keys.report_ledger_key("L3"))
    repo = RollupRepository(table)
    day = repo.day(account_id, "2026-11-02")
    ghost = next(iter(day.entries.values()))
    day.entries["ghost"] = ghost
    repo.save_day(day)
    assert _dashboard(world, account_id) != expected
    done = rebuild(world.deps, account_id, date(2026, 10, 29))
    assert done.failed_leads == [] and done.stale_entries_dropped == 1 and done.ledgers_changed == 1
    assert _dashboard(world, account_id) == expected
    again = rebuild(world.deps, account_id, date(2026, 10, 29))
    assert (again.ledgers_changed, again.days_written, again.stale_entries_dropped) == (0, 0, 0)
    assert _dashboard(world, account_id) == expected
    assert g.account_id == account_id


def test_rebuild_from_the_cli(world: World, monkeypatch: Any, capsys: Any) -> None:
    from leadline import cli

    _g, account_id = _golden_events(world)
    world.settle()
    monkeypatch.setattr(cli, "connect_to_stack", lambda: world.deps)
    assert cli.main(["report", "rebuild", "--account", account_id, "--from", "2026-10-29"]) == 0
    out = capsys.readouterr().out
    assert f"{account_id}: 10 leads" in out
    assert cli.main(["report", "rebuild", "--account", "acc_nope", "--from", "2026-10-29"]) == 1
    assert cli.main(["report", "rebuild", "--account", account_id, "--from", "2099-01-01"]) == 1


def test_streams_that_are_not_report_items_are_ignored(world: World) -> None:
    handler = app.handler_map["report_rollups"]
    record = {"eventID": "1", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
              "awsRegion": "us-east-1", "eventSourceARN": "arn:aws:dynamodb:us-east-1:1:table/t/stream/x",
              "dynamodb": {"ApproximateCreationDateTime": 1, "SequenceNumber": "1", "SizeBytes": 1,
                           "StreamViewType": "NEW_IMAGE", "Keys": {"PK": {"S": "LEAD#x"}, "SK": {"S": "LEAD"}},
                           "NewImage": {"PK": {"S": "LEAD#x"}, "SK": {"S": "LEAD"}, "type": {"S": "lead"}}}}
    context = LambdaContext("leadline-test-report_rollups", 60, "us-east-1")
    assert handler({"Records": [record]}, context) == {"batchItemFailures": []}
