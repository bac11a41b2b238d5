"""An agent's work in the console, beside a manager in another browser context: an offer appears
live, is accepted, answered with a saved reply and delivered through the sandbox sender; the
lead's lock is held while it is open; a restricted agent never sees a colleague's leads."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.browser.conftest import LIVE_TIMEOUT_MS, Demo, check_accessibility, no_page_errors

BOSTON_AGENTS = ("ava.chen@northwind-auto.com", "ben.ortiz@northwind-auto.com")
# Numbers whose area has one zone: the sandbox sends at once only between 08:00 and 21:00 where the
# customer is (quiet hours), so the lead gets the number whose local time is nearest mid-afternoon.
DAYTIME_NUMBERS = {"Australia/Sydney": "+61298765432", "Europe/London": "+442079460958",
                   "America/New_York": "+16175550190", "Pacific/Honolulu": "+18085550123"}


def number_in_daytime(now: datetime) -> str:
    def distance(zone: str) -> float:
        local = now.astimezone(ZoneInfo(zone))
        return abs(local.hour + local.minute / 60 - 14.5)

    return DAYTIME_NUMBERS[min(DAYTIME_NUMBERS, key=distance)]


def eventually(probe: Any, seconds: float = 5) -> Any:
    """probe()'s first truthy answer within `seconds` (else its last answer)."""
    deadline = time.monotonic() + seconds
    while True:
        answer = probe()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def test_offer_appears_live_is_accepted_and_answered(demo: Demo, open_as: Any) -> None:
    boston = demo.info["account_ids"][0]
    owner = demo.api("owner@northwind-auto.com")
    owner.call("POST", f"/accounts/{boston}/saved-replies", {
        "title": "Thanks for asking",
        "body": "Hi {{lead.first_name}}, this is {{agent.name}} at {{account.name}}. When can you come by?"},
        expect=201)
    # Ben steps away, so routing offers the next lead to Ava.
    demo.api(BOSTON_AGENTS[1]).call("PATCH", "/me", {"available": False}, expect=200)

    watcher = open_as(demo.info["manager_email"])  # a manager watches the Boston inbox meanwhile
    watcher.goto(f"{demo.url}/#/inbox?account_id={boston}")
    watcher.locator(".rows .row-item").first.wait_for()
    agent = open_as(BOSTON_AGENTS[0])
    agent.get_by_role("link", name="Inbox").first.wait_for()
    agent.wait_for_timeout(500)  # the first live poll has run: what comes next is new
    manager = demo.api(demo.info["manager_email"])
    lead = manager.call("POST", f"/accounts/{boston}/leads", {
        "first_name": "Taylor", "last_name": "Brooks", "phone": number_in_daytime(datetime.now(UTC)),
        "source": "Dealer website", "channel": "web", "message": "Can I test drive the Camry on Saturday?",
        "vehicle": {"year": 2026, "make": "Toyota", "model": "Camry"}}, expect=201)

    began = time.monotonic()
    accept = agent.get_by_role("button", name="Accept Taylor Brooks")
    accept.wait_for(timeout=LIVE_TIMEOUT_MS)
    assert time.monotonic() - began <= LIVE_TIMEOUT_MS / 1000
    assert agent.get_by_role("timer").first.is_visible()
    check_accessibility(agent, "offers")
    accept.click()

    agent.get_by_role("heading", name="Taylor Brooks").wait_for()
    assert f"#/leads/{lead['lead_id']}" in agent.url
    assert eventually(lambda: manager.get(f"/leads/{lead['lead_id']}")["locked_by"]) == demo.info["agent_ids"][0]
    # The manager's inbox shows the new lead, and that Ava has it open, without a reload.
    watched = watcher.locator(".row-item", has_text="Taylor Brooks")
    watched.get_by_role("img", name="Open by Ava Chen").wait_for(timeout=LIVE_TIMEOUT_MS)

    agent.get_by_label("Saved reply").select_option(label="Thanks for asking")
    agent.get_by_role("button", name="Send", exact=True).click()
    sent = agent.locator(".bubble-msg.staff", has_text="Hi Taylor, this is Ava Chen at Northwind Toyota Boston")
    sent.wait_for()
    sent.locator(".delivery.delivered").wait_for(timeout=15_000)
    check_accessibility(agent, "conversation")

    # Ava's own message (the store's new-lead cadence sends its automated first touch too).
    messages = [e for e in manager.get(f"/leads/{lead['lead_id']}/timeline")["items"]
                if e["type"] == "message" and e["direction"] == "outbound" and not e.get("automated")]
    assert [m["status"] for m in messages] == ["delivered"]
    assert messages[0]["body"].startswith("Hi Taylor, this is Ava Chen")

    agent.get_by_role("link", name="Back to the inbox").click()
    agent.locator(".rows .row-item").first.wait_for()
    assert eventually(lambda: manager.get(f"/leads/{lead['lead_id']}")["locked_by"] is None)
    no_page_errors(agent)


def test_restricted_agent_sees_only_their_own_leads(demo: Demo, open_as: Any) -> None:
    denver = demo.info["account_ids"][1]
    carla, dev = demo.info["agent_ids"][2], demo.info["agent_ids"][3]
    manager = demo.api(demo.info["manager_email"])
    leads = [lead for lead in manager.get(f"/leads?account_id={denver}")["items"]]
    assert len(leads) >= 2
    theirs, mine = leads[0], leads[1]
    manager.call("POST", f"/leads/{theirs['lead_id']}/assign", {"user_id": carla}, expect=200)
    manager.call("POST", f"/leads/{mine['lead_id']}/assign", {"user_id": dev}, expect=200)

    page = open_as("dev.patel@northwind-auto.com")
    page.locator(".rows .row-item").first.wait_for()
    page.wait_for_timeout(300)
    names = page.locator(".rows .name").all_inner_texts()
    assert mine["name"] in names and theirs["name"] not in names
    own = {lead["lead_id"] for lead in demo.api("dev.patel@northwind-auto.com").get("/leads")["items"]}
    assert theirs["lead_id"] not in own
    check_accessibility(page, "restricted inbox")

    page.goto(f"{demo.url}/#/leads/{theirs['lead_id']}")
    page.get_by_role("alert").wait_for()
    assert "not found" in page.get_by_role("alert").inner_text().lower()
    assert page.locator(".timeline").count() == 0
