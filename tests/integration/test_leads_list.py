"""The Lead Manager list through HTTP: every folder, every filter and combinations of them, in
single-store and all-stores mode, against an independent oracle written from the contract; and
paging 240 leads in pages of 20 while new ones arrive, each seen exactly once.

The leads are written straight through the repository (in-process) so the data set is exactly
what each test says, fast, and untouched by routing."""

from __future__ import annotations

import itertools
import random
import re
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.adapters.dynamodb.leads import LeadRepository, lead_item
from chalicelib.clock import iso
from chalicelib.domain.leads import FOLDERS, Lead
from chalicelib.ids import new_id
from tests.support import Tenant, World, dynamodb_calls

FILTER_NAMES = ("source", "campaign", "label", "assigned_to", "q")
FIRST = ["Ann", "Bob", "Carla", "Dev", "Eve", "Finn", "Gia", "Hugo"]
LAST = ["Stone", "Rivera", "Kim", "Okafor", "Smith", "Nguyen"]
STATUSES = ["new", "hot", "warm", "cold", "follow_up", "sold", "dead"]


def make_lead(world: World, account: dict[str, Any], i: int, rng: random.Random, agents: list[str],
              at: str | None = None) -> Lead:
    now = world.clock.now()
    activity = at or iso(now - timedelta(minutes=rng.randint(1, 50_000)))
    awaiting = iso(now - timedelta(minutes=rng.randint(1, 50_000))) if rng.random() < 0.5 else None
    return Lead(
        lead_id=new_id("lead", now), account_id=account["account_id"], group_id=account["group_id"],
        first_name=rng.choice(FIRST), last_name=rng.choice(LAST),
        phone=f"+1212555{i:04d}" if rng.random() < 0.8 else None,
        email=f"person{i}@gmail.com" if rng.random() < 0.7 else None,
        source=rng.choice(["Cars.com", "AutoTrader", "Website"]), campaign=rng.choice([None, "Fall", "Winter"]),
        status=rng.choice(STATUSES), opted_out=rng.random() < 0.1, labels=rng.sample(["vip", "trade", "finance"],
                                                                                      rng.randint(0, 2)),
        assigned_to=rng.choice([None, *agents]), done=rng.random() < 0.25, open_appointments=rng.choice([0, 0, 1]),
        showed=rng.random() < 0.2, scheduled_messages=rng.choice([0, 0, 2]), awaiting_since=awaiting,
        created_at=activity, received_at=activity, last_activity_at=activity, last_request_at=activity)


def store_many(world: World, leads: list[Lead]) -> None:
    """Lead items without flags, 25 to a BatchWriteItem: builds the 500-lead table in seconds."""
    from chalicelib.adapters.aws import client
    from chalicelib.adapters.dynamodb.table import serialize

    for start in range(0, len(leads), 25):
        requests = [{"PutRequest": {"Item": serialize(lead_item(x))}} for x in leads[start:start + 25]]
        pending: dict[str, Any] = {world.deps.table.name: requests}
        while pending:
            pending = client("dynamodb").batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def store(world: World, lead: Lead) -> None:
    repo = LeadRepository(world.deps.table)
    if lead.flags:
        world.deps.transactions.commit(repo.create(lead))
    else:
        world.deps.table.put(lead_item(lead))


# -- the oracle: the contract's words, nothing from the implementation -------------------------

def in_folder(lead: Lead, folder: str) -> bool:
    dead = lead.opted_out or lead.status == "dead"
    return {
        "inbox": True, "awaiting": lead.awaiting_since is not None, "dead": dead,
        "done": lead.done, "appointments": lead.open_appointments > 0, "showed": lead.showed,
        "scheduled": lead.scheduled_messages > 0,
    }.get(folder, not dead and lead.status == folder)


def passes(lead: Lead, filters: dict[str, str]) -> bool:
    for name, value in filters.items():
        if name == "assigned_to" and lead.assigned_to != (None if value == "none" else value):
            return False
        if name == "label" and value not in lead.labels:
            return False
        if name in ("source", "campaign") and getattr(lead, name) != value:
            return False
        if name == "q":
            digits = re.sub(r"\D", "", value)
            if digits and not re.search(r"[a-z@]", value.lower()):
                if digits not in re.sub(r"\D", "", lead.phone or "") or lead.phone is None:
                    return False
            else:
                haystack = f"{lead.first_name} {lead.last_name} {lead.email or ''}".lower()
                if not all(w in haystack for w in value.lower().split()):
                    return False
    return True


def expected(leads: list[Lead], folder: str, filters: dict[str, str]) -> list[str]:
    chosen = [x for x in leads if in_folder(x, folder) and passes(x, filters)]
    if folder == "awaiting":
        chosen.sort(key=lambda x: (x.awaiting_since or "", x.lead_id))
    else:
        chosen.sort(key=lambda x: (x.last_activity_at, x.lead_id), reverse=True)
    return [x.lead_id for x in chosen]


