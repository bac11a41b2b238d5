"""The demo group the local stack seeds into an empty store: three stores in three time
zones, a group admin, a manager, agents, routing, 90 days of history, one new-lead cadence per
store (the assistant) and a few leads of today.

The group and its first admin are made with the bootstrap service (as `leadline bootstrap`
does); the history is lived through the services with the clock stepped (demo_history.py);
everything else goes through the running HTTP API, the same way a user would make it. Later
parts of the product may not exist yet in a given checkout, so each step checks that its route
is served and is skipped (and said so) when it is not; a failing step is logged and the next
one still runs."""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

import requests
from chalice import Chalice

from chalicelib.adapters.dynamodb.table import Table
from chalicelib.deps import Deps
from chalicelib.domain.users import User
from leadline.demo_cast import weekly_leads
from leadline.demo_history import HISTORY_DAYS, HISTORY_SEED, History, Store

log = logging.getLogger("local_stack.demo")

# How many days of history the demo gets (tests that only need the demo's people set it low).
DAYS_ENV = "LEADLINE_DEMO_DAYS"
GROUP_NAME = "Northwind Auto Group"
ADMIN = ("owner@northwind-auto.com", "Olivia Northwind")
MANAGER = ("manager@northwind-auto.com", "Marcus Reed")
WEEKDAY_HOURS = {d: [["09:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}

STORES: list[dict[str, Any]] = [
    {"name": "Northwind Toyota Boston", "timezone": "America/New_York", "kind": "sales",
     "sms_number": "+16175550101", "address": "100 Commonwealth Ave, Boston, MA 02116",
     "business_hours": {**WEEKDAY_HOURS, "sat": [["09:00", "18:00"]], "sun": []},
     "holidays": ["2026-12-25", "2027-01-01"], "escalation_email": "escalations@northwind-auto.com"},
    {"name": "Northwind Honda Denver", "timezone": "America/Denver", "kind": "sales",
     "sms_number": "+13035550142", "address": "2500 Colfax Ave, Denver, CO 80206",
     # Open late on Fridays and Saturdays, past midnight: an overnight interval.
     "business_hours": {**WEEKDAY_HOURS, "fri": [["09:00", "12:00"], ["13:00", "23:00"]],
                        "sat": [["10:00", "01:00"]], "sun": [["11:00", "17:00"]]},
     "escalation_email": "escalations@northwind-auto.com"},
    {"name": "Northwind Service Phoenix", "timezone": "America/Phoenix", "kind": "service",
     "sms_number": "+16025550188", "address": "4400 N Central Ave, Phoenix, AZ 85012",
     "business_hours": {**WEEKDAY_HOURS, "sat": [["08:00", "14:00"]], "sun": []},
     "escalation_email": "service@northwind-auto.com"},
]

# (email, name, store indexes, extra fields)
AGENTS: list[tuple[str, str, list[int], dict[str, Any]]] = [
    ("ava.chen@northwind-auto.com", "Ava Chen", [0], {"teams": ["internet"], "phone": "+16175550123"}),
    ("ben.ortiz@northwind-auto.com", "Ben Ortiz", [0], {"teams": ["internet", "phone"]}),
    ("carla.diaz@northwind-auto.com", "Carla Diaz", [1], {"teams": ["internet"]}),
    ("dev.patel@northwind-auto.com", "Dev Patel", [1], {"teams": ["internet"], "restricted": True}),
    ("erin.walsh@northwind-auto.com", "Erin Walsh", [2], {"teams": ["service"]}),
]

LEADS: list[tuple[int, dict[str, Any]]] = [
    (0, {"first_name": "Jordan", "last_name": "Miller", "phone": "+16175550177", "email": "jordan.miller@gmail.com",
         "source": "AutoTrader", "source_group": "Third party", "channel": "web",
         "vehicle": {"year": 2025, "make": "Toyota", "model": "RAV4", "trim": "XLE"},
         "message": "Is the blue RAV4 still available?"}),
    (0, {"first_name": "Priya", "last_name": "Shah", "phone": "+16175550189", "source": "Website",
         "source_group": "Direct", "channel": "sms", "message": "Do you take trade-ins?"}),
    (1, {"first_name": "Luis", "last_name": "Romero", "email": "luis.romero@outlook.com", "source": "Cars.com",
         "source_group": "Third party", "channel": "email",
         "vehicle": {"year": 2024, "make": "Honda", "model": "Civic", "trim": "Sport"},
         "message": "What is your best out-the-door price?"}),
    (1, {"first_name": "Hannah", "last_name": "Kim", "phone": "+13035550166", "email": "hannah.kim@yahoo.com",
         "source": "Facebook", "source_group": "Social", "channel": "messenger", "campaign": "Spring Sales Event"}),
    (2, {"first_name": "Omar", "last_name": "Haddad", "phone": "+16025550145", "source": "Website",
         "source_group": "Direct", "channel": "web", "message": "Need an oil change this week."}),
]

DAY = 86400
# A first answer within 15 minutes of taking a lead and a reply within 30, counted in business hours,
# a warning 5 minutes before; a miss alerts the store's managers.
TARGETS: dict[str, Any] = {"first_response_seconds": 900, "reply_seconds": 1800, "warn_before_seconds": 300,
                           "on_miss": "notify_managers", "business_hours_only": True}
# Every store's new leads get a first touch at once, then two follow-ups until someone answers.
CADENCE: dict[str, Any] = {
    "name": "New lead welcome", "enroll": "new_lead", "match": {}, "assistant_name": "Sam",
    "steps": [
        {"after_seconds": 0, "phase": "first_touch", "channel": "auto",
         "body": "Hi {{lead.first_name}}, this is {{assistant.name}} at {{account.name}}. Thanks for reaching out! "
                 "When would be a good time to talk?"},
        {"after_seconds": DAY, "phase": "follow_up", "channel": "auto",
         "body": "Hi {{lead.first_name}}, {{assistant.name}} again from {{account.name}}. Any questions I can answer?"},
        {"after_seconds": 3 * DAY, "phase": "follow_up", "channel": "auto",
         "body": "{{lead.first_name}}, we are at {{account.address}} whenever you want to stop by. Just reply here."},
    ]}


@dataclass
class DemoSeed:
    group_id: str = ""
    admin_id: str = ""
    manager_id: str = ""
    account_ids: list[str] = field(default_factory=list)
    agent_ids: list[str] = field(default_factory=list)
    seeded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    history: dict[str, int] = field(default_factory=dict)  # what the 90 days hold: leads, accepted...
    # How long writing them took: wall, cpu (the process's), history_cpu (the history's own thread).
    history_seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"group_id": self.group_id, "admin_id": self.admin_id, "manager_id": self.manager_id,
                "manager_email": MANAGER[0], "account_ids": self.account_ids, "agent_ids": self.agent_ids,
                "seeded": self.seeded, "skipped": self.skipped, "history": self.history,
                "history_seconds": self.history_seconds}


def history_days() -> int:
    return int(os.environ.get(DAYS_ENV) or HISTORY_DAYS)


def seeding_line() -> str:
    """What `make run` prints while it seeds the demo, before its banner."""
    days = history_days()
    if not days:
        return "seeding the demo group..."
    return (f"seeding the demo group, {days} days of history for {len(STORES)} stores on two cores "
            f"(about 26 s on an idle 2-core machine, longer on a busy one; the banner follows)...")


def serves(app: Chalice, path: str, method: str) -> bool:
    return method in app.routes.get(path, {})


class Api(Protocol):
    """The HTTP API as one user: `call` answers the reply's JSON, or raises on a status >= 300."""

    def call(self, method: str, path: str, body: Any) -> Any: ...


class HttpApi:
    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Any) -> Any:
        reply = requests.request(method, self.base_url + path, json=body, headers=self.headers, timeout=30)
        if reply.status_code >= 300:
            raise RuntimeError(f"{method} {path} answered {reply.status_code}: {reply.text[:300]}")
        return reply.json() if reply.content else None


def seed_demo(app: Chalice, deps: Deps, connect: Callable[[str], Api], history_table: Table | None = None) -> DemoSeed:
    """Seed the demo group: the group through the bootstrap service, stores, people, routing and
    today's leads through the API (`connect(token)`: the running stack's, or a test client),
    the 90 days before today through the services (leadline/demo_history.py), writing through
    `history_table` (None: the deps' table; the local stack's and the demo test's is moto in this
    process, leadline/local/moto_direct.py)."""
    from chalicelib.services.auth import mint_local_token
    from chalicelib.services.users import bootstrap_group

    seed = DemoSeed()
    boot = bootstrap_group(deps, GROUP_NAME, ADMIN[0], ADMIN[1])
    seed.group_id, seed.admin_id = boot.group.group_id, boot.user.user_id
    seed.seeded.append("group and group admin")
    api = connect(mint_local_token(deps.settings.jwt_secret, seed.admin_id))

    for store in STORES:
        seed.account_ids.append(api.call("POST", "/accounts", store)["account_id"])
    seed.seeded.append(f"{len(seed.account_ids)} stores")

    seed.manager_id = api.call("POST", "/users", {
        "email": MANAGER[0], "name": MANAGER[1], "role": "manager", "account_ids": seed.account_ids,
        "notify": {"in_app": True, "email": True, "sms": False}})["user_id"]
    seed.seeded.append("a manager of every store")
    for email, name, stores, extra in AGENTS:
        seed.agent_ids.append(api.call("POST", "/users", {
            "email": email, "name": name, "role": "agent",
            "account_ids": [seed.account_ids[i] for i in stores], **extra})["user_id"])
    seed.seeded.append(f"{len(seed.agent_ids)} agents")

    _optional_step(seed, app, "/accounts/{account_id}/routing", "PUT", "routing for every store",
                   lambda: _routing(api, seed))
    _optional_step(seed, app, "/accounts/{account_id}/response-targets", "PUT", "response targets for every store",
                   lambda: _targets(api, seed))
    _optional_step(seed, app, "/accounts/{account_id}/routing", "PUT", "the days of history",
                   lambda: _history(deps, seed, history_table))
    _optional_step(seed, app, "/accounts/{account_id}/cadences", "POST", "a new-lead cadence for every store",
                   lambda: _cadences(api, seed))
    _optional_step(seed, app, "/accounts/{account_id}/leads", "POST", f"{len(LEADS)} leads",
                   lambda: _leads(api, seed))
    log.info("demo seeded: %s; skipped: %s", ", ".join(seed.seeded), ", ".join(seed.skipped) or "nothing")
    return seed


def _optional_step(seed: DemoSeed, app: Chalice, path: str, method: str, what: str, step: Any) -> None:
    if not serves(app, path, method):
        seed.skipped.append(f"{what} ({method} {path} is not served in this checkout)")
        return
    try:
        step()
    except Exception as exc:  # the demo is a convenience: a later module's failure must not stop the stack
        log.warning("demo step %r failed: %s", what, exc)
        seed.skipped.append(f"{what} (failed: {exc})")
        return
    seed.seeded.append(what)


def _routing(api: Api, seed: DemoSeed) -> None:
    for account_id in seed.account_ids:
        api.call("PUT", f"/accounts/{account_id}/routing", {
            "offer_timeout_seconds": 120, "strategy": "round_robin", "rules": [],
            "catchall_user_ids": [seed.manager_id], "respect_business_hours": False})


def _targets(api: Api, seed: DemoSeed) -> None:
    for account_id in seed.account_ids:
        api.call("PUT", f"/accounts/{account_id}/response-targets", TARGETS)


def _history(deps: Deps, seed: DemoSeed, table: Table | None) -> None:
    """Every store's last days, through the services with the clock stepped (leadline/demo_history.py),
    then the stores' report rollups rebuilt from what they hold (`_rollups`)."""
    def user(user_id: str) -> User:
        found = deps.users.get(user_id)
        if found is None:
            raise RuntimeError(f"demo user {user_id} is gone")
        return found

    stores = [Store(deps.accounts.require(account_id), STORES[index]["kind"],
                    [user(seed.agent_ids[n]) for n, agent in enumerate(AGENTS) if index in agent[2]], index)
              for index, account_id in enumerate(seed.account_ids)]
    days, end, manager = history_days(), deps.clock.now(), user(seed.manager_id)

    def lives(group: list[Store]) -> Callable[[Table | None], Counter[str]]:
        # Each group of stores draws its own history (its own seed), whichever process lives it.
        return lambda into: History(deps, group, manager, end=end, days=days, table=into,
                                    seed=HISTORY_SEED + group[0].index).live()

    began, cpu, own = time.monotonic(), time.process_time(), time.thread_time()
    counts, forked_cpu = _live_in_two(lives, stores, table) if _can_fork(table, stores) else (lives(stores)(table), 0.0)
    lived = time.monotonic()
    _rollups(Deps(clock=deps.clock, settings=deps.settings, table=table) if table is not None else deps,
             seed.account_ids, (end - timedelta(days=days + 1)).date())
    seed.history = dict(counts)
    # Process CPU: on the local stack it includes the stack's own threads meanwhile (its pollers);
    # forked_cpu: the forked process that lived half the stores on the other core.
    seed.history_seconds = {"wall": round(time.monotonic() - began, 1), "cpu": round(time.process_time() - cpu, 1),
                            "history_cpu": round(time.thread_time() - own, 1), "forked_cpu": round(forked_cpu, 1),
                            "rollups_wall": round(time.monotonic() - lived, 1)}
    log.info("demo history: %d days in %.1f s (%.1f s CPU): %s", days, seed.history_seconds["wall"],
             seed.history_seconds["cpu"], ", ".join(f"{n} {what}" for what, n in sorted(counts.items())))


def _can_fork(table: Table | None, stores: list[Store]) -> bool:
    from leadline.local.moto_direct import DirectTable

    return isinstance(table, DirectTable) and hasattr(os, "fork") and len(stores) > 1


def _live_in_two(lives: Callable[[list[Store]], Callable[[Table | None], Counter[str]]], stores: list[Store],
                 table: Table | None) -> tuple[Counter[str], float]:
    """The stores in two groups of about the same volume, one lived in a forked copy of moto on the other
    core while this process lives the other (leadline/local/moto_fork.py); the copy's writes are then
    brought back. Each store's history is written by one process only, which the merge checks. Returns
    what happened and the forked process's CPU seconds."""
    from leadline.local import moto_fork
    from leadline.local.moto_direct import DirectTable

    assert isinstance(table, DirectTable)
    here: list[Store] = []
    there: list[Store] = []
    for store in sorted(stores, key=lambda s: -weekly_leads(s.kind)):
        (here if sum(weekly_leads(s.kind) for s in here) < sum(weekly_leads(s.kind) for s in there)
         else there).append(store)
    def forked(into: Table | None) -> dict[str, Any]:
        began = time.process_time()
        return {"counts": lives(there)(into), "cpu": time.process_time() - began}

    mine, theirs = moto_fork.in_two(lives(here), forked, table)
    return Counter(mine) + Counter(theirs["counts"]), float(theirs["cpu"])


def _rollups(deps: Deps, account_ids: list[str], first_day: date) -> None:
    """The history's report rollups, built once from its report events and score entries by the
    product's rebuild (what `leadline report rebuild` runs): its writes make no stream records
    (leadline/local/moto_direct.py), so the stream consumer does not fold them in one by one."""
    from chalicelib.services.rollup_rebuild import rebuild

    for account_id in account_ids:
        done = rebuild(deps, account_id, first_day)
        if done.failed_leads:
            raise RuntimeError(f"the report rollups of {len(done.failed_leads)} leads of {account_id} were not saved")


def _cadences(api: Api, seed: DemoSeed) -> None:
    for account_id in seed.account_ids:
        api.call("POST", f"/accounts/{account_id}/cadences", CADENCE)


def _leads(api: Api, seed: DemoSeed) -> None:
    for store, lead in LEADS:
        api.call("POST", f"/accounts/{seed.account_ids[store]}/leads", lead)
