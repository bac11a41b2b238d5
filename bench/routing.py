"""Routing: AWS calls per routing step and offers routed per second, in-process.

Runs the app against moto in this process (like the tests), with a fixed clock. AWS calls are
counted with a botocore `before-call` hook on the clients of chalicelib.adapters.aws (the
calls our code makes), for:
  - a new lead's first offer (route_new_lead: offer + timer + notification),
  - an accept through HTTP (auth included),
  - a decline through HTTP (the next offer included),
  - a timeout delivered to the timers consumer (the next offer included),
  - a duplicate timer delivery (the no-op path), an empty due sweep, GET /me/offers.
Throughput: the pure decision (`domain.routing.next_step`) per second, and leads routed per
second end to end in-process (moto in the same process: our code path plus moto's emulation,
not DynamoDB's network latency).

    .venv/bin/python bench/routing.py [--leads 100]
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections import Counter
from typing import Any

import _support

_support.use_moto_environment()


def _sqs_event(bodies: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": [{"messageId": str(uuid.uuid4()), "receiptHandle": "rh", "body": json.dumps(b),
                         "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795000000000",
                                        "SenderId": "AIDBENCH", "ApproximateFirstReceiveTimestamp": "1795000000000"},
                         "messageAttributes": {},
                         "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:timers",
                         "awsRegion": "us-east-1", "md5OfBody": ""} for b in bodies]}


def _fmt(calls: Counter[str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100)
    args = parser.parse_args()

    from chalice.test import Client, LambdaContext
    from moto import mock_aws

    with mock_aws():
        from app import app
        from chalicelib.adapters.dynamodb.leads import LeadRepository
        from chalicelib.clock import FixedClock, iso
        from chalicelib.config import get_settings
        from chalicelib.deps import Deps, set_deps
        from chalicelib.domain import routing as rules
        from chalicelib.domain.leads import Lead
        from chalicelib.ids import new_id
        from chalicelib.services import routing as service
        from chalicelib.services.auth import mint_local_token
        from chalicelib.services.routing_config import routing_config
        from chalicelib.services.users import bootstrap_group
        from leadline.provision import provision_local

        provision_local(get_settings())
        clock = FixedClock("2026-11-02T15:00:00Z")
        deps = Deps(clock=clock)
        set_deps(deps)
        client = Client(app)
        counter = _support.CallCounter()

        def token(user_id: str) -> str:
            return mint_local_token(deps.settings.jwt_secret, user_id, now=clock.now().timestamp(), hours=48)

        def call(method: str, path: str, user_id: str, body: Any = None) -> Any:
            reply = client.http.request(method, path, headers={"Authorization": f"Bearer {token(user_id)}",
                                                               "Content-Type": "application/json"},
                                        body=json.dumps(body or {}).encode() if method != "GET" else b"")
            return reply.status_code, json.loads(reply.body) if reply.body else None

        boot = bootstrap_group(deps, "Bench Motors", "owner@bench-motors.com", "Owner")
        admin = boot.user.user_id
        status, account = call("POST", "/accounts", admin, {
            "name": "Bench Store", "timezone": "America/Chicago",
            "business_hours": {d: [["00:00", "23:59"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}})
        assert status == 201, account
        account_id = account["account_id"]
        agents = []
        for i in range(5):
            status, user = call("POST", "/users", admin, {"email": f"agent{i}@bench-motors.com", "name": f"Agent {i}",
                                                          "role": "agent", "account_ids": [account_id]})
            assert status == 201, user
            agents.append(user["user_id"])
        status, _ = call("PUT", f"/accounts/{account_id}/routing", admin, {"offer_timeout_seconds": 120})
        assert status == 200

        def make_lead() -> Lead:
            now = clock.now()
            lead = Lead(lead_id=new_id("lead", now), account_id=account_id, group_id=boot.group.group_id,
                        first_name="Pat", source="Web", created_at=iso(now), received_at=iso(now),
                        last_activity_at=iso(now))
            repo = LeadRepository(deps.table)
            deps.transactions.commit(repo.create(lead))
            return lead

        def pending_offer(lead_id: str) -> Any:
            for agent in agents:
                for offer in service.my_offers(deps, _principal(agent), 50, None)[0]:
                    if offer.lead_id == lead_id:
                        return offer
            raise AssertionError("no offer")

        def _principal(user_id: str) -> Any:
            user = deps.users.get(user_id)
            assert user is not None
            return user.principal()

        # Warm up every client and code path once (not counted).
        warm = make_lead()
        service.route_new_lead(deps, warm)
        call("POST", f"/offers/{pending_offer(warm.lead_id).offer_id}/accept",
             pending_offer(warm.lead_id).agent_id)
        handler = app.handler_map["routing_timers"]
        sweep = app.handler_map["routing_due_sweep"]
        sweep_event = client.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])
        sweep(sweep_event, LambdaContext("routing_due_sweep", memory_size=512))

        clock.advance(1)
        lead = make_lead()
        _, route_calls = counter.measure(lambda: service.route_new_lead(deps, lead))
        offer = pending_offer(lead.lead_id)
        clock.advance(1)
        (status, _), accept_calls = counter.measure(
            lambda: call("POST", f"/offers/{offer.offer_id}/accept", offer.agent_id))
        assert status == 200

        clock.advance(1)
        lead = make_lead()
        service.route_new_lead(deps, lead)
        offer = pending_offer(lead.lead_id)
        (status, _), decline_calls = counter.measure(
            lambda: call("POST", f"/offers/{offer.offer_id}/decline", offer.agent_id, {"reason": "busy"}))
        assert status == 200

        following = pending_offer(lead.lead_id)
        clock.advance(121)
        timer = {"kind": "offer_expiry", "offer_id": following.offer_id, "routing_version": following.routing_version,
                 "due_at": following.expires_at}
        context = LambdaContext("routing_timers", memory_size=512)
        result, timeout_calls = counter.measure(lambda: handler(_sqs_event([timer]), context))
        assert result == {"batchItemFailures": []}, result
        _, duplicate_calls = counter.measure(lambda: handler(_sqs_event([timer]), context))
        clock.advance(1)
        (status, _), offers_calls = counter.measure(lambda: call("GET", "/me/offers", agents[0]))
        assert status == 200
        clock.advance(200)
        sweep_context = LambdaContext("routing_due_sweep", memory_size=512)
        sweep(sweep_event, sweep_context)  # expire what is left
        _, sweep_calls = counter.measure(lambda: sweep(sweep_event, sweep_context))

        rows = [("route a new lead (first offer)", route_calls), ("accept (HTTP)", accept_calls),
                ("decline (HTTP, next offer included)", decline_calls),
                ("timeout (timers consumer, next offer included)", timeout_calls),
                ("duplicate timer (no-op)", duplicate_calls), ("GET /me/offers", offers_calls),
                ("due sweep, nothing due", sweep_calls)]
        print("AWS calls per routing step (moto in-process):")
        for name, calls in rows:
            print(f"  {name:<48} {sum(calls.values()):>3}   {_fmt(calls)}")

        # Throughput end to end: create and route leads (each leaves a pending offer).
        leads = [make_lead() for _ in range(args.leads)]
        started = time.perf_counter()
        for created in leads:
            clock.advance(0.01)
            service.route_new_lead(deps, created)
        routed_per_s = args.leads / (time.perf_counter() - started)

        # The pure decision alone.
        users = {u.user_id: u for u in deps.users.list_for_group(boot.group.group_id)}
        config = routing_config(deps, account_id)
        rotation = rules.Rotation()
        decisions = 20_000
        started = time.perf_counter()
        for _ in range(decisions):
            step = rules.next_step(lead, rules.Context(config, users, rotation), rules.Progress(), clock.now())
            rotation = step.rotation or rotation
        decisions_per_s = decisions / (time.perf_counter() - started)
        print(f"leads routed end to end in-process (moto): {routed_per_s:.0f}/s over {args.leads} leads")
        print(f"pure routing decisions (next_step): {decisions_per_s:,.0f}/s")

        print(f"BENCH routing_calls_per_accept: {sum(accept_calls.values())} calls")
        print(f"BENCH routing_calls_per_timeout: {sum(timeout_calls.values())} calls")
        print(f"BENCH routing_calls_per_new_lead: {sum(route_calls.values())} calls")
        print(f"BENCH routing_calls_per_duplicate_timer: {sum(duplicate_calls.values())} calls")
        print(f"BENCH routing_offers_routed_per_s: {routed_per_s:.0f} leads/s")
        print(f"BENCH routing_decisions_per_s: {decisions_per_s:.0f} decisions/s")
        set_deps(None)


if __name__ == "__main__":
    main()