def fetch_all(world: World, token: str, params: dict[str, str], limit: int) -> list[str]:
    from urllib.parse import urlencode

    ids: list[str] = []
    cursor = None
    for _ in range(500):
        query = {**params, "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        reply = world.get(f"/leads?{urlencode(query)}", token)
        assert reply.status == 200, reply.json
        ids += [row["lead_id"] for row in reply.json["items"]]
        cursor = reply.json["next_cursor"]
        if not cursor:
            return ids
    raise AssertionError("the cursor never ended")


@pytest.fixture
def dataset(world: World) -> dict[str, Any]:
    t = world.tenant(stores=2)
    a, b = t.accounts
    agent_one, _ = world.user(t, "one@acme.com", account_ids=[a["account_id"], b["account_id"]])
    agent_two, _ = world.user(t, "two@acme.com", account_ids=[a["account_id"], b["account_id"]])
    agents = [agent_one["user_id"], agent_two["user_id"]]
    rng = random.Random(20261102)
    leads = [make_lead(world, a if i % 2 else b, i, rng, agents) for i in range(48)]
    # A named lead to find by name, email and phone.
    leads[0] = leads[0].model_copy(update={"first_name": "Zelda", "last_name": "Quinn", "email": "zq@icloud.com",
                                           "phone": "+12125559876"})
    for lead in leads:
        store(world, lead)
    return {"tenant": t, "leads": leads, "agents": agents, "a": a["account_id"], "b": b["account_id"]}


FILTER_VALUES: dict[str, list[str]] = {
    "source": ["Cars.com"], "campaign": ["Fall"], "label": ["vip"], "assigned_to": ["AGENT", "none"],
    "q": ["zelda", "5559876", "gmail", "quinn zelda"],
}


def _cases() -> list[tuple[str, dict[str, str], bool]]:
    """(folder, filters, also in single-store mode). Every combination of folder and filters is
    checked against the plan in tests/unit/test_lead_query.py; here, through HTTP and DynamoDB's own
    FilterExpression: every folder, every filter value, every pair and all five together."""
    cases: list[tuple[str, dict[str, str], bool]] = [(folder, {}, True) for folder in FOLDERS]
    singles = [{name: value} for name, values in FILTER_VALUES.items() for value in values]
    cases += [("inbox", f, True) for f in singles]
    cases += [(folder, f, False) for folder in ("awaiting", "dead", "done") for f in singles]
    pairs = [{a: FILTER_VALUES[a][0], b: FILTER_VALUES[b][0]} for a, b in itertools.combinations(FILTER_VALUES, 2)]
    cases += [(folder, f, folder == "inbox") for folder in ("inbox", "awaiting") for f in pairs]
    every = {"source": "Cars.com", "campaign": "Fall", "label": "vip", "assigned_to": "AGENT", "q": "gmail"}
    cases += [("inbox", every, True), ("hot", {"label": "vip", "q": "a"}, True),
              ("scheduled", {"source": "AutoTrader", "assigned_to": "none"}, True)]
    return cases


def test_every_folder_and_filter_in_both_modes(world: World, dataset: dict[str, Any]) -> None:
    t: Tenant = dataset["tenant"]
    leads: list[Lead] = dataset["leads"]
    agent = dataset["agents"][0]
    nonempty = 0
    for folder, combo, single_store_too in _cases():
        filters = {k: (agent if v == "AGENT" else v) for k, v in combo.items()}
        for scope in ([None, dataset["a"]] if single_store_too else [None]):
            pool = [x for x in leads if scope is None or x.account_id == scope]
            want = expected(pool, folder, filters)
            params = {"folder": folder, **filters, **({"account_id": scope} if scope else {})}
            assert fetch_all(world, t.token, params, limit=50) == want, (folder, filters, scope)
            nonempty += bool(want)
    assert nonempty > 40  # the data set really exercises the filters


def test_small_pages_merge_stores_in_order(world: World, dataset: dict[str, Any]) -> None:
    t: Tenant = dataset["tenant"]
    leads: list[Lead] = dataset["leads"]
    for folder, filters, limit in (("inbox", {}, 4), ("awaiting", {}, 5), ("dead", {}, 2),
                                   ("inbox", {"label": "vip", "q": "gmail"}, 2)):
        want = expected(leads, folder, filters)
        assert len(want) > limit
        assert fetch_all(world, t.token, {"folder": folder, **filters}, limit=limit) == want, (folder, filters)


def test_rows_carry_what_an_inbox_row_shows(world: World) -> None:
    t = world.tenant()
    account = t.accounts[0]
    created = world.post(f"/accounts/{account['account_id']}/leads", t.token,
                         {"first_name": "Row", "phone": "2125550100", "channel": "sms", "campaign": "Fall",
                          "message": "Do you have it in blue?"}).json
    assert world.post(f"/leads/{created['lead_id']}/notes", t.token, {"text": "Called, left voicemail"}).status == 201
    assert world.post(f"/leads/{created['lead_id']}/lock", t.token).status == 200
    (row,) = world.get("/leads", t.token).json["items"]
    assert row["account_name"] == account["name"] and row["campaign"] == "Fall" and row["channel"] == "sms"
    assert row["name"] == "Row" and row["status"] == "new"
    assert row["notes_excerpt"] == "Called, left voicemail"
    assert row["last_message_preview"] == "Do you have it in blue?" and row["last_message_at"]
    assert row["waiting_since"] == row["awaiting_since"] == "2026-11-02T15:00:00.000Z"
    assert row["locked_by"] == t.admin_id
    world.clock.advance(minutes=6)
    t.token = world.token(t.admin_id)
    assert world.get("/leads", t.token).json["items"][0]["locked_by"] is None


def test_bad_list_parameters_are_400(world: World) -> None:
    t = world.tenant(stores=2)
    assert world.get("/leads?folder=spam", t.token).error_code == "validation_failed"
    assert world.get("/leads?limit=500", t.token).status == 400
    assert world.get("/leads?cursor=%%%", t.token).status == 400
    # a cursor of another list is refused rather than silently skipping
    for i in range(3):
        world.post(f"/accounts/{t.accounts[0]['account_id']}/leads", t.token, {"phone": f"212555010{i}"})
    cursor = world.get("/leads?limit=1", t.token).json["next_cursor"]
    assert cursor
    assert world.get(f"/leads?limit=1&folder=hot&cursor={cursor}", t.token).status == 400


def test_a_store_of_another_group_is_404(world: World) -> None:
    a = world.tenant("Alpha", "a@alpha.com")
    b = world.tenant("Beta", "b@beta.com")
    assert world.get(f"/leads?account_id={a.accounts[0]['account_id']}", b.token).status == 404


def test_paging_240_leads_while_new_ones_arrive(world: World) -> None:
    t = world.tenant(stores=2)
    rng = random.Random(7)
    accounts = t.accounts
    base = world.clock.now()
    batch = []
    for i in range(240):
        # Both stores, equal times across them (the lead id breaks the tie), 7 seconds apart.
        at = iso(base - timedelta(seconds=(i // 2) * 7))
        lead = make_lead(world, accounts[i % 2], i, rng, [], at=at)
        batch.append(lead.model_copy(update={"done": False, "open_appointments": 0, "showed": False,
                                             "scheduled_messages": 0}))
    store_many(world, batch)
    originals = [x.lead_id for x in batch]
    for scope in (None, accounts[0]["account_id"]):
        want = set(originals) if scope is None else {x for i, x in enumerate(originals) if i % 2 == 0}
        seen: list[str] = []
        cursor = None
        arrivals = 0
        while True:
            query = f"/leads?limit=20{'&account_id=' + scope if scope else ''}{'&cursor=' + cursor if cursor else ''}"
            reply = world.get(query, t.token).json
            seen += [r["lead_id"] for r in reply["items"] if r["lead_id"] in want]
            cursor = reply["next_cursor"]
            if not cursor:
                break
            # New leads arrive between pages, in both stores.
            world.clock.advance(seconds=1)
            for account in accounts:
                store(world, make_lead(world, account, 9000 + arrivals, rng, [], at=iso(world.clock.now())))
                arrivals += 1
        assert len(seen) == len(set(seen)) == len(want)
        assert set(seen) == want
        assert arrivals >= 10


def test_a_page_is_one_query_per_store_and_never_a_scan(world: World) -> None:
    from collections import Counter

    from chalicelib.services import leads as service

    t = world.tenant(stores=3)
    rng = random.Random(3)
    for i in range(30):
        store(world, make_lead(world, t.accounts[i % 3], i, rng, []))
    me = world.deps.users.get(t.admin_id)
    assert me is not None
    actor = me.principal(group_stores=lambda: frozenset(a["account_id"] for a in t.accounts))
    from chalicelib.domain.lead_query import LeadFilters

    with dynamodb_calls() as calls:
        service.list_leads(world.deps, actor, None, "inbox", LeadFilters(), 5, None)
        assert calls == Counter({"Query": 4})  # the group's stores + one Query per store
        calls.clear()
        service.list_leads(world.deps, actor, t.accounts[0]["account_id"], "hot", LeadFilters(q="gmail"), 5, None)
        assert calls == Counter({"GetItem": 1, "Query": 1})
