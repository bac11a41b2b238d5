"""The pure report step at 1M events: from the rollups (what the API does) and recomputed
from the raw events (the oracle), and the recomputation's peak memory.

    .venv/bin/python bench/report_aggregation.py [--events 1000000] [--stores 4]

Builds a synthetic month of report events (plain dicts, as the repository returns them)
for a few stores, then times
- from rollups: the stores' rollup day items (zlib JSON, as stored) decoded, folded and
  turned into the dashboard, response time and lead sources — a report's whole CPU work;
- recomputed: `fold_events` over the raw events + the same figures;
and measures the recomputation's peak allocation with tracemalloc in a second, separate run
(tracemalloc slows Python down)."""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chalicelib.adapters.dynamodb.rollups import day_from_item, day_item
from chalicelib.clock import iso
from chalicelib.domain.business_hours import DEFAULT_BUSINESS_HOURS, BusinessHours
from chalicelib.domain.reports import figures
from chalicelib.domain.reports.calendar import OpeningCalendar
from chalicelib.domain.reports.fold import Fold, fold, fold_events
from chalicelib.domain.reports.ledger import ledgers_from
from chalicelib.domain.reports.periods import window
from chalicelib.domain.reports.rollup import DayRollup, store_slice
from chalicelib.domain.reports.stats import parse_buckets

TZ = "America/Chicago"
FIRST, LAST = date(2026, 10, 1), date(2026, 10, 30)


