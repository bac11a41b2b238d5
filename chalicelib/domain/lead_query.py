"""The Lead Manager's list: which index serves a folder, which filters narrow it, and how pages
of several stores merge into one list whose cursor never skips or repeats a lead.

Pure rules. The adapter turns a `ListPlan` into one Query per store (its conditions become
a FilterExpression); this module decides the plan and merges what the Queries returned.

Ordering: every list is ordered by a sort key `{time}#{lead_id}` — last activity, newest first,
or for `awaiting` the time the customer started waiting, oldest first (`due`: the response deadline,
soonest first; `delinquent`: the lead's arrival, oldest first). A store's position in
a cursor is the sort key of the last lead the caller has been given (or the last key the
Query examined, when every examined lead was filtered out), and the next page asks for keys
strictly past it. Leads that arrive while someone pages get newer keys than any position,
so they never shift a later page: nothing is skipped and nothing is repeated."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.leads import FLAG_FOLDERS, FOLDERS, STATUS_FOLDERS, TIMED_FOLDERS

IndexName = Literal["inbox", "folder", "awaiting", "flag", "agent"]
UNASSIGNED = "none"
MAX_Q_TERMS = 5
# A position is a sort key `{time}#{lead_id}`; anything longer is not one this API gave out.
MAX_POSITION_CHARS = 200


# -- conditions: a tiny filter language the adapter turns into a FilterExpression -------------

@dataclass(frozen=True)
class Eq:
    field: str
    value: Any


@dataclass(frozen=True)
class Contains:
    """A list attribute holds `value`, or a string attribute contains it."""

    field: str
    value: str


@dataclass(frozen=True)
class Positive:
    """A counter above zero."""

    field: str


@dataclass(frozen=True)
class Missing:
    field: str


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Eq, ...]


Condition = Eq | Contains | Positive | Missing | AnyOf


def matches(item: Mapping[str, Any], conditions: Sequence[Condition]) -> bool:
    """The same conditions in Python: what the FilterExpression means, for tests and fakes."""
    return all(_holds(item, c) for c in conditions)


def _holds(item: Mapping[str, Any], c: Condition) -> bool:
    if isinstance(c, Eq):
        return item.get(c.field) == c.value
    if isinstance(c, Contains):
        value = item.get(c.field)
        return value is not None and c.value in value
    if isinstance(c, Positive):
        return (item.get(c.field) or 0) > 0
    if isinstance(c, Missing):
        return item.get(c.field) is None
    return any(_holds(item, p) for p in c.parts)


# -- filters and plans -------------------------------------------------------------------

@dataclass(frozen=True)
class LeadFilters:
    source: str | None = None
    campaign: str | None = None
    label: str | None = None
    assigned_to: str | None = None  # a user id, or "none" for unassigned leads
    q: str | None = None


@dataclass(frozen=True)
class ListPlan:
    """One Query per store on `index` (keyed by `key` where the index needs one), in `ascending`
    order, keeping the items that match `conditions`. `empty` plans need no Query at all."""

    index: IndexName
    key: str | None
    ascending: bool
    conditions: tuple[Condition, ...] = ()
    empty: bool = False

    @property
    def filtered(self) -> bool:
        return bool(self.conditions)


def folder_conditions(folder: str) -> tuple[Condition, ...]:
    """What membership of a folder means on the lead itself (used when another index serves the list)."""
    if folder == "inbox":
        return ()
    if folder == "dead":
        return (AnyOf((Eq("status", "dead"), Eq("opted_out", True))),)
    if folder in STATUS_FOLDERS:
        return (Eq("status", folder), Eq("opted_out", False))
    if folder == "done":
        return (Eq("done", True),)
    if folder == "appointments":
        return (Positive("open_appointments"),)
    if folder == "showed":
        return (Eq("showed", True),)
    if folder == "scheduled":
        return (Positive("scheduled_messages"),)
    raise ValueError(f"{folder} is served by its own index only")


def plan_list(folder: str, filters: LeadFilters, only_assigned_to: str | None = None) -> ListPlan:
    """The index and conditions that serve a folder with filters. `only_assigned_to` is set for a
    restricted agent: they see their own leads only, whatever they ask for."""
    if folder not in FOLDERS:
        raise ValidationFailed.field("folder", "must be one of " + ", ".join(FOLDERS))
    assignee = filters.assigned_to
    empty = False
    if only_assigned_to is not None:
        empty = assignee is not None and assignee != only_assigned_to
        assignee = only_assigned_to
    conditions: list[Condition] = []
    if filters.source:
        conditions.append(Eq("source", filters.source))
    if filters.campaign:
        conditions.append(Eq("campaign", filters.campaign))
    if filters.label:
        conditions.append(Contains("labels", filters.label))
    conditions.extend(Contains("search", term) for term in query_terms(filters.q))
    if assignee == UNASSIGNED:
        conditions.append(Missing("assigned_to"))
        assignee = None

    if folder == "awaiting":
        if assignee:
            conditions.insert(0, Eq("assigned_to", assignee))
        return ListPlan("awaiting", None, True, tuple(conditions), empty)
    if folder in TIMED_FOLDERS:
        # Ordered by their own time (due soonest, delinquent oldest first): their flag index, even for one agent.
        if assignee:
            conditions.insert(0, Eq("assigned_to", assignee))
        return ListPlan("flag", folder, True, tuple(conditions), empty)
    if assignee:
        # An agent's own leads are far fewer than a store's folder: their index, narrowed to the folder.
        return ListPlan("agent", assignee, False, folder_conditions(folder) + tuple(conditions), empty)
    if folder == "inbox":
        return ListPlan("inbox", None, False, tuple(conditions), empty)
    if folder in FLAG_FOLDERS:
        return ListPlan("flag", folder, False, tuple(conditions), empty)
    return ListPlan("folder", folder, False, tuple(conditions), empty)


def query_terms(q: str | None) -> list[str]:
    """`q` as substrings of a lead's search text: the digits of a phone number as typed
    ("(212) 555-01" → "21255501"), else each word of a name or email, lower case."""
    text = (q or "").strip().lower()
    if not text:
        return []
    digits = re.sub(r"\D", "", text)
    if re.fullmatch(r"[\d\s()+.\-]+", text) and len(digits) >= 3:
        return [digits]
    terms = [t for t in text.split() if t]
    if len(terms) > MAX_Q_TERMS:
        raise ValidationFailed.field("q", f"use at most {MAX_Q_TERMS} words")
    return terms


def search_text(first_name: str | None, last_name: str | None, email: str | None, phone: str | None) -> str:
    """What `q` searches: names and email in lower case, the phone's digits."""
    parts = [first_name or "", last_name or "", email or "", re.sub(r"\D", "", phone or "")]
    return " ".join(p.lower() for p in parts if p)


