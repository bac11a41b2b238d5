"""Routing on the local stack, over real HTTP with the real clock: an offer's timeout fires
within 2 s of its expiry (timers queue with DelaySeconds, polled into `routing_timers`), and
the next agent is offered the lead."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from chalicelib.clock import parse_time
from tests.e2e.conftest import Http, cli

pytestmark = pytest.mark.e2e

ALWAYS_OPEN = {d: [["00:00", "23:59"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def test_an_offer_times_out_within_two_seconds_of_expiry(stack_factory: Any) -> None:
    stack = stack_factory().start()
    done = cli(stack.home, "bootstrap", "--group", "Quay Motors", "--email", "owner@quay-motors.com",
               "--name", "Quinn Quay")
    assert done.returncode == 0, done.stderr
    http = Http(stack.url, json.loads(done.stdout)["token"])
    store = http("POST", "/accounts", {"name": "Quay Kia", "timezone": "America/Chicago",
                                       "business_hours": ALWAYS_OPEN})
    assert store.status_code == 201, store.text
    account_id = store.json()["account_id"]
    tokens = {}
    for name in ("ava", "ben"):
        email = f"{name}@quay-motors.com"
        made = http("POST", "/users", {"email": email, "name": name.title(), "role": "agent",
                                       "account_ids": [account_id]})
        assert made.status_code == 201, made.text
        minted = cli(stack.home, "token", "--email", email)
        assert minted.returncode == 0, minted.stderr
        tokens[made.json()["user_id"]] = minted.stdout.strip()
    assert http("PUT", f"/accounts/{account_id}/routing", {"offer_timeout_seconds": 3}).status_code == 200

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
    assert moved_at is not None, stack.output()[-3000:]
    assert moved_at <= deadline, f"timed out {moved_at - expires:.2f} s after expiry"
    (second_agent, _), = live()
    assert second_agent != first_agent
    lead_now = http("GET", f"/leads/{lead.json()['lead_id']}").json()
    assert lead_now["routing_state"] == "offered"
