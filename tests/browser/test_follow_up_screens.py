"""The follow-up screens: a store's response targets (the API's field errors shown beside the
fields), a lead's due time in the `due` folder, its queue row and the sidebar; the notification
centre's alert with its kind, title and body and the lead it links to; cadences made, refused,
changed and deleted in settings; a lead put on a cadence, answered as its assistant and taken off
it; the assistant report. axe-core on each screen."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Demo, check_accessibility, no_page_errors
from tests.browser.test_agent import eventually
from tests.browser.test_lead_channels import wider_than_the_screen

OWNER = "owner@northwind-auto.com"
ERIN = "erin.walsh@northwind-auto.com"


def test_response_targets_and_a_lead_due(demo: Demo, open_as: Any) -> None:
    phoenix = demo.info["account_ids"][2]
    admin = open_as(OWNER)
    admin.goto(f"{demo.url}/#/settings/targets?account_id={phoenix}")
    form = admin.locator("form[aria-label='Response targets']")
    form.wait_for()
    admin.get_by_label("First response (seconds)").fill("600")
    admin.get_by_label("Reply to the customer (seconds)").fill("900")
    admin.get_by_label("Warn the owner before (seconds)").fill("1200")  # after the deadline: refused
    admin.get_by_role("button", name="Save targets").click()
    refused = form.locator(".field.invalid", has_text="Warn the owner before")
    refused.locator(".field-error").wait_for()
    check_accessibility(admin, "settings/targets with a refused field")
    admin.get_by_label("Warn the owner before (seconds)").fill("120")
    admin.get_by_role("button", name="Save targets").click()
    admin.get_by_role("status").filter(has_text="Saved").wait_for()
    manager = demo.api(demo.info["manager_email"])
    saved = manager.get(f"/accounts/{phoenix}/response-targets")
    assert (saved["enabled"], saved["first_response_seconds"], saved["warn_before_seconds"]) == (True, 600, 120)
    no_page_errors(admin)

    # A lead Erin takes now must be answered within 10 minutes.
    erin = demo.info["agent_ids"][4]
    lead = manager.call("POST", f"/accounts/{phoenix}/leads", {
        "first_name": "Rosa", "last_name": "Vega", "email": "rosa.vega@example.com", "source": "Website",
        "channel": "web", "message": "Brakes squeal, can you look this week?"}, expect=201)
    manager.call("POST", f"/leads/{lead['lead_id']}/assign", {"user_id": erin}, expect=200)
    due = manager.get(f"/leads/{lead['lead_id']}")
    assert due["response_state"] == "on_time" and due["response_due_at"]

    page = open_as(ERIN)
    page.goto(f"{demo.url}/#/inbox?folder=due")
    row = page.locator(".row-item", has_text="Rosa Vega")
    row.locator(".due.due-on_time", has_text="reply due in").wait_for()
    check_accessibility(page, "inbox/due")

    # The alert of the assignment: its kind, title and body, and the lead it opens.
    page.get_by_role("button", name="Notifications").click()
    alert = page.locator("#notification-list li", has_text="Rosa Vega").first
    alert.locator(".note-kind", has_text="Assigned to you").wait_for()
    assert alert.locator(".note-body").inner_text().strip()
    check_accessibility(page, "notification centre")
    # The same disclosure as the group switcher (ui/popover.tsx): Escape closes it onto the bell.
    page.keyboard.press("Escape")
    expect(page.locator("#notification-list")).to_have_count(0)
    expect(page.get_by_role("button", name="Notifications")).to_be_focused()
    page.get_by_role("button", name="Notifications").click()
    alert.get_by_role("button").click()
    page.get_by_role("heading", name="Rosa Vega").wait_for()
    page.locator(".sidebar .due", has_text="reply due in").wait_for()
    no_page_errors(page)


def test_cadences_in_settings_and_on_a_lead(demo: Demo, open_as: Any) -> None:
    boston = demo.info["account_ids"][0]
    page = open_as(demo.info["manager_email"])  # managers change cadences (settings shows them their tabs)
    page.goto(f"{demo.url}/#/settings/cadences?account_id={boston}")
    page.get_by_role("button", name="Add a cadence").click()
    form = page.locator("form[aria-label='New cadence']")
    form.get_by_label("Name", exact=True).fill("Trade-in follow-up")
    form.get_by_label("Assistant's name").fill("Riley")
    form.get_by_label("Step 1: wait (seconds)").fill("-5")
    form.get_by_role("button", name="Add cadence").click()
    form.locator(".field.invalid", has_text="Step 1: wait").locator(".field-error").wait_for()
    form.get_by_label("Step 1: wait (seconds)").fill("3600")
    form.get_by_role("button", name="Add a step").click()
    form.get_by_label("message").nth(1).fill("{{lead.first_name}}, still thinking about the trade-in?")
    form.get_by_role("button", name="Add cadence").click()
    page.get_by_role("button", name="Edit cadence Trade-in follow-up").wait_for()
    manager = demo.api(demo.info["manager_email"])
    [made] = [c for c in manager.get(f"/accounts/{boston}/cadences")["items"] if c["name"] == "Trade-in follow-up"]
    assert [s["after_seconds"] for s in made["steps"]] == [3600, 86400]
    check_accessibility(page, "settings/cadences")

    # Put a lead on it, answer as its assistant, take it off.
    lead = manager.call("POST", f"/accounts/{boston}/leads", {
        "first_name": "Casey", "last_name": "Nguyen", "email": "casey.nguyen@example.com", "source": "Walk-in",
        "channel": "web", "message": "What would you give me for my 2019 Corolla?"}, expect=201)
    page.goto(f"{demo.url}/#/leads/{lead['lead_id']}")
    page.get_by_role("heading", name="Casey Nguyen").wait_for()
    page.get_by_role("button", name="Assign cadence").or_(page.get_by_role("button", name="Change cadence")).click()
    page.get_by_label("Cadence", exact=True).select_option(made["cadence_id"])
    page.locator("dialog").get_by_role("button", name="Assign cadence").click()
    panel = page.locator("section[aria-labelledby=assistant-h]")
    panel.get_by_text("Trade-in follow-up").wait_for()
    page.get_by_label("Reply as Riley").check()
    page.get_by_label("Message to the customer").fill("Hi Casey, we can appraise it on Saturday.")
    page.get_by_role("button", name="Send", exact=True).click()
    page.locator(".bubble-msg.staff", has_text="as Riley").wait_for()
    timeline = manager.get(f"/leads/{lead['lead_id']}/timeline")["items"]
    [reply] = [e for e in timeline if e["type"] == "message" and e.get("body", "").startswith("Hi Casey, we can")]
    assert reply["sent_as"] == "Riley"
    check_accessibility(page, "conversation with a cadence")
    actions = page.locator("section[aria-labelledby=actions-h]")
    actions.get_by_role("button", name="Skip to follow-up").click()
    actions.get_by_role("status").filter(has_text="Moved to follow-up").wait_for()
    moved = manager.get(f"/leads/{lead['lead_id']}")
    assert (moved["status"], moved["cadence"]["next_step"]) == ("follow_up", 1)
    actions.get_by_role("button", name="Stop messaging").click()
    panel.get_by_text("stopped by staff").wait_for()
    actions.get_by_role("button", name="Resume messaging").click()
    panel.locator(".enrolment-active").wait_for()
    panel.get_by_role("button", name="Remove from cadence").click()
    panel.get_by_text("removed").wait_for()
    assert manager.get(f"/leads/{lead['lead_id']}")["cadence"]["stop_reason"] == "removed"

    # The assistant report (once the report has the enrolment), then the cadence deleted.
    enrolled = eventually(lambda: [c for c in manager.get(f"/reports/assistant?account_id={boston}")["by_cadence"]
                                   if c["cadence_id"] == made["cadence_id"]], 15)
    assert enrolled and enrolled[0]["enrolled"] == 1
    page.goto(f"{demo.url}/#/assistant?account_id={boston}")
    page.get_by_role("heading", name="Assistant").wait_for()
    page.get_by_role("table").get_by_role("rowheader", name="Trade-in follow-up").wait_for()
    check_accessibility(page, "assistant report")
    page.goto(f"{demo.url}/#/settings/cadences?account_id={boston}")
    page.get_by_role("button", name="Edit cadence Trade-in follow-up").click()
    page.once("dialog", lambda dialog: dialog.accept())
    opened = page.locator("form[aria-label='Cadence Trade-in follow-up']")
    opened.get_by_role("button", name="Delete").click()
    opened.wait_for(state="detached")  # the list reloaded without it
    assert page.get_by_role("button", name="Edit cadence New lead welcome").is_visible()
    assert "Trade-in follow-up" not in {c["name"] for c in manager.get(f"/accounts/{boston}/cadences")["items"]}
    no_page_errors(page)


def test_new_screens_on_a_phone(demo: Demo, open_as: Any) -> None:
    page = open_as(OWNER, PHONE)
    for tab, ready in (("settings/targets", "form[aria-label='Response targets']"), ("settings/cadences", ".cards"),
                       ("assistant", "table, .empty"), ("inbox?folder=due", ".rows, .empty")):
        page.goto(f"{demo.url}/#/{tab}")
        page.locator(ready).first.wait_for()
        assert not (wide := wider_than_the_screen(page)), f"{tab}: " + "\n".join(wide)
        check_accessibility(page, f"{tab} on a phone")
    no_page_errors(page)
