"""`make screenshots`: every main screen of the console, desktop and phone, into docs/console/.

Starts its own demo stack (the console must be built), gives the demo a little life through the
API (response targets, an accepted offer, a saved reply and an email sent, a note, a logged call, an
appointment), then photographs each screen
as the person who uses it. Run: python -m tests.browser.screenshots docs/console"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.browser.conftest import CHROMIUM_ARGS, DESKTOP, FULL_DEMO_START_TIMEOUT, PHONE, Demo, chromium_path
from tests.e2e.conftest import StackProcess, free_port

AGENT = "ava.chen@northwind-auto.com"
OWNER = "owner@northwind-auto.com"


def liven(demo: Demo) -> str:
    """Some work on the demo's leads, so the screens show what a working day looks like; returns
    the lead the conversation screenshots open."""
    boston = demo.info["account_ids"][0]
    owner, agent = demo.api(OWNER), demo.api(AGENT)
    owner.call("PATCH", f"/accounts/{boston}", {
        "campaign_notes": "Black Friday: $500 off every in-stock RAV4 until Sunday. Mention the free first service.",
        "directions_url": "https://maps.example.com/northwind-boston", "crm_email": "crm@northwind-auto.com"},
        expect=200)
    reply = owner.call("POST", f"/accounts/{boston}/saved-replies", {
        "title": "Thanks for asking",
        "body": "Hi {{lead.first_name}}, this is {{agent.name}} at {{account.name}}. When can you come by?"},
        expect=201)
    owner.call("POST", f"/accounts/{boston}/saved-replies", {
        "title": "Trade-in", "body": "We take trade-ins of any make; bring the title and both keys."}, expect=201)
    owner.call("PUT", f"/accounts/{boston}/response-targets", {
        "first_response_seconds": 900, "reply_seconds": 1800, "warn_before_seconds": 300}, expect=200)
    offers = agent.get("/me/offers")["items"]
    lead_id = offers[0]["lead_id"] if offers else agent.get("/leads")["items"][0]["lead_id"]
    for offer in offers:
        agent.call("POST", f"/offers/{offer['offer_id']}/accept", expect=200)
    agent.call("POST", f"/leads/{lead_id}/messages", {"saved_reply_id": reply["saved_reply_id"]}, expect=202)
    agent.call("POST", f"/leads/{lead_id}/notes", {"text": "Wants the blue one; trade-in is a 2017 Corolla."},
               expect=201)
    at = (datetime.now(UTC) + timedelta(days=2)).replace(hour=15, minute=0, second=0, microsecond=0)
    agent.call("POST", f"/leads/{lead_id}/appointments", {"at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                                         "note": "Test drive"}, expect=201)
    agent.call("POST", f"/leads/{lead_id}/activities", {"kind": "call", "note": "Left a voicemail about the RAV4."},
               expect=201)
    if agent.get(f"/leads/{lead_id}").get("email"):
        agent.call("POST", f"/leads/{lead_id}/messages", {
            "channel": "email", "subject": "Your RAV4 quote",
            "body": "Hi, the quote for the blue RAV4 XLE is attached to this email. See you Saturday!"}, expect=202)
    agent.call("PATCH", f"/leads/{lead_id}", {"status": "hot"}, expect=200)
    agent.call("POST", f"/leads/{lead_id}/labels", {"label": "trade-in"}, expect=200)
    return lead_id


def shoot(demo: Demo, out: Path, lead_id: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    manager = demo.info["manager_email"]
    boston = demo.info["account_ids"][0]
    shots: list[tuple[str, str | None, str, Callable[[Any], None] | None]] = [
        ("sign-in", None, "/", None),
        ("inbox", AGENT, "/inbox", lambda p: p.locator(".rows .row-item").first.wait_for()),
        ("conversation", AGENT, f"/leads/{lead_id}", lambda p: p.locator(".bubble-msg.staff").first.wait_for()),
        ("overview", manager, "/overview", lambda p: p.get_by_role("table").wait_for()),
        ("dashboard", manager, f"/dashboard?account_id={boston}", lambda p: p.locator(".agents").wait_for()),
        ("response-time", manager, "/response-time", lambda p: p.locator(".chart canvas").wait_for()),
        ("lead-sources", manager, "/lead-sources", lambda p: p.get_by_role("table").wait_for()),
        ("assistant", manager, "/assistant", lambda p: p.locator("table, .empty").first.wait_for()),
        ("settings-targets", OWNER, f"/settings/targets?account_id={boston}",
         lambda p: p.locator("form[aria-label='Response targets']").wait_for()),
        ("settings-cadences", manager, f"/settings/cadences?account_id={boston}",
         lambda p: p.get_by_role("button", name="Add a cadence").wait_for()),
        ("settings-stores", OWNER, f"/settings/stores?account_id={demo.info['account_ids'][1]}",
         lambda p: p.locator("form.store-form").wait_for()),
    ]
    written: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        for size_name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            for name, email, route, ready in shots:
                context = browser.new_context(viewport=viewport, device_scale_factor=1)
                page = context.new_page()
                page.goto(f"{demo.url}/#{route}")
                page.get_by_label("Email").wait_for()
                if email:
                    page.get_by_label("Email").fill(email)
                    page.get_by_label("Password").fill(demo.password)
                    page.get_by_role("button", name="Sign in").click()
                    page.locator("header.topbar").wait_for()
                if ready:
                    ready(page)
                page.wait_for_timeout(400)
                path = out / f"{name}-{size_name}.png"
                page.screenshot(path=str(path), full_page=size_name == "desktop")
                written.append(path)
                context.close()
        browser.close()
    return written


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/console").resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="leadline-shots-") as home:
        stack = StackProcess(home=Path(home), port=free_port(), aws_port=free_port(), demo=True,
                             start_timeout=FULL_DEMO_START_TIMEOUT).start()
        try:
            info = json.loads((Path(home) / "stack.json").read_text())["demo"]
            demo = Demo(url=stack.url, password=(Path(home) / "password").read_text().strip(), info=info,
                        home=Path(home))
            lead_id = liven(demo)
            for path in shoot(demo, out, lead_id):
                print(path)
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
