"""p50/p99 in-process latency of each hot route, warm.

Runs the app in this process against moto (like the tests and bench/routing.py), with a fixed
clock, through chalice's test Client: one group, one store open around the clock with an SMS
number, two agents, 200 leads: most saved as intake saves them, the last --writes (+ warm-up)
made through POST /accounts/{id}/leads (each routed: an offer, a timer, a notification). Each
route gets a few unmeasured warm-up requests, then --requests (50) measured ones for reads,
--dashboard-requests (30) for the dashboard (~1 s each under moto: most of the run time) and
--writes (30) for writes. A p99 of 100 samples or fewer is the slowest request (nearest rank);
the run takes about 90 s on 2 cores.

    .venv/bin/python bench/hot_routes.py [--requests 50] [--dashboard-requests 30] [--writes 30] [--leads 200]

The figures are our code path plus moto's emulation in the same process (moto's DynamoDB
gets slower as the table grows), not DynamoDB's network latency: compare them with each
other and across commits, not with a deployed stage."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import _support

_support.use_moto_environment()

ALWAYS_OPEN = {d: [["00:00", "23:59"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
WARM_UP = 3


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 100 samples is the 99th smallest, not an interpolation)."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


class Bench:
    """Times requests through the chalice test client; every reply's status is checked."""

    def __init__(self, client: Any, token: Callable[[str], str]) -> None:
        self.client = client
        self.token = token
        self.samples: dict[str, list[float]] = {}

    def request(self, method: str, path: str, user_id: str, body: Any = None, expect: int = 200) -> Any:
        payload = json.dumps(body if body is not None else {}).encode() if method != "GET" else b""
        headers = {"Authorization": f"Bearer {self.token(user_id)}", "Content-Type": "application/json"}
        reply = self.client.http.request(method, path, headers=headers, body=payload)
        data = json.loads(reply.body) if reply.body else None
        if reply.status_code != expect:
            raise AssertionError(f"{method} {path}: {reply.status_code} {data}")
        return data

    def timed(self, route: str, method: str, path: str, user_id: str, body: Any = None, expect: int = 200) -> Any:
        # The token is minted before the clock starts: minting is the harness's work, not the route's.
        payload = json.dumps(body if body is not None else {}).encode() if method != "GET" else b""
        headers = {"Authorization": f"Bearer {self.token(user_id)}", "Content-Type": "application/json"}
        started = time.perf_counter()
        reply = self.client.http.request(method, path, headers=headers, body=payload)
        took = time.perf_counter() - started
        data = json.loads(reply.body) if reply.body else None
        if reply.status_code != expect:
            raise AssertionError(f"{method} {path}: {reply.status_code} {data}")
        self.samples.setdefault(route, []).append(took * 1000)
        return data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50, help="measured requests per read route")
    parser.add_argument("--dashboard-requests", type=int, default=30, help="measured GET /reports/dashboard requests")
    parser.add_argument("--leads", type=int, default=200, help="leads in the store")
    parser.add_argument("--writes", type=int, default=30, help="measured requests per write route")
    args = parser.parse_args()
    began = time.perf_counter()

    from chalice.test import Client
    from moto import mock_aws

    with mock_aws():
        from app import app
        from chalicelib.clock import FixedClock
        from chalicelib.config import get_settings
        from chalicelib.deps import Deps, set_deps
        from chalicelib.services.auth import mint_local_token
        from chalicelib.services.users import bootstrap_group
        from leadline.provision import provision_local

        provision_local(get_settings())
        # A Monday, 09:00 in Chicago: inside the store's hours and outside SMS quiet hours.
        clock = FixedClock("2026-11-02T15:00:00Z")
        deps = Deps(clock=clock)
        set_deps(deps)
        client = Client(app)

        def token(user_id: str) -> str:
            return mint_local_token(deps.settings.jwt_secret, user_id, now=clock.now().timestamp(), hours=48)

        bench = Bench(client, token)
        boot = bootstrap_group(deps, "Bench Motors", "owner@bench-motors.com", "Owner")
        admin = boot.user.user_id
        account = bench.request("POST", "/accounts", admin, {
            "name": "Bench Honda", "timezone": "America/Chicago", "business_hours": ALWAYS_OPEN,
            "sms_number": "+13125550100"}, expect=201)
        account_id = account["account_id"]
        agents = [bench.request("POST", "/users", admin, {
            "email": f"agent{i}@bench-motors.com", "name": f"Agent {i}", "role": "agent",
            "account_ids": [account_id]}, expect=201)["user_id"] for i in range(2)]
        # Long enough that no offer expires while the clock moves through the run.
        bench.request("PUT", f"/accounts/{account_id}/routing", admin, {"offer_timeout_seconds": 3600})

        def lead_body(n: int) -> dict[str, Any]:
            # Distinct phone and email per lead: intake would coalesce repeats into one lead.
            return {"first_name": "Pat", "last_name": f"Buyer{n}", "phone": f"+1312555{n:04d}",
                    "email": f"pat{n}@buyer-mail.com", "source": "Web", "channel": "web"}

        # Most of the store's leads are saved as intake saves them, without routing (moto slows
        # down as offers pile up); the rest are made through POST /accounts/{id}/leads (the
        # first few are the warm-up) and are the ones with offers to accept.
        from chalicelib.adapters.dynamodb.leads import LeadRepository
        from chalicelib.clock import iso
        from chalicelib.domain.leads import Lead
        from chalicelib.ids import new_id

        repo = LeadRepository(deps.table)
        lead_ids: list[str] = []
        through_route = WARM_UP + args.writes
        for n in range(max(0, args.leads - through_route)):
            clock.advance(1)
            at = clock.now()
            seeded = Lead(lead_id=new_id("lead", at), account_id=account_id, group_id=boot.group.group_id,
                          first_name="Pat", last_name=f"Seeded{n}", phone=f"+1773555{n:04d}", source="Web",
                          channel="web", created_at=iso(at), received_at=iso(at), last_activity_at=iso(at))
            deps.transactions.commit(repo.create(seeded))
            lead_ids.append(seeded.lead_id)
        for n in range(through_route):
            clock.advance(1)
            if n < WARM_UP:
                made = bench.request("POST", f"/accounts/{account_id}/leads", admin, lead_body(n), expect=201)
            else:
                made = bench.timed("POST /accounts/{id}/leads", "POST", f"/accounts/{account_id}/leads", admin,
                                   lead_body(n), expect=201)
            lead_ids.append(made["lead_id"])

        def read(route: str, path: str, user_id: str, requests: int = args.requests) -> None:
            for _ in range(WARM_UP):
                bench.request("GET", path, user_id)
            for _ in range(requests):
                bench.timed(route, "GET", path, user_id)

        clock.advance(1)
        read("GET /leads", f"/leads?account_id={account_id}", admin)
        sample_lead = lead_ids[len(lead_ids) // 2]
        read("GET /leads/{id}", f"/leads/{sample_lead}", admin)
        read("GET /leads/{id}/timeline", f"/leads/{sample_lead}/timeline", admin)
        read("GET /me/offers", "/me/offers", agents[0])
        read("GET /me/notifications", "/me/notifications", agents[0])

        # POST /offers/{id}/accept: each agent accepts the pending offers they hold.
        pending: list[tuple[str, str]] = []
        for agent in agents:
            cursor: str | None = None
            while True:
                page = bench.request("GET", "/me/offers" + (f"?cursor={cursor}" if cursor else ""), agent)
                pending += [(agent, o["offer_id"]) for o in page["items"]]
                cursor = page.get("next_cursor")
                if not cursor:
                    break
        accepts = pending[:WARM_UP + args.writes]
        if len(accepts) <= WARM_UP:
            raise AssertionError(f"only {len(pending)} pending offers to accept")
        accepted_leads: list[str] = []
        for i, (agent, offer_id) in enumerate(accepts):
            clock.advance(1)
            if i < WARM_UP:
                lead = bench.request("POST", f"/offers/{offer_id}/accept", agent)
            else:
                lead = bench.timed("POST /offers/{id}/accept", "POST", f"/offers/{offer_id}/accept", agent)
            accepted_leads.append(lead["lead_id"])

        # POST /leads/{id}/messages: one message per request, spread over the leads (each lead's
        # rate limits and conversation state stay realistic), sent by the admin who sees them all.
        for i in range(WARM_UP + args.writes):
            clock.advance(1)
            target = lead_ids[i % len(lead_ids)]
            body = {"body": f"Thanks for your interest, this is Bench Honda (note {i})."}
            if i < WARM_UP:
                bench.request("POST", f"/leads/{target}/messages", admin, body, expect=202)
            else:
                bench.timed("POST /leads/{id}/messages", "POST", f"/leads/{target}/messages", admin, body,
                            expect=202)

        clock.advance(1)
        # Deployed, the stream consumer has rolled these up within a second; nothing polls in-process.
        from chalicelib.adapters.aws import client as aws_client
        from leadline.local.streams import StreamPump

        StreamPump(app, aws_client("dynamodb"), aws_client("dynamodbstreams"), deps.settings.table_name).drain()
        read("GET /reports/dashboard", f"/reports/dashboard?account_id={account_id}", admin, args.dashboard_requests)
        set_deps(None)

    order = ["GET /leads", "GET /leads/{id}", "GET /leads/{id}/timeline", "POST /accounts/{id}/leads",
             "POST /offers/{id}/accept", "POST /leads/{id}/messages", "GET /me/offers", "GET /me/notifications",
             "GET /reports/dashboard"]
    print(f"In-process latency per hot route (chalice test Client over moto, warm; {args.leads} leads in the store;"
          " n samples each, p99 of n <= 100 is the slowest)")
    print(f"  {'route':<28} {'n':>4} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'max ms':>8}")
    for route in order:
        got = bench.samples[route]
        print(f"  {route:<28} {len(got):>4} {percentile(got, 0.5):>8.1f} {percentile(got, 0.99):>8.1f} "
              f"{statistics.fmean(got):>8.1f} {max(got):>8.1f}")
    print(f"total run time {time.perf_counter() - began:.1f} s")
    for route in order:
        name = "route_" + "_".join(part.strip("{}").lower() for part in route.replace("/", " ").split())
        got = bench.samples[route]
        print(f"BENCH {name}_p50_ms: {percentile(got, 0.5):.1f} ms")
        print(f"BENCH {name}_p99_ms: {percentile(got, 0.99):.1f} ms")


if __name__ == "__main__":
    main()
