"""DynamoDB calls per Lead Manager page, and page latency under moto, with 10k leads.

    .venv/bin/python bench/lead_list.py [--leads 10000] [--stores 20] [--pages 2]

Builds one group with `--stores` stores and `--leads` leads spread over them (written with
BatchWriteItem, as the repository would store them), then pages through GET /leads:
- one store (`account_id=`) and the whole 20-store group (all-stores mode);
- unfiltered inbox, a status folder, awaiting, and a filtered search (`q`).

Calls are counted with a botocore event hook on the very client the app uses
(`chalicelib.adapters.aws.client("dynamodb")`, event `before-call.dynamodb.*`), per page,
for the service call alone and for the whole HTTP request (authentication included).
Latency is wall time per page under in-process moto: moto's Query scans its table in
Python, so the milliseconds say more about moto than about DynamoDB; the call counts are
what carries over."""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import timedelta
from typing import Any

import _support

_support.use_moto_environment()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--stores", type=int, default=20)
    parser.add_argument("--pages", type=int, default=2)
    parser.add_argument("--limit", type=int, default=50)
    args = parser.parse_args()

    from moto import mock_aws

    with mock_aws():
        run(args)


def run(args: argparse.Namespace) -> None:
    from chalice.test import Client

    from app import app
    from chalicelib.adapters.aws import client
    from chalicelib.adapters.dynamodb.leads import lead_item
    from chalicelib.adapters.dynamodb.table import serialize
    from chalicelib.clock import FixedClock, iso
    from chalicelib.config import get_settings
    from chalicelib.deps import Deps, set_deps
    from chalicelib.domain.lead_query import LeadFilters
    from chalicelib.domain.leads import Lead
    from chalicelib.ids import new_id
    from chalicelib.schemas.tenancy import CreateAccountRequest
    from chalicelib.services import accounts as account_service
    from chalicelib.services import leads as lead_service
    from chalicelib.services.auth import mint_local_token
    from chalicelib.services.users import bootstrap_group
    from leadline.provision import provision_local

    provision_local(get_settings())
    clock = FixedClock("2026-11-02T15:00:00Z")
    deps = Deps(clock=clock)
    set_deps(deps)
    boot = bootstrap_group(deps, "Bench Motors", "owner@benchmotors.com", "Owner")
    principal = boot.user.principal()
    accounts = []
    for i in range(args.stores):
        request = CreateAccountRequest.model_validate({"name": f"Store {i + 1:02d}", "timezone": "America/Chicago"})
        accounts.append(account_service.create_account(deps, principal, request))
    principal = boot.user.principal(group_stores=lambda: frozenset(a.account_id for a in accounts))

    started = time.perf_counter()
    rng = random.Random(1)
    now = clock.now()
    dynamodb = client("dynamodb")
    items = []
    for i in range(args.leads):
        account = accounts[i % len(accounts)]
        at = iso(now - timedelta(seconds=rng.randint(1, 90 * 86400)))
        lead = Lead(lead_id=new_id("lead", now), account_id=account.account_id, group_id=account.group_id,
                    first_name=rng.choice(["Ann", "Bo", "Cy", "Dee", "Eli"]), last_name=f"Family{i}",
                    phone=f"+1212{rng.randint(2000000, 9999999)}", email=f"person{i}@gmail.com",
                    source=rng.choice(["Cars.com", "AutoTrader", "Website"]),
                    status=rng.choice(["new", "hot", "warm", "cold", "follow_up", "sold", "dead"]),
                    awaiting_since=at if rng.random() < 0.4 else None,
                    created_at=at, received_at=at, last_activity_at=at)
        items.append({"PutRequest": {"Item": serialize(lead_item(lead))}})
    for start in range(0, len(items), 25):
        pending: dict[str, Any] = {deps.table.name: items[start:start + 25]}
        while pending:
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    print(f"wrote {args.leads} leads over {args.stores} stores in {time.perf_counter() - started:.1f} s")

    # DynamoDB only: a page's cost is its DynamoDB calls and the items its Queries read.
    counter = _support.CallCounter(services=("dynamodb",))
    counter.hook()
    token = mint_local_token(deps.settings.jwt_secret, boot.user.user_id, now=clock.now().timestamp())
    one_store = accounts[0].account_id
    cases = [
        ("one store, inbox", one_store, "inbox", LeadFilters()),
        ("one store, hot", one_store, "hot", LeadFilters()),
        ("one store, awaiting", one_store, "awaiting", LeadFilters()),
        ("one store, q=gmail source=Cars.com", one_store, "inbox", LeadFilters(q="gmail", source="Cars.com")),
        (f"{args.stores} stores, inbox", None, "inbox", LeadFilters()),
        (f"{args.stores} stores, hot", None, "hot", LeadFilters()),
        (f"{args.stores} stores, awaiting", None, "awaiting", LeadFilters()),
        (f"{args.stores} stores, q=gmail source=Cars.com", None, "inbox", LeadFilters(q="gmail", source="Cars.com")),
    ]
    print(f"\n{'list (page of ' + str(args.limit) + ')':<40} {'calls/page':>12} {'with auth':>10} "
          f"{'items read':>11} {'median ms':>10} {'max ms':>10}")
    figures: dict[str, tuple[float, float, float]] = {}
    with Client(app) as http:
        for label, account_id, folder, filters in cases:
            service_calls: list[int] = []
            items_read: list[int] = []
            rows_seen: list[int] = []
            timings: list[float] = []
            cursor = None
            for _ in range(args.pages):
                counter.take()
                began = time.perf_counter()
                rows, cursor = lead_service.list_leads(deps, principal, account_id, folder, filters, args.limit, cursor)
                timings.append((time.perf_counter() - began) * 1000)
                calls, scanned = counter.take_with_items_read()
                service_calls.append(sum(calls.values()))
                items_read.append(scanned)
                rows_seen.append(len(rows))
                if cursor is None:
                    break
            query = f"/leads?folder={folder}&limit={args.limit}" + (f"&account_id={account_id}" if account_id else "")
            query += "".join(f"&{k}={v}" for k, v in filters.__dict__.items() if v)
            counter.take()
            reply = http.http.get(query, headers={"Authorization": f"Bearer {token}"})
            assert reply.status_code == 200, reply.body
            http_calls = counter.take()
            per_page = statistics.mean(service_calls)
            read_per_page = statistics.mean(items_read)
            figures[label] = (per_page, statistics.median(timings), read_per_page)
            print(f"{label:<40} {per_page:>12.1f} {sum(http_calls.values()):>10} {read_per_page:>11.0f} "
                  f"{statistics.median(timings):>10.0f} {max(timings):>10.0f}   rows/page {rows_seen}; "
                  f"HTTP: { {op.removeprefix('dynamodb.'): n for op, n in http_calls.items()} }")
    print()
    slug = {f"{args.stores} stores": "group", "one store": "store"}
    for label, (calls, median_ms, read) in figures.items():
        scope, _, what = label.partition(", ")
        name = f"lead_list_{slug[scope]}_{what.split()[0].replace('=', '_')}"
        print(f"BENCH {name}_calls_per_page: {calls:.1f} calls")
        print(f"BENCH {name}_items_read_per_page: {read:.0f} items")
        print(f"BENCH {name}_ms_per_page: {median_ms:.0f} ms")


if __name__ == "__main__":
    main()
