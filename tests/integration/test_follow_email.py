"""A customer's email on an owned lead goes the way their SMS does (services/inbound.attach): the
owner is alerted (`customer_replied`) and, with response targets, a reply deadline starts — by the
lead's reply address and by the store's address alike, through SES's receipt path under moto."""

from __future__ import annotations

import re
from typing import Any

from chalicelib.clock import iso
from tests.integration.conversations_support import current, drain, sent
from tests.integration.test_channels_email import MAIL, STORE_MAIL, _email_lead, _email_store, ses_delivers
from tests.support import World

TARGETS = {"first_response_seconds": 600, "reply_seconds": 300, "warn_before_seconds": 60,
           "on_miss": "notify_managers", "business_hours_only": False}


def _owned_email_lead(world: World) -> tuple[Any, str, str]:
    """An email lead of a store with targets, assigned to the agent, who answered it by email:
    (store, lead id, the lead's reply token)."""
    s = _email_store(world)
    assert world.put(f"/accounts/{s.account_id}/response-targets", s.admin_token, TARGETS).status == 200
    lead_id = _email_lead(world, s)
    assigned = world.post(f"/leads/{lead_id}/assign", s.admin_token, {"user_id": s.agent["user_id"]})
    assert assigned.status == 200, assigned.json
    assert current(world, lead_id).deadline is not None     # the owner's first-response deadline
    assert world.post(f"/leads/{lead_id}/messages", s.agent_token, {"body": "Hi Maria, it is!"}).status == 202
    drain(world, "outbox")
    lead = current(world, lead_id)
    assert lead.deadline is None and lead.assigned_to == s.agent["user_id"]   # met and cleared
    [email] = [x for x in sent(world, s) if x["channel"] == "email"]
    token = re.search(r"sales\+([a-z2-7]{24})@", email["email"]["headers"]["Reply-To"]).group(1)  # type: ignore[union-attr]
    return s, lead_id, token


def _replied_alerts(world: World, token: str, lead_id: str) -> list[dict[str, Any]]:
    return [n for n in world.get("/me/notifications", token).json["items"]
            if n["kind"] == "customer_replied" and n["lead_id"] == lead_id]


def test_an_email_to_the_reply_address_alerts_the_owner_and_starts_a_reply_deadline(world: World) -> None:
    s, lead_id, token = _owned_email_lead(world)
    world.clock.advance(30)
    arrived = iso(world.clock.now())
    raw = (MAIL / "gmail_reply.eml").read_bytes().replace(b"TOKEN", token.encode())
    ses_delivers(world, raw, [f"sales+{token}@acme-honda.example"], "ses-r1")
    ses_delivers(world, raw, [f"sales+{token}@acme-honda.example"], "ses-r2")   # delivered twice: once
    [alert] = _replied_alerts(world, s.agent_token, lead_id)
    assert alert["title"] and alert["body"]
    lead = current(world, lead_id)
    assert lead.deadline is not None and lead.deadline.kind == "reply" and lead.deadline.owner == s.agent["user_id"]
    assert lead.deadline.set_at == arrived
    view = world.get(f"/leads/{lead_id}", s.admin_token).json
    assert view["response_due_at"] == lead.deadline.due_at and view["response_state"] == "on_time"
    due = world.get(f"/leads?account_id={s.account_id}&folder=due", s.admin_token).json["items"]
    assert [row["lead_id"] for row in due] == [lead_id]


def test_an_email_to_the_stores_address_from_the_customer_joins_the_lead_the_same_way(world: World) -> None:
    s, lead_id, _token = _owned_email_lead(world)
    raw = (MAIL / "gmail_reply.eml").read_bytes().replace(b"sales+TOKEN@acme-honda.example", STORE_MAIL.encode())
    assert STORE_MAIL.encode() in raw
    ses_delivers(world, raw, [STORE_MAIL], "ses-s1")
    assert len(_replied_alerts(world, s.agent_token, lead_id)) == 1
    lead = current(world, lead_id)
    assert lead.deadline is not None and lead.deadline.kind == "reply"
