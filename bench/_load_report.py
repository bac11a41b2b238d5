"""The load test's findings from what the emulator holds (bench/_load_check.py read it), and their summary:
a readable one, then `BENCH` lines. `failures(...)` names what makes `make load` exit non-zero."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from _load_check import Queue, Verdict, classify


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def seconds_between(earlier: str, later: str) -> float:
    def parse(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return (parse(later) - parse(earlier)).total_seconds()


def findings(sent: list[Any], items: list[dict[str, Any]], queues: list[Queue],
             queued_bodies: list[str], dead_bodies: list[str]) -> dict[str, Any]:
    """`sent`: the customers' requests (account_id, phone, accepted); `items`: every stored item."""
    leads = [i for i in items if i.get("type") == "lead"]
    leads_by_id = {lead["lead_id"]: lead for lead in leads}
    stored_contacts = {(lead["account_id"], lead["phone"]) for lead in leads if lead.get("phone")}
    accepted = [s for s in sent if s.accepted]
    # Each message not read (past the peek's bound, or in flight) may hold one request: dead letters too.
    unread = sum(q.depth for q in queues) - len(queued_bodies) - len(dead_bodies)
    verdict: Verdict = classify(accepted, lambda s: (s.account_id, s.phone), stored_contacts,
                                queued_bodies, dead_bodies, max(0, unread))
    offers = [i for i in items if i.get("type") == "offer"]
    accepted_offers = Counter(o["lead_id"] for o in offers if o.get("state") == "accepted")
    double = [lead_id for lead_id, n in accepted_offers.items() if n > 1]
    late = [seconds_between(o["expires_at"], o["decided_at"]) for o in offers
            if o.get("state") == "timed_out" and o.get("decided_at")]
    # A customer's STOP: the stored inbound message, a timeline event whose fields are under `data`
    # (LeadRepository.add_event); any send to that number after it is a violation.
    stops: dict[str, str] = {}
    for item in items:
        data = item.get("data") or {}
        if item.get("type") == "message" and data.get("direction") == "inbound" \
                and str(data.get("body", "")).strip().upper() == "STOP":
            stopped = leads_by_id.get(str(item["PK"]).removeprefix("LEAD#"))
            if stopped is not None and stopped.get("phone"):
                stops[stopped["phone"]] = min(stops.get(stopped["phone"], item["at"]), item["at"])
    sends = [i for i in items if str(i.get("PK", "")).startswith("SANDBOX#")]
    to_opted_out = [s for s in sends if s.get("to") in stops and s["at"] > stops[s["to"]]]
    return {
        "sent": len(sent), "accepted": len(accepted), "leads_stored": len(leads), "verdict": verdict,
        "owners": sum(1 for lead in leads if lead.get("assigned_to")),
        "routing_states": Counter(str(lead.get("routing_state")) for lead in leads),
        "double_owners": len(double), "offers": len(offers), "timed_out_offers": len(late), "lateness": late,
        "opted_out_customers": len(stops), "sends": len(sends), "sends_to_opted_out": len(to_opted_out),
        "queues": {q.name: q.depth for q in queues if q.depth},
        "delayed": {q.name: q.delayed for q in queues if q.delayed}, "dead_letter_bodies": dead_bodies,
        # Counted from the depths, not from the bodies read (at most PEEK_LIMIT a queue).
        "dead_letters": sum(q.depth + q.delayed for q in queues if q.dead_letter),
    }


def failures(facts: dict[str, Any]) -> list[str]:
    verdict: Verdict = facts["verdict"]
    named = {"leads lost": len(verdict.lost), "double owners": facts["double_owners"],
             "sends to opted-out customers": facts["sends_to_opted_out"],
             "dead-letter messages": facts["dead_letters"]}
    return [f"{n} {what}" for what, n in named.items() if n]


