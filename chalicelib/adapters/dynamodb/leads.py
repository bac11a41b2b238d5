"""Leads, their flag-folder markers and their timelines. Keys: keys.py (patterns 9-20).

Every lead change is one transaction: the lead item (conditional on the `version` it
was read at), its flag markers, and whatever records the change (timeline events,
score entries, report events, offers) that the caller adds as extra operations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.table import Table, TransactionCancelled
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.lead_query import (
    AnyOf,
    Condition,
    Contains,
    Eq,
    ListPlan,
    Missing,
    Position,
    StoreBatch,
    search_text,
)
from chalicelib.domain.leads import Lead
from chalicelib.domain.report_events import ReportEvent
from chalicelib.domain.scoring import ScoreEvent
from chalicelib.domain.timeline import TimelineEvent
from chalicelib.ids import time_ordered_part

Op = dict[str, Any]
_NEW = "attribute_not_exists(PK)"
# A lower-case copy of names, email and phone digits on lead and flag items, for `q` (a FilterExpression).
SEARCH_ATTRIBUTE = "search"
# Which GSI and partition serve each kind of list (keys.py patterns 10-14).
_LIST_INDEXES: dict[str, tuple[int, Callable[[str, str | None], str]]] = {
    "inbox": (1, lambda a, _: keys.account_leads_pk(a)),
    "folder": (2, lambda a, k: keys.account_folder_pk(a, str(k))),
    "awaiting": (3, lambda a, _: keys.account_awaiting_pk(a)),
    "flag": (4, lambda a, k: keys.account_flag_pk(a, str(k))),
    "agent": (5, lambda a, k: keys.account_agent_pk(a, str(k))),
}


class LeadChanged(Conflict):
    """The lead changed since it was read (its `version` moved on): read again and retry."""


def _strip(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("PK", "SK", "type") and not k.startswith("GSI")}


def _event_from_item(item: dict[str, Any]) -> TimelineEvent:
    # An event item's `type` attribute is the event's own type (event_op's dump overrides the
    # entity marker), so it is kept, unlike _strip.
    return TimelineEvent.model_validate(
        {k: v for k, v in item.items() if k not in ("PK", "SK") and not k.startswith("GSI")})


def lead_attributes(lead: Lead) -> dict[str, Any]:
    """The lead's index attributes: inbox, status folder, awaiting, assignee."""
    activity = keys.activity_sk(lead.last_activity_at, lead.lead_id)
    attrs: dict[str, Any] = {
        "GSI1PK": keys.account_leads_pk(lead.account_id), "GSI1SK": activity,
        "GSI2PK": keys.account_folder_pk(lead.account_id, lead.status_folder), "GSI2SK": activity,
    }
    if lead.awaiting_since:
        attrs.update({"GSI3PK": keys.account_awaiting_pk(lead.account_id),
                      "GSI3SK": keys.activity_sk(lead.awaiting_since, lead.lead_id)})
    if lead.assigned_to:
        attrs.update({"GSI5PK": keys.account_agent_pk(lead.account_id, lead.assigned_to), "GSI5SK": activity})
    attrs[SEARCH_ATTRIBUTE] = _search(lead)
    return attrs


def lead_item(lead: Lead) -> dict[str, Any]:
    return {**keys.lead_key(lead.lead_id), "type": "lead", **lead.model_dump(mode="json", exclude_none=True),
            **lead_attributes(lead)}


def flag_item(lead: Lead, flag: str) -> dict[str, Any]:
    """A copy of the lead under its own key, indexed in one flag folder (GSI4)."""
    data = lead.model_dump(mode="json", exclude_none=True)
    return {**keys.lead_flag_key(lead.lead_id, flag), "type": "lead_flag", "flag": flag, **data,
            SEARCH_ATTRIBUTE: _search(lead),
            "GSI4PK": keys.account_flag_pk(lead.account_id, flag),
            "GSI4SK": keys.activity_sk(lead.last_activity_at, lead.lead_id)}


def _search(lead: Lead) -> str:
    return search_text(lead.first_name, lead.last_name, lead.email, lead.phone)