def synthetic_events(total: int, stores: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    agents = [f"usr_{i:03d}" for i in range(40)]
    sources = ["Website", "CarSite", "AutoTrader", "Referral", "Facebook", "Cars.com"]
    start = datetime(2026, 10, 1, 5, tzinfo=UTC)
    events: list[dict[str, Any]] = []
    n = 0
    lead_no = 0
    while n < total:
        lead_no += 1
        account = f"acc_{lead_no % stores}"
        lead = f"led_{lead_no:08d}"
        at = start + timedelta(seconds=rng.randrange(0, 30 * 86400))

        def add(kind: str, when: datetime, user: str | None = None, *, _account: str = account, _lead: str = lead,
                **data: Any) -> None:
            nonlocal n
            n += 1
            event = {"event_id": f"rev_{n:09d}", "account_id": _account, "kind": kind, "at": iso(when),
                     "lead_id": _lead, "data": data}
            if user:
                event["user_id"] = user
            events.append(event)

        if rng.random() < 0.1:
            add("lead_coalesced", at, None, source=rng.choice(sources), has_email=True, has_phone=rng.random() < 0.8,
                coalesced_into=lead)
            continue
        add("lead_received", at, None, source=rng.choice(sources), source_group=None, channel="web",
            has_email=rng.random() < 0.9, has_phone=rng.random() < 0.8)
        when = at
        for _ in range(rng.randrange(1, 4)):
            agent = rng.choice(agents)
            add("offer_made", when, agent, offer_id="o", catchall=False)
            when += timedelta(minutes=rng.randrange(1, 10))
            outcome = rng.choice(["offer_accepted", "offer_declined", "offer_timed_out"])
            add(outcome, when, agent, offer_id="o", catchall=False)
            if outcome == "offer_accepted":
                add("message_outbound", when, None, automated=True)
                when += timedelta(minutes=rng.randrange(1, 600))
                add("human_response", when, agent, activity="message", automated=False)
                add("message_inbound", when + timedelta(minutes=5), None)
                add("feedback", when + timedelta(hours=1), agent, contact_status="contacted", comment_chars=40)
                add("note_added", when + timedelta(hours=2), agent)
                add("status_changed", when + timedelta(hours=3), agent, to=rng.choice(["hot", "warm", "sold"]))
                break
    return events[:total]


AS_OF = "2026-12-01T00:00:00.000Z"


def _windows(stores: int) -> dict[str, Any]:
    return {f"acc_{i}": window(f"acc_{i}", TZ, FIRST, LAST) for i in range(stores)}


def _figures(folded: Fold, wins: dict[str, Any]) -> dict[str, Any]:
    hours = BusinessHours(TZ, DEFAULT_BUSINESS_HOURS, frozenset())
    cals = {a: OpeningCalendar(hours, w.start_at, w.end_at) for a, w in wins.items()}
    return {
        "dashboard": figures.dashboard(folded, [], {}),
        "response_time": figures.response_time(folded, "agent", parse_buckets(None), cals, {}),
        "lead_sources": figures.lead_sources(folded),
        "leads": len(folded.leads),
    }


def pure_step(events: list[dict[str, Any]], stores: int) -> dict[str, Any]:
    wins = _windows(stores)
    return _figures(fold_events(events, wins, AS_OF), wins)


def rollup_items(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stores' rollup day items as the consumer stores them."""
    days: dict[tuple[str, str], DayRollup] = {}
    for ledger in ledgers_from(events).values():
        for day, share in ledger.shares().items():
            days.setdefault((ledger.account_id, day), DayRollup(ledger.account_id, day)).take(ledger.lead_id, 1, share)
    return [day_item(d) for d in days.values()]


def rollup_step(items: list[dict[str, Any]], stores: int) -> dict[str, Any]:
    wins = _windows(stores)
    by_store: dict[str, list[DayRollup]] = {}
    for item in items:
        rollup = day_from_item(item)
        by_store.setdefault(rollup.account_id, []).append(rollup)
    return _figures(fold([store_slice(a, days) for a, days in by_store.items()], wins, AS_OF), wins)


def best_of_3(step: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], list[float]]:
    """The step's answer and its three run times."""
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        answer = step()
        runs.append(time.perf_counter() - started)
    return answer, runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--stores", type=int, default=4)
    args = parser.parse_args()
    built = time.perf_counter()
    events = synthetic_events(args.events, args.stores)
    built = time.perf_counter() - built

    items = rollup_items(events)
    stored = sum(len(i["entries"]) for i in items)
    from_rollups, rollup_runs = best_of_3(lambda: rollup_step(items, args.stores))
    result, runs = best_of_3(lambda: pure_step(events, args.stores))
    rollup_best, best = min(rollup_runs), min(runs)
    assert from_rollups == result, "the rollups and the recomputation disagree"

    tracemalloc.start()
    pure_step(events, args.stores)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    leads = result["leads"]
    print(f"events: {len(events):,} ({leads:,} leads of the period, {args.stores} stores), "
          f"built in {built:.1f} s")
    print(f"from rollups ({len(items)} day items, {stored / 2**20:.1f} MB stored, {stored / max(leads, 1):.0f} bytes "
          f"a lead; decode + fold + dashboard + response time + lead sources): best of 3 {rollup_best:.2f} s "
          f"= {leads / rollup_best:,.0f} leads/s (runs: {', '.join(f'{r:.2f}' for r in rollup_runs)})")
    print(f"recomputed from the events (fold_events + the same figures): best of 3 {best:.2f} s "
          f"= {len(events) / best:,.0f} events/s (runs: {', '.join(f'{r:.2f}' for r in runs)})")
    print(f"peak memory of the pure step (tracemalloc): {peak / 2**20:.1f} MiB; "
          f"process max RSS incl. the events: {rss_mb:.0f} MiB")
    print(f"BENCH report_rollup_step_s: {rollup_best:.2f} s")
    print(f"BENCH report_rollup_leads_per_s: {leads / rollup_best:.0f} leads/s")
    print(f"BENCH report_events: {len(events)} events")
    print(f"BENCH report_aggregation_s: {best:.2f} s")
    print(f"BENCH report_events_per_s: {len(events) / best:.0f} events/s")
    print(f"BENCH report_peak_mib: {peak / 2**20:.1f} MiB")
    print(f"BENCH report_process_rss_mib: {rss_mb:.0f} MiB")


if __name__ == "__main__":
    main()
