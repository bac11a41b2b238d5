"""The Lead Manager's pure rules: which index and conditions serve every folder with every
combination of filters (against an oracle written from the contract), and the multi-store merge
whose cursors never skip or repeat, under random data, page sizes, filters and arrivals."""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.lead_query import (
    Cursor,
    LeadFilters,
    ListPlan,
    Position,
    StoreBatch,
    list_signature,
    matches,
    merge_page,
    plan_list,
    query_terms,
    search_text,
)
from chalicelib.domain.leads import FOLDERS, Lead
from chalicelib.domain.targets import Deadline

AGENTS = ["usr_a", "usr_b"]


def _lead(i: int, rng: random.Random) -> Lead:
    at = f"2026-10-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00.000Z"
    return Lead(
        lead_id=f"lead_{i:04d}", account_id=rng.choice(["acc_1", "acc_2", "acc_3"]), group_id="grp",
        first_name=rng.choice(["Ann", "Bo", "Cy", "Zelda"]), last_name=rng.choice(["Quinn", "Stone"]),
        phone=f"+1212555{i:04d}" if rng.random() < 0.8 else None,
        email=f"p{i}@{rng.choice(['gmail.com', 'icloud.com'])}" if rng.random() < 0.7 else None,
        source=rng.choice(["Cars.com", "Web"]), campaign=rng.choice([None, "Fall"]),
        status=rng.choice(["new", "hot", "warm", "cold", "follow_up", "sold", "dead"]), opted_out=rng.random() < 0.15,
        labels=rng.sample(["vip", "trade"], rng.randint(0, 2)), assigned_to=rng.choice([None, *AGENTS]),
        done=rng.random() < 0.3, open_appointments=rng.choice([0, 1]), showed=rng.random() < 0.3,
        scheduled_messages=rng.choice([0, 2]), awaiting_since=at if rng.random() < 0.5 else None,
        routing_state=rng.choice(["accepted", "delinquent", "offered"]),
        deadline=Deadline(version=1, kind="first_response", owner="usr_a", set_at=at, started_at=at,
                          due_at=f"2026-11-{rng.randint(1, 28):02d}T10:00:00.000Z") if rng.random() < 0.4 else None,
        created_at=at, received_at=at, last_activity_at=at)


LEADS = [_lead(i, random.Random(i)) for i in range(200)]
# What the table stores for each lead: its fields plus the search text the adapter adds.
ITEMS = {x.lead_id: {**x.model_dump(), "search": search_text(x.first_name, x.last_name, x.email, x.phone)}
         for x in LEADS}


# -- the oracle (the contract's words) ---------------------------------------------------------

def oracle(lead: Lead, folder: str, f: LeadFilters, viewer: str | None) -> bool:
    dead = lead.opted_out or lead.status == "dead"
    in_folder = {"inbox": True, "awaiting": lead.awaiting_since is not None, "dead": dead, "done": lead.done,
                 "appointments": lead.open_appointments > 0, "showed": lead.showed,
                 "scheduled": lead.scheduled_messages > 0,
                 "due": lead.deadline is not None and lead.assigned_to is not None and lead.is_open,
                 "delinquent": lead.routing_state == "delinquent" and lead.assigned_to is None and lead.is_open,
                 }.get(folder, not dead and lead.status == folder)
    if not in_folder or (viewer and lead.assigned_to != viewer):
        return False
    if (f.source and lead.source != f.source) or (f.campaign and lead.campaign != f.campaign):
        return False
    if f.label and f.label not in lead.labels:
        return False
    if f.assigned_to and lead.assigned_to != (None if f.assigned_to == "none" else f.assigned_to):
        return False
    if f.q:
        if re.fullmatch(r"[\d\s()+.\-]+", f.q):
            return re.sub(r"\D", "", f.q) in re.sub(r"\D", "", lead.phone or "x")
        text = f"{lead.first_name} {lead.last_name} {lead.email or ''}".lower()
        return all(w in text for w in f.q.lower().split())
    return True


def served(plan: ListPlan, lead: Lead) -> bool:
    """What each index holds (keys.py patterns 10-14), then the plan's conditions."""
    in_index = {
        "inbox": True, "folder": lead.status_folder == plan.key, "awaiting": lead.awaiting_since is not None,
        "flag": plan.key in lead.flags, "agent": lead.assigned_to == plan.key,
    }[plan.index]
    return not plan.empty and in_index and matches(ITEMS[lead.lead_id], plan.conditions)


VALUES = {"source": ["Cars.com", "Web"], "campaign": ["Fall"], "label": ["vip", "trade"],
          "assigned_to": ["usr_a", "none"], "q": ["zelda", "quinn ann", "555001", "icloud", "(212) 555-02"]}


def _filter_sets() -> list[LeadFilters]:
    names = list(VALUES)
    found = []
    for size in range(len(names) + 1):
        for chosen in itertools.combinations(names, size):
            for values in itertools.product(*(VALUES[n] for n in chosen)):
                found.append(LeadFilters(**dict(zip(chosen, values, strict=True))))
    return found


