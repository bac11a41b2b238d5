"""Helpers of the routing tests: a store with agents, leads that start routing, timer deliveries."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from chalicelib.adapters.dynamodb.leads import LeadRepository
from chalicelib.clock import iso
from chalicelib.domain.leads import Lead
from chalicelib.ids import new_id
from chalicelib.services.routing import route_new_lead
from tests.fakes import FakeQueues
from tests.support import Tenant, World

ALWAYS_OPEN = {d: [["00:00", "23:59"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@dataclass
class Store:
    world: World
    tenant: Tenant
    account_id: str
    agents: list[dict[str, Any]] = field(default_factory=list)
    # Users whose offers `current_offer` looks at (deleted users are dropped by the test).
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, user_id: str) -> str:
        """A token minted now: tests move the clock past a token's 12 hours."""
        return self.world.token(user_id)

    @property
    def admin_token(self) -> str:
        return self.world.token(self.tenant.admin_id)

    @property
    def agent_ids(self) -> list[str]:
        return [a["user_id"] for a in self.agents]


def store(world: World, agents: int = 3, *, domain: str = "acme.com", hours: dict[str, Any] | None = None,
          **agent_fields: Any) -> Store:
    tenant = world.tenant(email=f"owner@{domain}", hours=hours or ALWAYS_OPEN)
    found = Store(world=world, tenant=tenant, account_id=tenant.accounts[0]["account_id"])
    for i in range(agents):
        user, token = world.user(tenant, f"agent{i + 1}@{domain}", **agent_fields)
        found.agents.append(user)
        found.tokens[user["user_id"]] = token
    return found


def add_user(world: World, s: Store, email: str, role: str = "agent", **fields: Any) -> dict[str, Any]:
    s.tenant.token = s.admin_token
    user, token = world.user(s.tenant, email, role=role, account_ids=[s.account_id], **fields)
    s.tokens[user["user_id"]] = token
    return user


def configure(world: World, s: Store, **config: Any) -> dict[str, Any]:
    reply = world.put(f"/accounts/{s.account_id}/routing", s.admin_token, config)
    assert reply.status == 200, reply.json
    return dict(reply.json)


def new_lead(world: World, s: Store, *, source: str = "Web", source_group: str | None = None,
             channel: str = "web", start: bool = True) -> Lead:
    """A lead as intake saves it, then routing starts (the same call intake makes)."""
    now_dt = world.clock.now()
    now = iso(now_dt)
    lead = Lead(lead_id=new_id("lead", now_dt), account_id=s.account_id, group_id=s.tenant.group_id,
                first_name="Pat", last_name="Buyer", source=source, source_group=source_group, channel=channel,
                created_at=now, received_at=now, last_activity_at=now)
    repo = LeadRepository(world.deps.table)
    world.deps.transactions.commit(repo.create(lead))
    if start:
        route_new_lead(world.deps, lead)
    return lead


def lead(world: World, lead_id: str) -> Lead:
    return LeadRepository(world.deps.table).require(lead_id)


def offers(world: World, token: str) -> list[dict[str, Any]]:
    reply = world.get("/me/offers", token)
    assert reply.status == 200, reply.json
    return list(reply.json["items"])


def current_offer(world: World, s: Store) -> tuple[str, dict[str, Any]] | None:
    """(agent id, offer) of the one live offer among the store's users, or None."""
    found = [(uid, o) for uid in s.tokens for o in offers(world, s.token(uid))]
    assert len(found) <= 1, found
    return found[0] if found else None


def sqs_event(bodies: list[dict[str, Any]]) -> dict[str, Any]:
    """An SQS batch as Lambda delivers it, with distinct message ids (chalice's generator repeats one)."""
    return {"Records": [{
        "messageId": str(uuid.uuid4()), "receiptHandle": f"rh-{i}", "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0", "SenderId": "test",
                       "ApproximateFirstReceiveTimestamp": "0"},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:leadline-timers", "awsRegion": "us-east-1",
    } for i, body in enumerate(bodies)]}


def deliver_timers(world: World, bodies: list[dict[str, Any]]) -> Any:
    return world.client.lambda_.invoke("routing_timers", sqs_event(bodies)).payload


def record_queues(world: World) -> FakeQueues:
    """Keep what the app sends instead of sending it, so a test can deliver it when it likes (the tests'
    clock is not SQS's, which honours DelaySeconds on the wall clock)."""
    recording = FakeQueues()
    world.deps.queues = recording  # type: ignore[assignment]
    return recording


def sweep(world: World) -> Any:
    """One run of the every-minute due sweep, with the event EventBridge sends a schedule."""
    event = world.client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                                  resources=["arn:aws:events:us-east-1:123456789012:rule/sweep"])
    return world.client.lambda_.invoke("routing_due_sweep", event).payload


def score_events(world: World, user_id: str) -> list[dict[str, Any]]:
    from chalicelib.adapters.dynamodb.routing import RoutingRepository

    return [e.model_dump() for e in RoutingRepository(world.deps.table).score_events(
        user_id, "2000-01-01T00:00:00.000Z", "2100-01-01T00:00:00.000Z")]
