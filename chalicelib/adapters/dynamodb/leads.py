"""Leads, their flag-folder markers and their timelines. Keys: keys.py (patterns 9-20).

Every lead change is one transaction (services/lead_changes.change_lead): the lead item
(conditional on the `version` it was read at: LeadChanged), its flag markers, and the writes
that record the change (timeline events, score entries, report events) or go with it (an
offer, an outbox message, a contact key), made by the repositories as `Write`s."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any

from chalicelib.adapters.dynamodb import keys, senders
from chalicelib.adapters.dynamodb.due import DueIndex, due_entry
from chalicelib.adapters.dynamodb.lead_filters import filter_expression
from chalicelib.adapters.dynamodb.routing import store_routing_keys, store_routing_of
from chalicelib.adapters.dynamodb.table import ConditionFailed, Table, TransactionCancelled, Write, entity_fields
from chalicelib.domain import changes
from chalicelib.domain.accounts import Account
from chalicelib.domain.errors import ContactTaken, LeadChanged, NotFound
from chalicelib.domain.inbound import Conversation, LanguageSet, SenderHint
from chalicelib.domain.lead_query import ListPlan, Position, StoreBatch, search_text
from chalicelib.domain.leads import Lead
from chalicelib.domain.report_events import ReportEvent
from chalicelib.domain.routing import StoreRouting
from chalicelib.domain.scoring import ScoreEvent
from chalicelib.domain.timeline import TimelineEvent
from chalicelib.domain.users import User
from chalicelib.ids import time_ordered_part

_NEW = "attribute_not_exists(PK)"
# A message event's marker: its text is to tell its lead's language (keys.py, "A lead's language").
LANGUAGE_WANTED = "language_wanted"
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


def _event_from_item(item: dict[str, Any]) -> TimelineEvent:
    # An event item's `type` attribute is the event's own type (event_op's dump overrides the
    # entity marker), so it is kept, unlike entity_fields.
    return TimelineEvent.model_validate(
        {k: v for k, v in item.items() if k not in ("PK", "SK") and not k.startswith("GSI")})


def lead_attributes(lead: Lead) -> dict[str, Any]:
    """The lead's index attributes: inbox, status folder, awaiting, assignee, its due cadence step."""
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
    if lead.cadence is not None and lead.cadence.active and lead.cadence.next_at:
        # The next cadence step, for the sweep behind its timer (cadences.CadenceRepository.due_steps).
        attrs.update(due_entry("CADENCE", lead.lead_id, lead.cadence.next_at))
    attrs[SEARCH_ATTRIBUTE] = _search(lead)
    return attrs


def lead_item(lead: Lead) -> dict[str, Any]:
    return {**keys.lead_key(lead.lead_id), "type": "lead", **lead.model_dump(mode="json", exclude_none=True),
            **lead_attributes(lead)}


def flag_item(lead: Lead, flag: str) -> dict[str, Any]:
    """A copy of the lead under its own key, indexed in one flag folder (GSI4) by the flag's time
    (`Lead.flag_time`: last activity; `due` its deadline, `delinquent` its arrival)."""
    data = lead.model_dump(mode="json", exclude_none=True)
    item = {**keys.lead_flag_key(lead.lead_id, flag), "type": "lead_flag", "flag": flag, **data,
            SEARCH_ATTRIBUTE: _search(lead),
            "GSI4PK": keys.account_flag_pk(lead.account_id, flag),
            "GSI4SK": keys.activity_sk(lead.flag_time(flag), lead.lead_id)}
    next_at = lead.deadline.next_at() if flag == "due" and lead.deadline is not None else None
    if next_at is not None:
        # The sweep behind the deadline's timers, due at its warning, then at the deadline: on the `due`
        # flag item, not the lead item, whose due-index slot is its cadence step's (one GSI7 key per item).
        item.update(due_entry("DEADLINE", lead.lead_id, next_at))
    return item


def _search(lead: Lead) -> str:
    return search_text(lead.first_name, lead.last_name, lead.email, lead.phone)