FILTER_SETS = _filter_sets()


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_folder_with_every_filter_combination(folder: str) -> None:
    assert len(FILTER_SETS) > 300
    hits = 0
    for filters in FILTER_SETS:
        for viewer in (None, "usr_a"):
            plan = plan_list(folder, filters, only_assigned_to=viewer)
            assert plan.ascending == (folder in ("awaiting", "due", "delinquent"))
            got = {x.lead_id for x in LEADS if served(plan, x)}
            want = {x.lead_id for x in LEADS if oracle(x, folder, filters, viewer)}
            assert got == want, (folder, filters, viewer, plan)
            hits += bool(want)
    assert hits > 20


def test_restricted_agent_asking_for_someone_else_gets_nothing() -> None:
    assert plan_list("inbox", LeadFilters(assigned_to="usr_b"), only_assigned_to="usr_a").empty
    assert not plan_list("inbox", LeadFilters(assigned_to="usr_a"), only_assigned_to="usr_a").empty


def test_unknown_folder_and_long_queries_are_400() -> None:
    with pytest.raises(ValidationFailed) as err:
        plan_list("spam", LeadFilters())
    assert err.value.details[0]["field"] == "folder"
    with pytest.raises(ValidationFailed):
        query_terms("a b c d e f")


def test_query_terms() -> None:
    assert query_terms(" (212) 555-01 ") == ["21255501"]
    assert query_terms("Ann  QUINN") == ["ann", "quinn"]
    assert query_terms("ann@gmail.com") == ["ann@gmail.com"]
    assert query_terms("12") == ["12"] and query_terms("") == []


# -- merging and cursors ------------------------------------------------------------------------

@dataclass
class FakeStore:
    """A store's index partition and a Query over it with DynamoDB's Limit-before-filter rule."""

    account_id: str
    keys: list[str]
    keep: set[str]

    def batch(self, at: Position, want: int, ascending: bool, query_limit: int, max_calls: int) -> StoreBatch:
        order = sorted(self.keys, reverse=not ascending)
        if at.after is not None:
            order = [k for k in order if (k > at.after if ascending else k < at.after)]
        found: list[tuple[str, Any]] = []
        examined = at.after
        for call in range(max_calls):
            chunk = order[call * query_limit:(call + 1) * query_limit]
            found += [(k, k) for k in chunk if k in self.keep]
            if (call + 1) * query_limit >= len(order):
                return StoreBatch(self.account_id, found, None, exhausted=True)
            examined = chunk[-1]
            if len(found) >= want:
                break
        return StoreBatch(self.account_id, found, examined, exhausted=False)


@pytest.mark.parametrize("seed", range(40))
def test_merged_pages_never_skip_or_repeat_while_leads_arrive(seed: int) -> None:
    rng = random.Random(seed)
    ascending = rng.random() < 0.3
    stores = [FakeStore(f"acc_{s}", [], set()) for s in range(rng.randint(1, 5))]
    clock = 10_000
    for s in stores:
        for _ in range(rng.randint(0, 60)):
            clock += rng.randint(0, 2)  # equal times happen; the lead id breaks the tie
            key = f"{clock:08d}#{s.account_id}-{len(s.keys)}"
            s.keys.append(key)
            if rng.random() < 0.6:
                s.keep.add(key)
    originals = {k for s in stores for k in s.keep}
    limit, query_limit, max_calls = rng.randint(1, 7), rng.randint(1, 10), rng.randint(1, 3)
    cursor: Cursor | None = Cursor("sig")
    seen: list[str] = []
    pages = 0
    while cursor is not None:
        pages += 1
        assert pages < 1000
        batches = [s.batch(cursor.position(s.account_id), limit, ascending, query_limit, max_calls)
                   for s in stores if not cursor.position(s.account_id).done]
        items, cursor = merge_page(batches, cursor, limit, ascending)
        assert len(items) <= limit
        seen += items
        if cursor is not None:
            cursor = Cursor.from_state(cursor.to_state(), "sig")  # through the wire form
        # Leads arrive between pages: later activity (or, for awaiting, later waiting) than anyone's.
        # (An ascending list grows at its end, so arrivals stop at some point to let it finish.)
        for s in stores:
            if pages < 40 and rng.random() < 0.5:
                clock += 1
                key = f"{clock:08d}#{s.account_id}-{len(s.keys)}"
                s.keys.append(key)
                s.keep.add(key)
    old = [k for k in seen if k in originals]
    assert len(old) == len(set(old)) == len(originals)
    assert len(seen) == len(set(seen))
    assert old == sorted(old, reverse=not ascending)


def test_cursor_belongs_to_its_list() -> None:
    sig = list_signature(["acc_1"], "inbox", LeadFilters(), None)
    assert sig != list_signature(["acc_1"], "hot", LeadFilters(), None)
    assert sig != list_signature(["acc_1"], "inbox", LeadFilters(q="x"), None)
    assert sig != list_signature(["acc_1", "acc_2"], "inbox", LeadFilters(), None)
    state = Cursor(sig, {"acc_1": Position(after="k")}).to_state()
    with pytest.raises(ValidationFailed):
        Cursor.from_state(state, list_signature(["acc_1"], "hot", LeadFilters(), None))
    with pytest.raises(ValidationFailed):
        Cursor.from_state(["junk"], sig)
