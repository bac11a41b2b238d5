"""Routing on the local stack, over real HTTP with the real clock: an offer's timeout fires
within 2 s of its expiry (timers queue with DelaySeconds, polled into `routing_timers`), and
the next agent is offered the lead."""

from __future__ import annotations

import time
from typing import Any

import pytest

from chalicelib.clock import parse_time
from tests.e2e.conftest import routed_store

pytestmark = pytest.mark.e2e


def test_an_offer_times_out_within_two_seconds_of_expiry(stack_factory: Any) -> None:
    stack = stack_factory().start()
    store = routed_store(stack, "quay-motors.com", 3)
    http, account_id, tokens = store.http, store.account_id, store.agents

    lead = http("POST", f"/accounts/{account_id}/leads",
                {"first_name": "Lee", "email": "lee@buyer-mail.com", "source": "Web", "channel": "web"})
    assert lead.status_code == 201, lead.text

    def live() -> list[tuple[str, dict[str, Any]]]:
        return [(uid, o) for uid, token in tokens.items()
                for o in http("GET", "/me/offers", token=token).json()["items"]]

    (first_agent, first_offer), = live()
    expires = parse_time(first_offer["expires_at"]).timestamp()
    deadline = expires + 2.0
    moved_at = None
    while time.time() < deadline + 3:  # look a little past the limit, to report how late it was
        now = time.time()
        current = live()
        if current and current[0][1]["offer_id"] != first_offer["offer_id"]:
            moved_at = now
            break
        time.sleep(0.1)
    assert moved_at is not None, stack.logs()[-3000:]
    assert moved_at <= deadline, f"timed out {moved_at - expires:.2f} s after expiry"
    (second_agent, _), = live()
    assert second_agent != first_agent
    lead_now = http("GET", f"/leads/{lead.json()['lead_id']}").json()
    assert lead_now["routing_state"] == "offered"