def lead_from_item(item: dict[str, Any]) -> Lead:
    data = entity_fields(item)
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
        return NotFound.unless(self.get(lead_id), "lead")

    def with_store(self, lead_id: str, account_id: str) -> tuple[Lead | None, Account | None]:
        """A lead and its store's record in one consistent BatchGetItem (patterns 9 and 2)."""
        found = {item["PK"]: item for item in self.table.batch_get(
            [keys.lead_key(lead_id), keys.account_key(account_id)], consistent=True)}
        lead, account = found.get(keys.lead_key(lead_id)["PK"]), found.get(keys.account_key(account_id)["PK"])
        return (lead_from_item(lead) if lead else None,
                Account.model_validate(entity_fields(account)) if account else None)

    def conversation(self, account_id: str, kind: str, value: str, lead_id: str,
                     owner_id: str | None) -> Conversation:
        """The store's contact key of (kind, value), with the lead and owner an SMS sender pointer names
        and the store's record, in one consistent BatchGetItem (keys.py pattern 40). What is absent stays
        None; nothing is checked here (domain/inbound.verified does)."""
        wanted = [keys.contact_key(account_id, kind, value), keys.lead_key(lead_id), keys.account_key(account_id)]
        wanted += [keys.user_key(owner_id)] if owner_id else []
        found = {(i["PK"], i["SK"]): i for i in self.table.batch_get(wanted, consistent=True)}
        contact, lead, store, *owner = (found.get((key["PK"], key["SK"])) for key in wanted)
        return Conversation(
            lead_id=str(contact["lead_id"]) if contact else None, lead=lead_from_item(lead) if lead else None,
            store=Account.model_validate(entity_fields(store)) if store else None,
            owner=User.model_validate(entity_fields(owner[0])) if owner and owner[0] else None)

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

    def many(self, lead_ids: set[str]) -> dict[str, Lead]:
        """Several leads in one BatchGetItem (eventually consistent), by id; absent ones left out."""
        items = self.table.batch_get([keys.lead_key(lead_id) for lead_id in sorted(lead_ids)])
        return {item["lead_id"]: lead_from_item(item) for item in items}

    def due_deadlines(self, now: str, limit: int, start: dict[str, Any] | None = None,
                      ) -> tuple[list[Lead], dict[str, Any] | None]:
        """Leads whose response deadline has its warning or its deadline due by `now` (pattern 24)."""
        items, last = DueIndex(self.table).page("DEADLINE", now, limit, start)
        return [lead_from_item(i) for i in items], last

    # -- writes of a transaction ----------------------------------------------------------

    def create(self, lead: Lead) -> list[changes.Write]:
        writes: list[changes.Write] = [Write({"Put": {"Item": lead_item(lead), "ConditionExpression": _NEW}})]
        writes += [Write({"Put": {"Item": flag_item(lead, f)}}) for f in sorted(lead.flags)]
        return writes

    def save(self, before: Lead, after: Lead) -> list[changes.Write]:
        """`after` must carry `version = before.version + 1` (domain.leads.next_version); LeadChanged when
        the lead moved on since `before` was read."""
        writes: list[changes.Write] = [Write({"Put": {
            "Item": lead_item(after), "ConditionExpression": "version = :seen",
            "ExpressionAttributeValues": {":seen": before.version},
        }}, LeadChanged)]
        writes += [Write({"Put": {"Item": flag_item(after, f)}}) for f in sorted(after.flags)]
        writes += [Write({"Delete": {"Key": keys.lead_flag_key(after.lead_id, f)}})
                   for f in sorted(before.flags - after.flags)]
        return writes

    def add_event(self, event: TimelineEvent) -> Write:
        item = {**keys.timeline_event_key(event.lead_id, event.event_id), "type": "event",
                **event.model_dump(mode="json", exclude_none=True, exclude={"language_wanted"})}
        if event.language_wanted:
            item[LANGUAGE_WANTED] = True  # the stream's filter passes the item to services/language.py
        return Write({"Put": {"Item": item, "ConditionExpression": _NEW}})

    def set_language(self, lead_id: str, language: str) -> LanguageSet:
        """The lead's language, unless it has one (keys.py, "A lead's language"). Every other writer
        puts the whole lead on the version it read: this update raises the version too, so their
        save fails and decides again on the lead with its language (nothing of theirs or this lost).
        The flag copies are rewritten from the lead this left, if no save came in between."""
        try:
            item = self.table.update(keys.lead_key(lead_id), "SET #language = :language, #version = #version + :one",
                                     condition="attribute_exists(PK) AND attribute_not_exists(#language)",
                                     names={"#language": "language", "#version": "version"},
                                     values={":language": language, ":one": 1})
        except ConditionFailed as exc:
            return "kept" if exc.item else "gone"
        lead = lead_from_item(item)
        if lead.flags:
            seen = {":seen": lead.version - 1}
            # Cancelled: a save since (or one racing, which fails on the lead's version and saves again)
            # writes the flag copies from the lead with its language.
            with suppress(TransactionCancelled):
                self.table.transact([{"Put": {"Item": flag_item(lead, f), "ConditionExpression": "version = :seen",
                                              "ExpressionAttributeValues": seen}} for f in sorted(lead.flags)])
        return "set"

    def add_score(self, event: ScoreEvent) -> Write:
        item = {**keys.score_event_key(event.user_id, event.at, event.event_id), "type": "score",
                **event.model_dump(mode="json")}
        return Write({"Put": {"Item": item, "ConditionExpression": _NEW}})

    def add_report(self, event: ReportEvent) -> Write:
        item = {"PK": keys.report_day_pk(event.account_id, event.at[:10]), "SK": f"{event.at}#{event.event_id}",
                "type": "report_event", **event.model_dump(mode="json", exclude_none=True)}
        return Write({"Put": {"Item": item, "ConditionExpression": _NEW}})

    # -- contact keys (coalescing, inbound messages: pattern 20) ------------------------

    def contact(self, account_id: str, kind: str, value: str) -> dict[str, Any] | None:
        """The contact key of a store's phone / email / Messenger id: {lead_id, at} or None."""
        item = self.table.get(keys.contact_key(account_id, kind, value), consistent=True)
        return {"lead_id": item["lead_id"], "at": item.get("at")} if item else None

    def contact_and_routing(self, account_id: str, kind: str, value: str) -> tuple[dict[str, Any] | None,
                                                                                  StoreRouting]:
        """`contact` and the store's routing (RoutingStore.store_routing) in one consistent BatchGetItem
        (patterns 20 and 8): an unknown sender's message, which joins the lead if one appeared, else
        makes one and routes it."""
        key = keys.contact_key(account_id, kind, value)
        items = self.table.batch_get([key, *store_routing_keys(account_id)], consistent=True)
        contact = next((i for i in items if i["PK"] == key["PK"]), None)
        return ({"lead_id": contact["lead_id"], "at": contact.get("at")} if contact else None,
                store_routing_of(account_id, items))

    def contacts(self, account_id: str, points: list[tuple[str, str]]) -> dict[str, dict[str, Any] | None]:
        """`contact` for several (kind, value) points of one store in one consistent BatchGetItem, by kind."""
        if len(points) < 2:
            return {kind: self.contact(account_id, kind, value) for kind, value in points}
        wanted = {keys.contact_key(account_id, kind, value)["PK"]: kind for kind, value in points}
        items = self.table.batch_get([keys.contact_key(account_id, kind, value) for kind, value in points],
                                     consistent=True)
        found: dict[str, dict[str, Any] | None] = dict.fromkeys(wanted.values())
        for item in items:
            found[wanted[item["PK"]]] = {"lead_id": item["lead_id"], "at": item.get("at")}
        return found

    def claim_contact(self, account_id: str, kind: str, value: str, lead_id: str, at: str,
                      seen_lead_id: str | None) -> Write:
        """Point a contact key at `lead_id`, only if it still is what the caller read: absent, or
        pointing at `seen_lead_id` (a closed or expired lead); ContactTaken otherwise. Two requests
        racing for one contact cannot both win, so they cannot both create a lead."""
        item = {**keys.contact_key(account_id, kind, value), "type": "contact", "lead_id": lead_id,
                "account_id": account_id, "kind": kind, "at": at}
        if seen_lead_id is None:
            return Write({"Put": {"Item": item, "ConditionExpression": _NEW}}, ContactTaken)
        return Write({"Put": {"Item": item, "ConditionExpression": "lead_id = :seen",
                              "ExpressionAttributeValues": {":seen": seen_lead_id}}}, ContactTaken)

    def point_sender(self, e164: str, sender: str, hint: SenderHint, ttl: int) -> Write:
        """The SMS sender pointer of `sender` on the store number `e164`, a write of the lead's
        transaction (keys.py, "SMS sender pointers": unconditional, verified when read)."""
        return senders.point(e164, sender, hint, ttl)

    def release_contact(self, account_id: str, kind: str, value: str, lead_id: str) -> Write:
        """Drop a contact key only while it still points at `lead_id` (a lead's phone or email changed)."""
        return Write({"Delete": {"Key": keys.contact_key(account_id, kind, value),
                                 "ConditionExpression": "lead_id = :me",
                                 "ExpressionAttributeValues": {":me": lead_id}}}, ContactTaken)

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
