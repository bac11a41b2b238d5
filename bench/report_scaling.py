"""Dashboard reads for 1 / 20 / 50 stores and 7 / 30 / 90 / 366 days, before and after the
report rollups, counted at the AWS endpoint.

    .venv/bin/python bench/report_scaling.py [--per-day 0.5] [--dense-per-day 30] [--quick] [--before-up-to 20]

The before path reads one Query per store and day, one after another: 50 stores' year is ~20,000
Queries (minutes under moto). It is measured for groups up to `--before-up-to` stores; a larger
group's before figures are that group's per-store Queries and items times its stores (marked `*`:
computed, not measured). The after path is always measured.

A moto server behind the counting proxy (bench/_endpoint.py) holds a 50-store group with a
year and a month of report history: leads (`--per-day` a store a day) with offers, accepts,
replies, feedback, hot/sold, appointments and their score-ledger entries, written as the
writers store them and applied to the rollups by the stream consumer's own code (in time order,
in batches of 100 records shuffled within: its calls are printed). Then
GET /reports/dashboard (the app in-process, through chalice's test client, every AWS call it
makes going through the proxy) for managers who see 1, 20 and 50 stores:

- before: the report events read directly (`report_source=events`, the recomputation the
  rollups replaced: one Query per store and UTC day from the period's start to its outcome
  horizon, and one per person for the score ledger);
- after: the rollups (one Query per store for any period, paged past 1 MB, plus the live
  tail's Query: the period ends now).

"Queries" and "items read" (DynamoDB's ScannedCount, what read capacity is billed on) are
the proxy's count; a botocore hook on the app's client splits the Queries by what they read.
A second store, dense (`--dense-per-day` leads a day for a year), shows how big a store-year
of rollup items is and how many Query pages it takes.

moto answers every Query by sorting its whole table; this bench hands moto's Query only the
items of the partition it names (same answer), so a year of 50 stores fits in minutes. The
milliseconds are moto's, not DynamoDB's; the counts are what carries over."""

from __future__ import annotations

import argparse
import inspect
import os
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import _support

_support.use_moto_environment()

from _endpoint import CountingEndpoint  # noqa: E402

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
HISTORY_DAYS = 366 + 30
STORE_COUNTS = (1, 20, 50)
PERIODS = (7, 30, 90, 366)
SOURCES = ("Website", "Cars.com", "AutoTrader", "Facebook", "Referral")
STATUSES = ("contacted", "not_contacted", "in_progress", "closed_won", "closed_lost")
# Records per consumer batch (the stream consumer's BATCH_SIZE; Lambda's default for streams).
ROLLUP_BATCH = 100
# A day item's size beside its binary attribute: keys, type, account_id, day, version, lead count.
ITEM_OVERHEAD = 140


class ByteCountingEndpoint(CountingEndpoint):
    """The lead's counting proxy, also summing the bytes of Query answers."""

    def __init__(self) -> None:
        super().__init__()
        self.query_bytes = 0

    def _record(self, name: str, data: bytes, body: bytes = b"") -> None:
        super()._record(name, data, body)
        if name == "dynamodb.Query":
            with self._lock:
                self.query_bytes += len(data)

    def take_all(self) -> tuple[Counter[str], int, int]:
        with self._lock:
            read, size = self.items_read, self.query_bytes
            self.query_bytes = 0
        return self.take(), read, size


def serve_queries_from_their_partition() -> None:
    """moto's Table.query walks and sorts every item of the table; for a table (not an index)
    Query only the named partition can match, so hand it just that partition. And keep no
    stream records."""
    from moto.dynamodb.models.table import StreamShard, Table

    local = threading.local()
    walk_all = Table.all_items
    query = Table.query

    def all_items(self: Any) -> Any:
        wanted = getattr(local, "wanted", None)
        if wanted is None:
            return walk_all(self)
        attribute, hash_key = wanted
        if attribute is None:
            return list(self.items.get(hash_key, {}).values())
        return [item for part in self.items.values() for item in part.values()
                if (value := item.attrs.get(attribute)) is not None and value == hash_key]

    signature = inspect.signature(query)

    def partition_query(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs).arguments
        conditions = bound.get("hash_key_conditions") or []
        if bound.get("index_name"):
            # an index's partition: the items whose index key attribute has the value asked for
            local.wanted = conditions[0] if len(conditions) == 1 else None
        else:
            local.wanted = (None, bound["hash_key"]) if bound.get("hash_key") is not None else None
        try:
            return query(self, *args, **kwargs)
        finally:
            local.wanted = None

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = partition_query  # type: ignore[method-assign]
    # The rollups are filled by the rebuild here, not by the stream: moto would keep a stream record
    # of every write of the history for nobody.
    StreamShard.add = lambda self, old, new: None  # type: ignore[method-assign]


