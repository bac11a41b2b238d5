"""Follow-through on the local stack, over real HTTP with the real clock: a store with a 30-second
first-response target (warning 10 s before, `reoffer`); nobody answers one lead — its owner gets the
warning, the store's manager the miss, and the lead is offered to the next agent, each within 2 s of
its due time (the server's own timestamps); the other lead is answered at once and gets neither."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from chalicelib.clock import parse_time
from tests.e2e.conftest import cli, routed_store

pytestmark = pytest.mark.e2e

LATE_LIMIT = 2.0


def until(at: float) -> None:
    """Wait for the wall clock to reach `at` (a due time the server set), not a fixed time."""
    while (left := at - time.time()) > 0:
        time.sleep(min(left, 0.5))


def test_a_missed_target_warns_tells_the_manager_and_reoffers_on_time(stack_factory: Any) -> None:
    stack = stack_factory().start()
    store = routed_store(stack, "tide-motors.com", 600)
    http, account_id, agents = store.http, store.account_id, store.agents
    manager = http("POST", "/users", {"email": "max@tide-motors.com", "name": "Max", "role": "manager",
                                      "account_ids": [account_id]})
    assert manager.status_code == 201, manager.text
    minted = cli(stack.home, "token", "--email", "max@tide-motors.com")
    assert minted.returncode == 0, minted.stderr
    manager_token = minted.stdout.strip()
    targets = http("PUT", f"/accounts/{account_id}/response-targets", {
        "first_response_seconds": 30, "reply_seconds": 30, "warn_before_seconds": 10, "on_miss": "reoffer"})
    assert targets.status_code == 200, targets.text

    def take_offer() -> tuple[str, dict[str, Any]]:
        limit = time.time() + 30
        while time.time() < limit:
            found = [(uid, o) for uid, token in agents.items()
                     for o in http("GET", "/me/offers", token=token).json()["items"]]
            if found:
                return found[0]
            time.sleep(0.1)
        raise AssertionError("no offer: " + stack.logs()[-3000:])

    def owned_lead(name: str) -> tuple[str, str]:
        made = http("POST", f"/accounts/{account_id}/leads",
                    {"first_name": name, "email": f"{name.lower()}@buyer-mail.com", "source": "Web", "channel": "web"})
        assert made.status_code == 201, made.text
        owner, offer = take_offer()
        accepted = http("POST", f"/offers/{offer['offer_id']}/accept", token=agents[owner])
        assert accepted.status_code == 200, accepted.text
        return made.json()["lead_id"], owner

    missed_id, owner = owned_lead("Nia")
    answered_id, answerer = owned_lead("Ola")
    answered_due = time.time() + 30
    assert http("POST", f"/leads/{answered_id}/responded", token=agents[answerer]).status_code == 200
    view = http("GET", f"/leads/{missed_id}").json()
    assert view["response_state"] == "on_time", view
    due = parse_time(view["response_due_at"]).timestamp()
    warn = due - 10

    def alerts(token: str, kind: str) -> list[dict[str, Any]]:
        items = http("GET", "/me/notifications", token=token).json()["items"]
        return [n for n in items if n["kind"] == kind]

    def next_offer() -> dict[str, Any] | None:
        for uid, token in agents.items():
            for offer in http("GET", "/me/offers", token=token).json()["items"]:
                if offer["lead_id"] == missed_id and uid != owner:
                    return dict(offer)
        return None

    warning: list[dict[str, Any]] = []
    missed: list[dict[str, Any]] = []
    offer: dict[str, Any] | None = None
    # Ask only from shortly before each due time: the stack's API and its timer consumers share one
    # process, so polling through the 20 s before the warning would only slow the timers it measures.
    # Lateness is read from the server's own timestamps, never from when this loop saw them.
    until(warn - 0.5)
    while time.time() < due + 30 and not (warning and missed and offer):
        warning = warning or [n for n in alerts(agents[owner], "target_warning") if n["lead_id"] == missed_id]
        if warning and time.time() < due - 0.5:
            until(due - 0.5)
            continue
        missed = missed or [n for n in alerts(manager_token, "target_missed") if n["lead_id"] == missed_id]
        offer = offer or next_offer()
        time.sleep(0.25)
    assert warning and missed and offer, json.dumps([warning, missed, offer]) + stack.logs()[-3000:]
    lateness = {"warning": parse_time(warning[0]["at"]).timestamp() - warn,
                "missed": parse_time(missed[0]["at"]).timestamp() - due,
                "reoffered": parse_time(offer["made_at"]).timestamp() - due}
    assert all(0 <= late <= LATE_LIMIT for late in lateness.values()), lateness
    assert "Nia" in warning[0]["title"] and "Time left" in warning[0]["body"]
    assert [n["lead_id"] for n in alerts(agents[owner], "reoffered")] == [missed_id]
    timeline = http("GET", f"/leads/{missed_id}/timeline").json()["items"]
    assert [e["reason"] for e in timeline if e["type"] == "reassigned"] == ["target_missed"]
    # The answered lead: past its own due time, neither a warning nor a miss, and no deadline left.
    until(answered_due + LATE_LIMIT + 1)
    answered = http("GET", f"/leads/{answered_id}").json()
    assert (answered["response_due_at"], answered["response_state"]) == (None, None)
    for token, kind in ((agents[answerer], "target_warning"), (manager_token, "target_missed")):
        assert answered_id not in [n["lead_id"] for n in alerts(token, kind)]