def lead_from_item(item: dict[str, Any]) -> Lead:
    data = _strip(item)
    data.pop("flag", None)
    data.pop(SEARCH_ATTRIBUTE, None)
    return Lead.model_validate(data)


class LeadRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    # -- reads ---------------------------------------------------------------------------

    def get(self, lead_id: str, consistent: bool = True) -> Lead | None:
        item = self.table.get(keys.lead_key(lead_id), consistent=consistent)
        return lead_from_item(item) if item else None

    def require(self, lead_id: str) -> Lead:
        lead = self.get(lead_id)
        if lead is None:
            raise NotFound("lead not found")
        return lead

    def timeline(self, lead_id: str) -> list[TimelineEvent]:
        items = self.table.query(f"LEAD#{lead_id}", sk_condition="begins_with(#sk, :e)", sk_values={":e": "EVENT#"},
                                 consistent=True)
        # Event ids carry their kind's prefix (evt_, msg_...), so the key order is not time order:
        # oldest first means by `at`, then by the id's time-ordered part (ids made in one millisecond
        # keep the order they were made in: a STOP before the opt-out it causes, a HELP before its answer).
        return sorted((_event_from_item(i) for i in items),
                      key=lambda e: (e.at, time_ordered_part(e.event_id), e.event_id))

    def event(self, lead_id: str, event_id: str) -> TimelineEvent | None:
        item = self.table.get(keys.timeline_event_key(lead_id, event_id), consistent=True)
        return _event_from_item(item) if item else None

    # -- operations for a transaction ---------------------------------------------------

    def create_ops(self, lead: Lead) -> list[Op]:
        ops: list[Op] = [{"Put": {"Item": lead_item(lead), "ConditionExpression": _NEW}}]
        ops += [{"Put": {"Item": flag_item(lead, f)}} for f in sorted(lead.flags)]
        return ops

    def save_ops(self, before: Lead, after: Lead) -> list[Op]:
        """`after` must carry `version = before.version + 1` (see `next_version`)."""
        ops: list[Op] = [{"Put": {
            "Item": lead_item(after), "ConditionExpression": "version = :seen",
            "ExpressionAttributeValues": {":seen": before.version},
        }}]
        ops += [{"Put": {"Item": flag_item(after, f)}} for f in sorted(after.flags)]
        ops += [{"Delete": {"Key": keys.lead_flag_key(after.lead_id, f)}} for f in sorted(before.flags - after.flags)]
        return ops

    @staticmethod
    def event_op(event: TimelineEvent, condition_new: bool = True) -> Op:
        item = {**keys.timeline_event_key(event.lead_id, event.event_id), "type": "event",
                **event.model_dump(mode="json", exclude_none=True)}
        put: dict[str, Any] = {"Item": item}
        if condition_new:
            put["ConditionExpression"] = _NEW
        return {"Put": put}

    @staticmethod
    def score_op(event: ScoreEvent) -> Op:
        item = {**keys.score_event_key(event.user_id, event.at, event.event_id), "type": "score",
                **event.model_dump(mode="json")}
        return {"Put": {"Item": item, "ConditionExpression": _NEW}}

    @staticmethod
    def report_op(event: ReportEvent) -> Op:
        item = {"PK": keys.report_day_pk(event.account_id, event.at[:10]), "SK": f"{event.at}#{event.event_id}",
                "type": "report_event", **event.model_dump(mode="json", exclude_none=True)}
        return {"Put": {"Item": item, "ConditionExpression": _NEW}}

    def commit(self, ops: list[Op], lead_op_index: int | None = 0) -> None:
        """Run one transaction; a failed condition on the lead item (at `lead_op_index`) is LeadChanged."""
        try:
            self.table.transact(ops)
        except TransactionCancelled as exc:
            if lead_op_index is not None and len(exc.reasons) > lead_op_index \
                    and exc.reasons[lead_op_index] == "ConditionalCheckFailed":
                raise LeadChanged("the lead changed meanwhile") from exc
            raise

    # -- contact keys (coalescing, inbound messages: pattern 20) ------------------------

    def contact(self, account_id: str, kind: str, value: str) -> dict[str, Any] | None:
        """The contact key of a store's phone / email / Messenger id: {lead_id, at} or None."""
        item = self.table.get(keys.contact_key(account_id, kind, value), consistent=True)
        return {"lead_id": item["lead_id"], "at": item.get("at")} if item else None

    @staticmethod
    def contact_claim_op(account_id: str, kind: str, value: str, lead_id: str, at: str,
                         seen_lead_id: str | None) -> Op:
        """Point a contact key at `lead_id`, only if it still is what the caller read: absent, or
        pointing at `seen_lead_id` (a closed or expired lead). Two requests racing for one
        contact cannot both win, so they cannot both create a lead."""
        item = {**keys.contact_key(account_id, kind, value), "type": "contact", "lead_id": lead_id,
                "account_id": account_id, "kind": kind, "at": at}
        if seen_lead_id is None:
            return {"Put": {"Item": item, "ConditionExpression": _NEW}}
        return {"Put": {"Item": item, "ConditionExpression": "lead_id = :seen",
                        "ExpressionAttributeValues": {":seen": seen_lead_id}}}

    @staticmethod
    def contact_release_op(account_id: str, kind: str, value: str, lead_id: str) -> Op:
        """Drop a contact key only while it still points at `lead_id` (a lead's phone or email changed)."""
        return {"Delete": {"Key": keys.contact_key(account_id, kind, value), "ConditionExpression": "lead_id = :me",
                           "ExpressionAttributeValues": {":me": lead_id}}}

    # -- lists (Lead Manager: patterns 10-16) ---------------------------------------------

    def list_batch(self, account_id: str, plan: ListPlan, position: Position, want: int,
                   max_calls: int = 1, query_limit: int | None = None) -> StoreBatch:
        """One store's part of a list page: Query the plan's index past `position` until `want`
        matching leads are found, the partition ends, or `max_calls` Queries were made."""
        index, pk_of = _LIST_INDEXES[plan.index]
        sk_attr = f"GSI{index}SK"
        sk_condition = sk_values = None
        if position.after is not None:
            sk_condition = "#sk > :after" if plan.ascending else "#sk < :after"
            sk_values = {":after": position.after}
        expression, names, values = filter_expression(plan.conditions)
        found: list[tuple[str, Any]] = []
        examined_to, start = position.after, None
        for _ in range(max_calls):
            items, last = self.table.query_page(
                pk_of(account_id, plan.key), index=index, sk_condition=sk_condition, sk_values=sk_values,
                ascending=plan.ascending, limit=query_limit or want, start_key=start,
                filter_expression=expression, names=names, values=values)
            found.extend((i[sk_attr], lead_from_item(i)) for i in items)
            if not last:
                return StoreBatch(account_id, found, None, exhausted=True)
            examined_to, start = str(last[sk_attr]), last
            if len(found) >= want:
                break
        return StoreBatch(account_id, found, examined_to, exhausted=False)


def next_version(before: Lead, **changes: Any) -> Lead:
    """A copy of `before` with `changes`, ready to be saved over it."""
    return before.model_copy(update={**changes, "version": before.version + 1})


def filter_expression(conditions: tuple[Condition, ...]) -> tuple[str | None, dict[str, str], dict[str, Any]]:
    """The plan's conditions as a FilterExpression with its names and values."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}

    def name(field: str) -> str:
        alias = f"#f_{field}"
        names[alias] = field
        return alias

    def value(v: Any) -> str:
        alias = f":v{len(values)}"
        values[alias] = v
        return alias

    def one(c: Condition) -> str:
        if isinstance(c, Eq):
            return f"{name(c.field)} = {value(c.value)}"
        if isinstance(c, Contains):
            return f"contains({name(c.field)}, {value(c.value)})"
        if isinstance(c, Missing):
            return f"attribute_not_exists({name(c.field)})"
        if isinstance(c, AnyOf):
            return "(" + " OR ".join(one(p) for p in c.parts) + ")"
        return f"{name(c.field)} > {value(0)}"

    if not conditions:
        return None, {}, {}
    return " AND ".join(one(c) for c in conditions), names, values
