"""A manager's day in the console: the group overview with every store, a store's dashboard and
its CSV, the inbox across stores and its filters; axe-core on every manager screen."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.browser.conftest import Demo, check_accessibility, no_page_errors


def stores_by_kind(demo: Demo) -> dict[str, list[dict[str, Any]]]:
    api = demo.api(demo.info["manager_email"])
    accounts = api.get("/accounts?limit=200")["items"]
    return {kind: [a for a in accounts if a["kind"] == kind] for kind in ("sales", "service")}


def test_overview_dashboard_and_csv(demo: Demo, open_as: Any) -> None:
    page = open_as(demo.info["manager_email"])
    stores = stores_by_kind(demo)
    page.get_by_role("heading", name="Group overview").wait_for()
    table = page.get_by_role("table")
    for store in stores["sales"]:
        table.get_by_role("link", name=store["name"]).wait_for()
    check_accessibility(page, "overview")

    page.get_by_label("Service").check()
    for store in stores["service"]:
        page.get_by_role("table").get_by_role("link", name=store["name"]).wait_for()

    store = stores["service"][0]
    page.get_by_role("table").get_by_role("link", name=store["name"]).click()
    page.get_by_role("heading", name=f"Dashboard: {store['name']}").wait_for()
    page.locator(".agents, .empty").first.wait_for()
    assert f"account_id={store['account_id']}" in page.url
    check_accessibility(page, "dashboard")

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8") as got:
        rows = list(csv.reader(io.StringIO(got.read())))
    assert rows and rows[0], "the CSV is empty"
    expected = demo.api(demo.info["manager_email"]).call("GET", f"/reports/dashboard?account_id={store['account_id']}")
    assert str(expected["leads"]) in {cell for row in rows for cell in row}

    agent = page.locator(".agent-name").first
    if agent.count():
        agent.click()
        page.locator(".agent-detail").wait_for()
    no_page_errors(page)


def test_inbox_across_stores_and_its_filters(demo: Demo, open_as: Any) -> None:
    page = open_as(demo.info["manager_email"])
    api = demo.api(demo.info["manager_email"])
    every = api.get("/leads?limit=200")["items"]
    assert {lead["account_id"] for lead in every} == set(demo.info["account_ids"])

    page.get_by_role("link", name="Inbox").first.click()
    rows = page.locator(".rows .row-item")
    rows.first.wait_for()
    assert rows.count() == len(every)
    check_accessibility(page, "inbox")

    boston = demo.info["account_ids"][0]
    page.get_by_label("Store").select_option(boston)
    wanted = {lead["name"] for lead in every if lead["account_id"] == boston}
    page.wait_for_function("n => document.querySelectorAll('.rows .row-item').length === n", arg=len(wanted))
    assert set(page.locator(".rows .name").all_inner_texts()) == wanted

    first = sorted(wanted)[0]
    page.get_by_label("Search").fill(first.split()[0])
    page.get_by_role("button", name="Search").click()
    page.wait_for_function("n => document.querySelectorAll('.rows .row-item').length === n", arg=1)
    assert page.locator(".rows .name").all_inner_texts() == [first]

    page.get_by_role("link", name="Sold").click()
    page.locator(".empty").wait_for()
    assert "folder=sold" in page.url and f"account_id={boston}" in page.url
    no_page_errors(page)


def test_reports_and_settings_pass_axe(demo: Demo, open_as: Any) -> None:
    page = open_as(demo.info["manager_email"])
    reports = (("response-time", "Response time"), ("lead-sources", "Lead sources"), ("files", "Nightly files"))
    for path, heading in reports:
        page.goto(f"{demo.url}/#/{path}")
        page.get_by_role("heading", name=heading).wait_for()
        page.locator("table, .empty").first.wait_for()
        check_accessibility(page, path)
    admin = open_as("owner@northwind-auto.com")
    for tab, ready in (("stores", "form.store-form"), ("routing", "form[aria-label=Routing]"),
                       ("replies", "form[aria-label='New saved reply']"), ("users", "table")):
        admin.goto(f"{demo.url}/#/settings/{tab}")
        admin.locator(ready).wait_for()
        check_accessibility(admin, f"settings/{tab}")
    no_page_errors(page)
    no_page_errors(admin)
