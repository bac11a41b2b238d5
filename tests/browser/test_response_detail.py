"""The leads behind the response-time report (GET /reports/response-time/leads): all of the
period's under the report, an agent's once their row is picked, the CSV of them; the dashboard's
response figures (targets met, an agent's median first response). axe-core on both."""

from __future__ import annotations

import csv
from typing import Any

from tests.browser.conftest import Demo, check_accessibility, no_page_errors


def test_response_time_detail_rows_and_dashboard_figures(demo: Demo, open_as: Any) -> None:
    manager = demo.api(demo.info["manager_email"])
    page = open_as(demo.info["manager_email"])
    page.goto(f"{demo.url}/#/response-time?group_by=agent")
    detail = page.locator("section[aria-labelledby=response-leads-h]")
    detail.get_by_role("heading", name="Leads of the period").wait_for()
    every = manager.get("/reports/response-time/leads?limit=50")["items"]
    assert every, "the period has leads"
    rows = detail.locator("tbody tr")
    page.wait_for_function("n => document.querySelectorAll('.response-leads tbody tr').length === n", arg=len(every))
    assert rows.first.locator("th").inner_text().startswith(every[0]["name"] or "(removed)")
    check_accessibility(page, "response time with its leads")

    report = manager.get("/reports/response-time?group_by=agent")
    row = next(r for r in report["items"] if r["key"] != "unassigned")
    page.get_by_role("table").first.get_by_role("link", name=row["label"] or row["key"]).click()
    detail.get_by_role("heading", name=f"Leads of {row['label']}").or_(
        detail.get_by_role("heading", name="Leads of you")).wait_for()
    theirs = manager.get(f"/reports/response-time/leads?agent={row['key']}&limit=50")["items"]
    page.wait_for_function("n => document.querySelectorAll('.response-leads tbody tr').length === n",
                           arg=max(len(theirs), 1))  # none: one "No leads." row
    assert f"detail={row['key']}" in page.url

    with page.expect_download() as got:
        detail.get_by_role("button", name="Download CSV").click()
    with open(got.value.path(), encoding="utf-8") as lines:
        table = list(csv.reader(lines))
    assert len(table) == len(theirs) + 1, "a header and a line per lead"
    no_page_errors(page)

    page.goto(f"{demo.url}/#/dashboard?account_id={demo.info['account_ids'][0]}")
    page.locator(".stat", has_text="Response targets met").wait_for()
    agent = page.locator(".agent-name").first
    if agent.count():
        agent.click()
        page.locator(".agent-detail dt", has_text="first response (median)").wait_for()
    check_accessibility(page, "dashboard with response figures")
    no_page_errors(page)