def print_summary(args: Any, facts: dict[str, Any], run: dict[str, Any], timings: Any,
                  calls: Counter[str], poll_cost: dict[str, int]) -> None:
    verdict: Verdict = facts["verdict"]
    accepted = max(1, facts["accepted"])
    print(f"load: {args.leads} leads over {args.minutes:g} min, {args.stores} stores, {args.agents} agent bots "
          f"(ran {run['took']:.0f} s, offer timeout {args.offer_timeout} s)")
    print(f"  machine load average (1 min) at start {run['load_start']:.2f}, at end {run['load_end']:.2f}")
    drained = "drained" if run["drained"] else "NOT drained (bound hit)"
    print(f"  settle after the run: {run['settle']:.0f} s, {drained}")
    print(f"  requests sent {facts['sent']}, answered 2xx {facts['accepted']}, leads stored {facts['leads_stored']}, "
          f"owned {facts['owners']}")
    print(f"  requests' leads: stored {len(verdict.stored)}, still queued {len(verdict.queued)}, "
          f"dead-lettered {len(verdict.dead)}, LOST {len(verdict.lost)} "
          f"{[s.__dict__ for s in verdict.lost[:5]] or ''}")
    print(f"  queues holding messages at the check: {facts['queues'] or 'none'}; "
          f"timers not yet due (delayed): {facts['delayed'] or 'none'}; "
          f"dead-letter messages: {facts['dead_letters']}")
    for body in facts["dead_letter_bodies"][:10]:
        print(f"    DLQ: {body[:300]}")
    print(f"  routing states: {dict(facts['routing_states'])}")
    print(f"  double owners: {facts['double_owners']} (of {facts['offers']} offers)")
    print(f"  sends to opted-out customers: {facts['sends_to_opted_out']} "
          f"({facts['opted_out_customers']} opted out; {facts['sends']} sends in all)")
    late = facts["lateness"]
    print(f"  offer timers: {facts['timed_out_offers']} timed out, decided late by p50 {percentile(late, 50):.2f} s, "
          f"p99 {percentile(late, 99):.2f} s")
    print("  per route (client side): p50 / p99 ms, requests, statuses")
    statuses: dict[str, list[str]] = defaultdict(list)
    for key, n in sorted(timings.statuses.items()):
        route, _, status = key.rpartition(" ")
        statuses[route].append(f"{status}x{n}")
    for route, seconds in sorted(timings.seconds.items()):
        print(f"    {route}: {percentile(seconds, 50) * 1000:.0f} / {percentile(seconds, 99) * 1000:.0f} ms, "
              f"{len(seconds)} requests ({', '.join(statuses[route])})")
    total = sum(calls.values())
    polled = sum(len(timings.seconds.get(route, [])) * cost for route, cost in poll_cost.items())
    print(f"  AWS calls counted at the endpoint from the first arrival until settled: {total} "
          f"({total / accepted:.1f} per lead, the agents' polling included)")
    each = ", ".join(f"{route}: {cost} calls each" for route, cost in poll_cost.items())
    print(f"  of which the agents' polling, about {polled} ({each}, measured on the quiet stack before the run; "
          f"a poll that finds live offers adds one BatchGetItem): {(total - polled) / accepted:.1f} calls per lead "
          f"without it")
    for op, n in calls.most_common():
        print(f"    {op}: {n} ({n / accepted:.2f} per lead)")
    cpu = run["cpu"]
    wall = max(1.0, run["took"] + run["settle"])
    print("  CPU over the run and the settle (seconds, % of one core): " + ", ".join(
        f"{name} {seconds:.0f} s ({100 * seconds / wall:.0f} %)" for name, seconds in cpu.items()))
    bench = {"leads_lost": (len(verdict.lost), "leads"), "leads_queued": (len(verdict.queued), "leads"),
             "dead_letters": (facts["dead_letters"], "messages"),
             "double_owners": (facts["double_owners"], "leads"),
             "sends_to_opted_out": (facts["sends_to_opted_out"], "sends"),
             "settle": (f"{run['settle']:.0f}", "s"),
             "timer_lateness_p50": (f"{percentile(late, 50):.2f}", "s"),
             "timer_lateness_p99": (f"{percentile(late, 99):.2f}", "s"),
             "calls_per_lead": (f"{total / accepted:.1f}", "calls"),
             "calls_per_lead_without_polling": (f"{(total - polled) / accepted:.1f}", "calls"),
             **{f"cpu_{name}": (f"{100 * seconds / wall:.0f}", "% of a core") for name, seconds in cpu.items()}}
    for name, (value, unit) in bench.items():
        print(f"BENCH load_{name}: {value} {unit}")