class QueryPurposes:
    """A botocore hook on the app's DynamoDB client: each Query's count and ScannedCount by what it
    reads — rollup days, raw report events, score ledgers, or the group's stores and people."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.lock = threading.Lock()
        self.queries: Counter[str] = Counter()
        self.items: Counter[str] = Counter()

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.dynamodb.Query", self._before)
        client.meta.events.register("after-call.dynamodb.Query", self._after)

    @staticmethod
    def purpose(params: dict[str, Any]) -> str:
        pk = str(params.get("ExpressionAttributeValues", {}).get(":pk", {}).get("S", ""))
        if pk.startswith("ROLLUP#"):
            return "rollup"
        if pk.startswith("ACCOUNT#") and "#REPORT#" in pk:
            return "events"
        if pk.startswith("USER#"):
            return "scores"
        return "stores+people"

    def _before(self, params: dict[str, Any], **_: Any) -> None:
        self.local.purpose = self.purpose(params)

    def _after(self, parsed: dict[str, Any] | None = None, **_: Any) -> None:
        with self.lock:
            self.queries[self.local.purpose] += 1
            self.items[self.local.purpose] += int((parsed or {}).get("ScannedCount", 0))

    def take(self) -> tuple[Counter[str], Counter[str]]:
        with self.lock:
            taken = self.queries, self.items
            self.queries, self.items = Counter(), Counter()
        return taken


def progress(text: str) -> None:
    print(f"  {time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


# -- the history ----------------------------------------------------------------------------------

def history(rng: random.Random, account_id: str, group_id: str, agents: list[str], per_day: float,
            serial: list[int]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Report events and score entries of one store for HISTORY_DAYS up to an hour ago."""
    from chalicelib.clock import iso

    events: list[dict[str, Any]] = []
    scores: list[dict[str, Any]] = []
    start = NOW - timedelta(days=HISTORY_DAYS)
    count = int(per_day * HISTORY_DAYS)

    def add(kind: str, at: datetime, lead_id: str, user: str | None = None, **data: Any) -> None:
        serial[0] += 1
        event = {"event_id": f"rev_{serial[0]:09d}", "account_id": account_id, "group_id": group_id, "kind": kind,
                 "at": iso(at), "lead_id": lead_id, "data": data}
        if user:
            event["user_id"] = user
        events.append(event)

    def score(user: str, at: datetime, lead_id: str, reason: str, points: int) -> None:
        serial[0] += 1
        scores.append({"event_id": f"scr_{serial[0]:09d}", "user_id": user, "account_id": account_id,
                       "lead_id": lead_id, "at": iso(at), "reason": reason, "points": points})

    for n in range(count):
        arrival = start + timedelta(seconds=rng.randrange(0, (HISTORY_DAYS * 86400) - 3600))
        lead_id = f"lead_{account_id[-6:]}_{n:05d}"
        add("lead_received", arrival, lead_id, source=rng.choice(SOURCES), source_group=None, campaign=None,
            channel="web", has_email=rng.random() < 0.9, has_phone=rng.random() < 0.8, received_at=iso(arrival))
        t, owner = arrival, None
        for agent in rng.sample(agents, rng.randrange(1, len(agents) + 1)):
            add("offer_made", t, lead_id, agent, offer_id=f"o{n}{agent[-4:]}", catchall=False)
            t += timedelta(seconds=rng.randrange(20, 600))
            outcome = rng.choice(["accepted", "accepted", "declined", "timed_out"])
            add(f"offer_{outcome}", t, lead_id, agent, offer_id=f"o{n}{agent[-4:]}", catchall=False)
            score(agent, t, lead_id, {"accepted": "accept", "declined": "decline", "timed_out": "timeout"}[outcome],
                  {"accepted": 2, "declined": 1, "timed_out": -5}[outcome])
            if outcome == "accepted":
                owner = agent
                break
        if owner is None:
            add("lead_delinquent", t, lead_id)
            continue
        if rng.random() < 0.8:
            add("human_response", t + timedelta(seconds=rng.randrange(30, 7200)), lead_id, owner, activity="message",
                automated=False)
        if rng.random() < 0.5:
            at = t + timedelta(hours=rng.randrange(1, 72))
            add("feedback", at, lead_id, owner, contact_status=rng.choice(STATUSES), comment_chars=rng.choice([0, 40]))
            score(owner, at, lead_id, "feedback_status", 1)
        if rng.random() < 0.2:
            add("status_changed", t + timedelta(hours=2), lead_id, owner, to="hot")
        if rng.random() < 0.15:
            add("appointment_created", t + timedelta(hours=5), lead_id, owner)
    return events, scores


