"""A person in two groups (docs/people.md): the shell shows the current group's name with a
switcher; switching makes every later request act in the other group (X-Leadline-Group), reloads
the screen's data, is remembered for the tab's session, and a remembered group the person has left
falls back to their first group. axe-core with the switcher open; keyboard use at phone width."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Api, Demo, check_accessibility, no_page_errors
from tests.e2e.conftest import cli

SECOND = "Lakeside Motor Group"
SECOND_STORE = "Lakeside Motors"
WEEKDAYS = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


@dataclass
class SecondGroup:
    group_id: str
    admin: Api  # the second group's admin
    membership: dict[str, Any]  # the demo manager's record in it


@pytest.fixture
def second_group(demo: Demo) -> Iterator[SecondGroup]:
    """A second group (bootstrapped through the CLI) with one sales store, where its admin has
    invited the demo manager's address as a manager of that store."""
    done = cli(demo.home, "bootstrap", "--group", SECOND, "--email", f"owner-{uuid.uuid4().hex[:8]}@lakeside.example",
               "--name", "Lee Owner")
    assert done.returncode == 0, done.stderr
    boot = json.loads(done.stdout)
    admin = Api(demo.url, boot["token"])
    store = admin.call("POST", "/accounts", {"name": SECOND_STORE, "timezone": "America/Chicago",
                                             "business_hours": WEEKDAYS}, expect=201)
    member = admin.call("POST", "/users", {"email": demo.info["manager_email"], "name": "Morgan Lee",
                                           "role": "manager", "account_ids": [store["account_id"]]}, expect=201)
    yield SecondGroup(group_id=boot["group_id"], admin=admin, membership=member)
    # The other browser tests see the demo manager in one group again (gone already: 404).
    admin.call("DELETE", f"/users/{member['user_id']}")


def first_group_stores(demo: Demo) -> tuple[str, list[str]]:
    api = demo.api(demo.info["manager_email"])
    me = api.get("/me")
    sales = [a["name"] for a in api.get("/accounts?limit=200")["items"] if a["kind"] == "sales"]
    return me["groups"][0]["group_name"], sales


def overview_shows(page: Any, stores: list[str], absent: list[str]) -> None:
    table = page.get_by_role("table")
    for name in stores:
        table.get_by_role("link", name=name).wait_for()
    for name in absent:
        assert table.get_by_role("link", name=name).count() == 0, f"{name} is shown in the wrong group"


def test_switching_groups_acts_in_the_other_group_and_is_remembered(
        demo: Demo, open_as: Any, second_group: SecondGroup) -> None:
    first_name, first_stores = first_group_stores(demo)
    page = open_as(demo.info["manager_email"])
    page.get_by_role("heading", name="Group overview").wait_for()
    overview_shows(page, first_stores, [SECOND_STORE])

    toggle = page.get_by_role("button", name=re.compile("^Group: "))
    page.get_by_role("button", name=f"Group: {first_name}").wait_for()
    toggle.click()
    switcher = page.get_by_role("region", name="Switch group")
    switcher.get_by_role("button", name=re.compile(SECOND)).wait_for()
    check_accessibility(page, "the group switcher, open")

    with page.expect_request(lambda r: "/reports/overview" in r.url) as asked:
        switcher.get_by_role("button", name=re.compile(SECOND)).click()
    assert asked.value.headers.get("x-leadline-group") == second_group.group_id
    overview_shows(page, [SECOND_STORE], first_stores)
    page.get_by_role("button", name=f"Group: {SECOND}").wait_for()

    # Remembered for the tab's session: a reload stays in the second group.
    page.reload()
    overview_shows(page, [SECOND_STORE], first_stores)

    toggle.click()
    switcher.get_by_role("button", name=re.compile(first_name)).click()
    overview_shows(page, first_stores, [SECOND_STORE])

    # A remembered group the person has since left: the console falls back to their first group
    # (still signed in), and with one group left there is nothing to switch.
    toggle.click()
    switcher.get_by_role("button", name=re.compile(SECOND)).click()
    overview_shows(page, [SECOND_STORE], first_stores)
    second_group.admin.call("DELETE", f"/users/{second_group.membership['user_id']}", expect=204)
    page.reload()
    overview_shows(page, first_stores, [SECOND_STORE])
    page.wait_for_load_state("networkidle")  # GET /me has answered: one group, nothing to switch
    assert toggle.count() == 0
    no_page_errors(page)


def test_the_switcher_by_keyboard_at_phone_width(demo: Demo, open_as: Any, second_group: SecondGroup) -> None:
    first_name, first_stores = first_group_stores(demo)
    page = open_as(demo.info["manager_email"], PHONE)
    page.get_by_role("heading", name="Group overview").wait_for()
    toggle = page.get_by_role("button", name=re.compile("^Group: "))
    toggle.wait_for()  # visible at phone width

    toggle.focus()
    page.keyboard.press("Enter")
    switcher = page.get_by_role("region", name="Switch group")
    expect(switcher.get_by_role("button", name=re.compile(first_name))).to_be_focused()  # the current group
    page.keyboard.press("Escape")
    expect(switcher).to_have_count(0)
    expect(toggle).to_be_focused()  # Escape returns focus to the switcher

    page.keyboard.press("Enter")
    expect(switcher.get_by_role("button", name=re.compile(first_name))).to_be_focused()
    page.keyboard.press("Tab")
    expect(switcher.get_by_role("button", name=re.compile(SECOND))).to_be_focused()
    page.keyboard.press("Enter")
    overview_shows(page, [SECOND_STORE], first_stores)
    no_page_errors(page)