# -- cursors and merging -------------------------------------------------------------------

@dataclass
class Position:
    """Where a store's list stands: after `after` (a sort key), or not started (None), or done."""

    after: str | None = None
    done: bool = False


@dataclass
class Cursor:
    signature: str
    positions: dict[str, Position] = field(default_factory=dict)

    def position(self, account_id: str) -> Position:
        return self.positions.get(account_id, Position())

    def to_state(self) -> dict[str, Any]:
        return {"s": self.signature,
                "p": {a: p.after for a, p in sorted(self.positions.items()) if not p.done and p.after},
                "x": sorted(a for a, p in self.positions.items() if p.done)}

    @classmethod
    def from_state(cls, state: Any, signature: str) -> Cursor:
        bad = ValidationFailed.field("cursor", "is not a cursor of this list (folder, filters and store must match)")
        if not isinstance(state, dict) or state.get("s") != signature:
            raise bad
        positions_raw, done_raw = state.get("p", {}), state.get("x", [])
        if not isinstance(positions_raw, dict) or not isinstance(done_raw, list):
            raise bad
        if any(not isinstance(sk, str) or not 0 < len(sk) <= MAX_POSITION_CHARS for sk in positions_raw.values()):
            raise bad
        positions = {str(a): Position(after=sk) for a, sk in positions_raw.items()}
        positions.update({str(a): Position(done=True) for a in done_raw})
        return cls(signature, positions)


def list_signature(account_ids: Sequence[str], folder: str, filters: LeadFilters, viewer: str | None) -> str:
    """A cursor belongs to one list: the same stores, folder, filters and (restricted) viewer."""
    raw = json.dumps([sorted(account_ids), folder, filters.__dict__, viewer], sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass
class StoreBatch:
    """What one store's Query (or Queries) returned after `Position`: the matching items as
    (sort key, item) in list order, and how far the Queries examined (None = to the end)."""

    account_id: str
    items: list[tuple[str, Any]]
    examined_to: str | None
    exhausted: bool


def merge_page(batches: Sequence[StoreBatch], cursor: Cursor, limit: int,
               ascending: bool) -> tuple[list[Any], Cursor | None]:
    """The next page over several stores, and the cursor after it (None at the end).

    An item may be given out only when no store could still hold an unexamined item that ranks
    before it: items past the least-advanced store's examined point wait for a later page."""
    examined = [b.examined_to for b in batches if not b.exhausted and b.examined_to is not None]
    # Descending lists: unexamined keys lie below each store's examined point, so the highest one bounds.
    bound = (min(examined) if ascending else max(examined)) if examined else None
    candidates = [(sk, b.account_id, i, item) for b in batches for i, (sk, item) in enumerate(b.items)
                  if bound is None or (sk >= bound if not ascending else sk <= bound)]
    candidates.sort(key=lambda c: c[0], reverse=not ascending)
    taken = candidates[:limit]
    taken_count: dict[str, int] = {}
    for _, account_id, _, _ in taken:
        taken_count[account_id] = taken_count.get(account_id, 0) + 1

    positions = dict(cursor.positions)
    for b in batches:
        count = taken_count.get(b.account_id, 0)
        if count < len(b.items):
            # Something matched that this page had no room for: resume right after what was given.
            if count:
                positions[b.account_id] = Position(after=b.items[count - 1][0])
        elif b.exhausted:
            positions[b.account_id] = Position(done=True)
        elif b.examined_to is not None:
            positions[b.account_id] = Position(after=b.examined_to)
    following = Cursor(cursor.signature, positions)
    finished = all(following.position(b.account_id).done for b in batches)
    return [item for _, _, _, item in taken], (None if finished else following)


def limiting_store(batches: Sequence[StoreBatch], ascending: bool) -> str | None:
    """The store whose Queries went least far: reading more of it is what lets a short page grow."""
    open_batches = [b for b in batches if not b.exhausted and b.examined_to is not None]
    if not open_batches:
        return None
    pick = min if ascending else max
    return pick(open_batches, key=lambda b: str(b.examined_to)).account_id


def first_share(limit: int, stores: int, floor: int = 10) -> int:
    """How many leads to ask each store for first: enough for its fair share of a page twice over.
    A page rarely needs more from one store; when it does, that store alone is read further."""
    if stores <= 1:
        return limit
    return min(limit, max(floor, -(-2 * limit // stores)))