def write(items: list[dict[str, Any]], table_name: str) -> None:
    from chalicelib.adapters.aws import client
    from chalicelib.adapters.dynamodb.table import serialize

    dynamodb = client("dynamodb")
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": serialize(item)}} for item in items[start:start + 25]]
        pending: dict[str, Any] = {table_name: batch}
        while pending:
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def stored(table: Any, events: list[dict[str, Any]], scores: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items as the writers store them (LeadRepository.add_report / add_score)."""
    from chalicelib.adapters.dynamodb.leads import LeadRepository
    from chalicelib.domain.report_events import ReportEvent
    from chalicelib.domain.scoring import ScoreEvent

    repo = LeadRepository(table)
    return [repo.add_report(ReportEvent.model_validate(e)).op["Put"]["Item"] for e in events] + \
        [repo.add_score(ScoreEvent.model_validate(s)).op["Put"]["Item"] for s in scores]


# -- the measurement ----------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-day", type=float, default=0.5, help="leads a store a day in the 50-store group")
    parser.add_argument("--dense-per-day", type=float, default=30.0, help="leads a day of the dense store")
    parser.add_argument("--quick", action="store_true", help="20 stores, 90 days at most, a small dense store")
    parser.add_argument("--before-up-to", type=int, default=20,
                        help="measure the before path (one Query per store and day) for groups up to this many "
                             "stores; larger groups' before figures are computed from the largest measured")
    args = parser.parse_args()
    serve_queries_from_their_partition()
    endpoint = ByteCountingEndpoint()
    with endpoint:
        os.environ["AWS_ENDPOINT_URL"] = endpoint.url
        run(args, endpoint)


def run(args: argparse.Namespace, endpoint: ByteCountingEndpoint) -> None:
    from chalice.test import Client

    from app import app
    from chalicelib.adapters.aws import client
    from chalicelib.clock import FixedClock
    from chalicelib.config import get_settings
    from chalicelib.deps import Deps, set_deps
    from chalicelib.domain.tenancy import Role
    from chalicelib.schemas.tenancy import CreateAccountRequest, CreateUserRequest
    from chalicelib.services import accounts as account_service
    from chalicelib.services import users as user_service
    from chalicelib.services.auth import mint_local_token
    from chalicelib.services.rollups import apply_items
    from leadline.provision import provision

    store_counts = (1, 20) if args.quick else STORE_COUNTS
    periods = (7, 30, 90) if args.quick else PERIODS
    dense_per_day = min(args.dense_per_day, 5.0) if args.quick else args.dense_per_day
    provision(get_settings())
    clock = FixedClock(NOW)
    deps = Deps(clock=clock)
    set_deps(deps)
    began = time.perf_counter()
    boot = user_service.bootstrap_group(deps, "Scale Motors", "owner@scale-motors.com", "Owner")
    admin = boot.user.principal()
    accounts = [account_service.create_account(deps, admin, CreateAccountRequest.model_validate(
        {"name": f"Store {i + 1:02d}", "timezone": ("America/Chicago", "America/New_York", "Europe/London")[i % 3]}))
        for i in range(max(store_counts) + 1)]
    admin = boot.user.principal(group_stores=lambda: frozenset(a.account_id for a in accounts))
    grid, dense = accounts[:max(store_counts)], accounts[-1]
    agents: dict[str, list[str]] = {}
    for n, account in enumerate(accounts):
        agents[account.account_id] = [user_service.create_user(deps, admin, CreateUserRequest.model_validate(
            {"email": f"agent{n}-{k}@scale-motors.com", "name": f"Agent {n}-{k}", "role": "agent",
             "account_ids": [account.account_id]})).user_id for k in range(3)]
    managers = {count: user_service.create_user(deps, admin, CreateUserRequest.model_validate(
        {"email": f"manager{count}@scale-motors.com", "name": f"Manager {count}", "role": Role.MANAGER.value,
         "account_ids": [a.account_id for a in grid[:count]]})) for count in store_counts}

    rng = random.Random(17)
    serial = [0]
    written = applied = 0
    endpoint.take_all()
    for account in [*grid, dense]:
        per_day = dense_per_day if account is dense else args.per_day
        events, scores = history(rng, account.account_id, account.group_id, agents[account.account_id], per_day,
                                 serial)
        items = stored(deps.table, events, scores)
        write(items, deps.table.name)
        written += len(items)
        # What the stream consumer does with these records: the same apply, in batches of the stream's
        # size, in the order they were written (by time) but shuffled within each batch.
        items.sort(key=lambda item: str(item["at"]))
        for start in range(0, len(items), ROLLUP_BATCH):
            batch = items[start:start + ROLLUP_BATCH]
            rng.shuffle(batch)
            applied += apply_items(deps, batch).ledgers_changed
        progress(f"history of {account.name} written and rolled up ({written} items)")
    setup = endpoint.take()
    print(f"history: {len(grid)} stores x {args.per_day} leads a day and a dense store ({dense_per_day} a day) over "
          f"{HISTORY_DAYS} days: {written} report events and score entries written and rolled up by the consumer's "
          f"apply in batches of {ROLLUP_BATCH}, in {time.perf_counter() - began:.0f} s; the apply's calls: "
          f"{', '.join(f'{k} {v}' for k, v in setup.most_common() if k != 'dynamodb.BatchWriteItem')}")

    purposes = QueryPurposes()
    purposes.attach(client("dynamodb"))
    rows: list[Row] = []
    with Client(app) as http:
        for count in store_counts:
            token = mint_local_token(deps.settings.jwt_secret, managers[count].user_id, now=NOW.timestamp())
            for days in periods:
                for source in ("events", "rollups"):
                    if source == "events" and count > args.before_up_to:
                        continue  # computed below from the largest group measured
                    deps._settings = deps.settings.model_copy(update={"report_source": source})
                    frm = (NOW.date() - timedelta(days=days - 1)).isoformat()
                    purposes.take()
                    endpoint.take_all()
                    started = time.perf_counter()
                    reply = http.http.get(f"/reports/dashboard?from={frm}&to={NOW.date().isoformat()}",
                                          headers={"Authorization": f"Bearer {token}"})
                    took = time.perf_counter() - started
                    assert reply.status_code == 200, reply.body
                    calls, items_read, size = endpoint.take_all()
                    by_purpose, items_by_purpose = purposes.take()
                    rows.append(Row(source, count, days, calls, items_read, size, took, by_purpose,
                                    items_by_purpose))
                    progress(f"{source} {count} stores {days} days: {calls['dynamodb.Query']} Queries")
    rows = with_computed_before(rows, store_counts, periods, args.before_up_to)
    report(rows)
    dense_store(deps, dense, endpoint)


def with_computed_before(rows: list[Row], store_counts: tuple[int, ...], periods: tuple[int, ...],
                         up_to: int) -> list[Row]:
    """The before path of groups larger than `up_to` stores, computed from the largest group measured:
    it reads per store (one Query per store and day, one per person), so its report Queries and items
    scale with the stores (every store here has the same history rate); the group's stores+people
    Queries stay as measured. Marked `computed` in the table."""
    measured = [c for c in store_counts if c <= up_to]
    if not measured or len(measured) == len(store_counts):
        return rows
    base = max(measured)
    done = list(rows)
    for count in store_counts:
        if count <= up_to:
            continue
        for days in periods:
            known = next(r for r in rows if r.source == "events" and r.stores == base and r.days == days)
            scale = count / base
            queries = Counter({p: (n if p == "stores+people" else round(n * scale))
                               for p, n in known.queries_by_purpose.items()})
            items = Counter({p: (n if p == "stores+people" else round(n * scale))
                             for p, n in known.items_by_purpose.items()})
            calls = Counter(known.calls)
            calls["dynamodb.Query"] = sum(queries.values())
            done.append(Row("events", count, days, calls, sum(items.values()), round(known.wire_bytes * scale),
                            known.seconds * scale, queries, items, computed_from=base))
    order = {c: i for i, c in enumerate(store_counts)}
    return sorted(done, key=lambda r: (order[r.stores], periods.index(r.days), r.source != "events"))


@dataclass(frozen=True)
class Row:
    source: str
    stores: int
    days: int
    calls: Counter[str]        # at the endpoint
    items_read: int            # at the endpoint (ScannedCount)
    wire_bytes: int            # Query answers at the endpoint
    seconds: float
    queries_by_purpose: Counter[str]   # the hook
    items_by_purpose: Counter[str]
    computed_from: int | None = None   # the before path, scaled from a measured group of this many stores

    @property
    def report_queries(self) -> int:
        """The Queries that read report data (not the group's stores and people, read once a report)."""
        return sum(n for purpose, n in self.queries_by_purpose.items() if purpose != "stores+people")

    @property
    def report_items(self) -> int:
        return sum(n for purpose, n in self.items_by_purpose.items() if purpose != "stores+people")


def report(rows: list[Row]) -> None:
    print("\nGET /reports/dashboard, one request each. Queries and items read are the endpoint's count (every")
    print("AWS call the request made); 'report Queries' leaves out the two that read the group's stores and")
    print("people (the same for any period), split by the hook into what they read.")
    print(f"\n{'dashboard':<21} {'Queries':>8} {'report Q':>9} {'/store':>7} {'items read':>11} {'report items':>13} "
          f"{'MB':>6} {'other calls':>12} {'s (moto)':>9}  what the report Queries read")
    for r in rows:
        label = f"{'before' if r.source == 'events' else 'after'} {r.stores:>2} st {r.days:>3} d" + \
            ("*" if r.computed_from else "")
        queries = r.calls["dynamodb.Query"]
        other = sum(r.calls.values()) - queries
        split = ", ".join(f"{k} {v}" for k, v in sorted(r.queries_by_purpose.items()) if k != "stores+people")
        print(f"{label:<21} {queries:>8} {r.report_queries:>9} {r.report_queries / r.stores:>7.1f} {r.items_read:>11} "
              f"{r.report_items:>13} {r.wire_bytes / 2**20:>6.2f} {other:>12} {r.seconds:>9.2f}  {split}")
    computed = sorted({r.computed_from for r in rows if r.computed_from})
    if computed:
        print(f"* computed, not measured: the {computed[0]}-store group's before-path Queries and items per store "
              f"times the stores (see with_computed_before); its seconds scaled the same way")
    print()
    for r in rows:
        name = f"report_dashboard_{'before' if r.source == 'events' else 'after'}_{r.stores}_stores_{r.days}_days"
        print(f"BENCH {name}_queries: {r.calls['dynamodb.Query']} queries")
        print(f"BENCH {name}_report_queries_per_store: {r.report_queries / r.stores:.1f} queries")
        print(f"BENCH {name}_items_read: {r.items_read} items")


def dense_store(deps: Any, account: Any, endpoint: ByteCountingEndpoint) -> None:
    from chalicelib.adapters.dynamodb import rollups
    from chalicelib.adapters.dynamodb.rollups import RollupRepository

    last = NOW.date()
    first = last - timedelta(days=365)
    endpoint.take_all()
    year = RollupRepository(deps.table).read_days(account.account_id, first, last)
    calls, items_read, wire = endpoint.take_all()
    leads = sum(1 for d in year for _ in d.summaries())
    # What DynamoDB bills and pages by: the items' own size (the binary attribute's bytes, not
    # its base64 on the wire), names and keys included.
    stored_bytes = sum(len(rollups.day_item(d)["entries"]) + ITEM_OVERHEAD for d in year)
    print(f"\ndense store: {leads} leads in 366 days ({leads / 366:.0f} a day); its rollup for the year is "
          f"{items_read} items, {stored_bytes / 2**20:.2f} MB stored ({wire / 2**20:.2f} MB of JSON on the wire), "
          f"read in {calls['dynamodb.Query']} Query pages: {stored_bytes / max(leads, 1):.0f} bytes a lead, so "
          f"one 1 MB page holds a year of {2**20 / max(stored_bytes / max(leads, 1), 1) / 366:.0f} leads a day")
    print(f"BENCH report_rollup_dense_store_year_queries: {calls['dynamodb.Query']} queries")
    print(f"BENCH report_rollup_bytes_per_lead: {stored_bytes / max(leads, 1):.0f} bytes")
    print(f"BENCH report_rollup_dense_store_leads_per_day: {leads / 366:.0f} leads")


if __name__ == "__main__":
    main()
