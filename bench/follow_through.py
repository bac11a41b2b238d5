"""Follow-through on the local stack, through the contract's surface only (HTTP API, signed Twilio
webhooks, the CLI), with AWS behind the counting endpoint (bench/_endpoint.py):

1. AWS calls per customer message on an owned lead of a store with response targets — the message,
   the reply deadline it starts (lead change, its timer), the owner's `customer_replied` alert — from
   the webhook until the stack is quiet (as bench/endpoint_calls.py counts). The lead's first
   deadline was answered, so each message starts a new one: the most the bookkeeping ever costs.
2. Lateness of the warning and miss on the real clock: LEADS leads with a 30-second target (warning
   10 s before, `reoffer`) that nobody answers; for each, the server's time of the owner's
   `target_warning` minus the warning's due time, of the managers' `target_missed` and of the next
   offer minus the deadline. p50 and max.

    .venv/bin/python bench/follow_through.py [--repeat 5] [--leads 6]      (--leads 0: the calls only)"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from datetime import datetime
from typing import Any

from _endpoint import CountingEndpoint, LocalStack
from endpoint_calls import Scenario, measure

TARGETS = {"first_response_seconds": 30, "reply_seconds": 30, "warn_before_seconds": 10, "on_miss": "reoffer"}


def seconds(at: str) -> float:
    return datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()


def owned_lead(scene: Scenario) -> tuple[dict[str, Any], str]:
    lead = scene.new_lead()
    offer_id, token = scene.pending_offer()
    scene.accept((offer_id, token))
    return lead, token


def messages_on_owned_leads(scene: Scenario, endpoint: CountingEndpoint, repeat: int) -> list[Counter[str]]:
    """Each run's calls: the webhook's own and what it set off (consumers, timers)."""
    runs: list[Counter[str]] = []
    for _ in range(repeat):
        lead, token = owned_lead(scene)
        scene.stack.http("POST", f"/leads/{lead['lead_id']}/responded", token=token)
        run = measure(endpoint, lambda lead=lead: scene.sms(lead["phone"], "Can I come by at 5?"))
        runs.append(run.during + run.after)
        scene.stack.http("POST", f"/leads/{lead['lead_id']}/responded", token=token)
    return runs


def lateness(scene: Scenario, manager: str, leads: int) -> dict[str, list[float]]:
    made = [owned_lead(scene) for _ in range(leads)]
    due = {lead["lead_id"]: seconds(scene.stack.http("GET", f"/leads/{lead['lead_id']}",
                                                     token=scene.admin).json()["response_due_at"])
           for lead, _ in made}
    found: dict[str, dict[str, float]] = {kind: {} for kind in ("warning", "missed", "reoffered")}
    limit = max(due.values()) + 60
    # Ask only from shortly before the first warning: the stack's API and its timer consumers share one
    # process, and polling through the wait would slow the timers this measures (by the server's times).
    while (left := min(due.values()) - 10.5 - time.time()) > 0:
        time.sleep(min(left, 0.5))
    while time.time() < limit and any(len(v) < leads for v in found.values()):
        for lead, token in made:
            lead_id = lead["lead_id"]
            for n in scene.stack.http("GET", "/me/notifications", token=token).json()["items"]:
                if n["lead_id"] == lead_id and n["kind"] == "target_warning":
                    found["warning"].setdefault(lead_id, seconds(n["at"]) - (due[lead_id] - 10))
        for n in scene.stack.http("GET", "/me/notifications", token=manager).json()["items"]:
            if n["kind"] == "target_missed" and n["lead_id"] in due:
                found["missed"].setdefault(n["lead_id"], seconds(n["at"]) - due[n["lead_id"]])
        for agent in scene.agents.values():
            for offer in scene.stack.http("GET", "/me/offers", token=agent).json()["items"]:
                if offer["lead_id"] in due:
                    found["reoffered"].setdefault(offer["lead_id"], seconds(offer["made_at"]) - due[offer["lead_id"]])
        time.sleep(0.5)
    return {kind: list(values.values()) for kind, values in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--leads", type=int, default=6)
    args = parser.parse_args()
    with CountingEndpoint() as endpoint, LocalStack(endpoint.url) as stack:
        scene = Scenario(stack, endpoint)
        stack.http("PUT", f"/accounts/{scene.account_id}/response-targets", TARGETS, token=scene.admin)
        stack.http("POST", "/users", {"email": "max@bench-motors.com", "name": "Max", "role": "manager",
                                      "account_ids": [scene.account_id]}, token=scene.admin)
        manager = stack.cli("token", "--email", "max@bench-motors.com")
        runs = messages_on_owned_leads(scene, endpoint, args.repeat)
        late = lateness(scene, manager, args.leads) if args.leads > 0 else {}

    totals = [sum(r.values()) for r in runs]
    median = statistics.median_low(totals)
    typical = runs[totals.index(median)]
    print(f"AWS calls per customer message on an owned lead with targets, median of {args.repeat} "
          f"(max {max(totals)}): {median} ({', '.join(f'{op} {n}' for op, n in sorted(typical.items()))})")
    print(f"BENCH calls_customer_message_owned_lead_with_targets: {median} calls")
    for kind, values in late.items():
        if not values:
            print(f"{kind}: none seen of {args.leads}")
            continue
        print(f"{kind}: {len(values)}/{args.leads} leads, late by p50 {statistics.median(values):.2f} s, "
              f"max {max(values):.2f} s")
        print(f"BENCH follow_{kind}_late_p50: {statistics.median(values):.2f} s")
        print(f"BENCH follow_{kind}_late_max: {max(values):.2f} s")


if __name__ == "__main__":
    main()
