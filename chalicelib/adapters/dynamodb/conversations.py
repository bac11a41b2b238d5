"""Conversations in the table: outbound messages' sending state (OUTBOX#), provider-sid lookups,
webhook dedup keys, saved replies and appointments. Keys: keys.py (patterns 18-24, 27-28).

A message is two items: its timeline event (LEAD#/EVENT#{message_id}, what people read; its
status lives in `data.status`) and, for outbound ones, its outbox item (what the sender needs,
the attempts and the claim). Every status change updates both in one transaction."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.table import (
    ConditionFailed,
    Table,
    TransactionCancelled,
    decode_cursor,
    encode_cursor,
)
from chalicelib.domain.errors import NotFound
from chalicelib.model import BaseModel

Op = dict[str, Any]
_NEW = "attribute_not_exists(PK)"
DEDUP_DAYS = 7
_DUE_PK, _DUE_SK = "GSI7PK", "GSI7SK"


class OutboxMessage(BaseModel):
    """The sending side of one outbound message."""

    message_id: str
    lead_id: str
    account_id: str
    group_id: str
    channel: str
    to: str
    sender: str | None = None
    body: str = ""
    media_urls: list[str] = Field(default_factory=list)
    automated: bool = False
    by: str | None = None
    status: str
    send_at: str | None = None
    attempts: int = 0
    claim_until: str | None = None
    provider_id: str | None = None
    created_at: str


class ProviderMessage(BaseModel):
    """What a provider's message id points at (delivery callbacks)."""

    lead_id: str
    message_id: str
    account_id: str | None = None  # absent on messages sent before it was recorded
    provider_account: str | None = None  # the Twilio subaccount it went through; None: the stage's account


class SavedReply(BaseModel):
    saved_reply_id: str
    account_id: str
    group_id: str
    title: str
    body: str
    created_by: str | None = None
    created_at: str
    updated_at: str


class Appointment(BaseModel):
    appointment_id: str
    lead_id: str
    account_id: str
    group_id: str
    at: str
    note: str | None = None
    status: str = "scheduled"
    created_by: str | None = None
    created_at: str
    updated_at: str


def _strip(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("PK", "SK", "type", "ttl") and not k.startswith("GSI")}


class ConversationRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    # -- outbox -----------------------------------------------------------------------

    @staticmethod
    def outbox_put_op(message: OutboxMessage, due_at: str) -> Op:
        item = {**keys.outbox_key(message.message_id), "type": "outbox", **message.model_dump(exclude_none=True),
                _DUE_PK: keys.due_pk("MESSAGE"), _DUE_SK: f"{due_at}#{message.message_id}"}
        return {"Put": {"Item": item, "ConditionExpression": _NEW}}

    def outbox(self, message_id: str) -> OutboxMessage | None:
        item = self.table.get(keys.outbox_key(message_id), consistent=True)
        return OutboxMessage.model_validate(_strip(item)) if item else None

    @staticmethod
    def outbox_status_op(message_id: str, to_status: str, from_statuses: tuple[str, ...], *,
                         set_fields: dict[str, Any] | None = None, due_at: str | None = None,
                         release: bool = False, claim_free_at: str | None = None) -> Op:
        """Move the outbox item from one of `from_statuses` to `to_status`. `due_at` keeps (or
        moves) it in the due index; otherwise it leaves the index. `claim_free_at`: only when no
        claim is live at that moment (nobody else is sending it)."""
        names = {"#st": "status", "#dpk": _DUE_PK, "#dsk": _DUE_SK}
        values: dict[str, Any] = {":to": to_status}
        sets = ["#st = :to"]
        removes = []
        for i, (field, value) in enumerate((set_fields or {}).items()):
            names[f"#f{i}"] = field
            values[f":f{i}"] = value
            sets.append(f"#f{i} = :f{i}")
        if due_at is not None:
            values[":dpk"] = keys.due_pk("MESSAGE")
            values[":dsk"] = f"{due_at}#{message_id}"
            sets += ["#dpk = :dpk", "#dsk = :dsk"]
        else:
            removes += ["#dpk", "#dsk"]
        if release:
            names["#claim"] = "claim_until"
            removes.append("#claim")
        froms = []
        for i, status in enumerate(from_statuses):
            values[f":from{i}"] = status
            froms.append(f":from{i}")
        condition = f"#st IN ({', '.join(froms)})"
        if claim_free_at is not None:
            names["#claim"] = "claim_until"
            values[":now"] = claim_free_at
            condition += " AND (attribute_not_exists(#claim) OR #claim < :now)"
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        return {"Update": {"Key": keys.outbox_key(message_id), "UpdateExpression": expression,
                           "ConditionExpression": condition, "ExpressionAttributeNames": names,
                           "ExpressionAttributeValues": values}}

    @staticmethod
    def event_status_op(lead_id: str, message_id: str, status: str, extra: dict[str, Any] | None = None) -> Op:
        """The timeline event shows the message's state (its `data.status` and times)."""
        names = {"#d": "data", "#st": "status"}
        values: dict[str, Any] = {":st": status}
        sets = ["#d.#st = :st"]
        for i, (field, value) in enumerate((extra or {}).items()):
            names[f"#x{i}"] = field
            values[f":x{i}"] = value
            sets.append(f"#d.#x{i} = :x{i}")
        return {"Update": {"Key": keys.timeline_event_key(lead_id, message_id),
                           "UpdateExpression": "SET " + ", ".join(sets),
                           "ConditionExpression": "attribute_exists(PK)",
                           "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}}

    def claim(self, message: OutboxMessage, now: str, until: str) -> None:
        """Take a queued message to send it: nobody else holds a live claim, and the lead is not
        opted out at this very moment (serialised with the opt-out's own transaction).
        Raises TransactionCancelled: reasons[0] the message, reasons[1] the lead."""
        self.table.transact([
            {"Update": {"Key": keys.outbox_key(message.message_id),
                        "UpdateExpression": "SET claim_until = :until",
                        "ConditionExpression": "#st = :queued AND "
                                               "(attribute_not_exists(claim_until) OR claim_until < :now)",
                        "ExpressionAttributeNames": {"#st": "status"},
                        "ExpressionAttributeValues": {":until": until, ":queued": "queued", ":now": now}}},
            {"ConditionCheck": {"Key": keys.lead_key(message.lead_id),
                                "ConditionExpression": "attribute_exists(PK) AND opted_out <> :yes",
                                "ExpressionAttributeValues": {":yes": True}}},
        ])

    def due(self, now: str, limit: int = 1000) -> list[OutboxMessage]:
        """Outbox items due by `now`, oldest first (at most `limit`; the next sweep takes the rest)."""
        found: list[OutboxMessage] = []
        for item in self.table.query(keys.due_pk("MESSAGE"), index=7, sk_condition="#sk <= :now",
                                     sk_values={":now": now + "~"}, limit=min(limit, 500)):
            if item.get("type") == "outbox":
                found.append(OutboxMessage.model_validate(_strip(item)))
            if len(found) >= limit:
                break
        return found

    # -- provider ids, dedup ------------------------------------------------------------

    @staticmethod
    def provider_lookup_op(provider: str, sid: str, lead_id: str, message_id: str, *, account_id: str | None = None,
                           provider_account: str | None = None) -> Op:
        """`provider_account`: the Twilio subaccount the message was sent through (absent: the stage's
        account) — the account whose auth token signs the message's status callbacks."""
        item = {**keys.provider_message_key(provider, sid), "type": "provider_message", "lead_id": lead_id,
                "message_id": message_id}
        if account_id:
            item["account_id"] = account_id
        if provider_account:
            item["provider_account"] = provider_account
        return {"Put": {"Item": item}}

    def provider_message(self, provider: str, sid: str) -> ProviderMessage | None:
        item = self.table.get(keys.provider_message_key(provider, sid))
        if not item:
            return None
        return ProviderMessage(lead_id=item["lead_id"], message_id=item["message_id"],
                               account_id=item.get("account_id"), provider_account=item.get("provider_account"))

    @staticmethod
    def dedup_op(source: str, dedup_id: str, ttl: int, **data: Any) -> Op:
        """A provider's message id, written with the message: a second delivery fails this condition."""
        return {"Put": {"Item": {**keys.dedup_key(source, dedup_id), "type": "dedup", "ttl": ttl, **data},
                        "ConditionExpression": _NEW}}

    def dedup(self, source: str, dedup_id: str) -> dict[str, Any] | None:
        item = self.table.get(keys.dedup_key(source, dedup_id), consistent=True)
        return _strip(item) if item else None

    def claim_dedup(self, source: str, dedup_id: str, ttl: int, now: str, stale_before: str) -> bool:
        """Claim a provider message id for slow processing (a new lead from an unknown sender).
        True when this caller holds it: new, or an earlier claim went stale without finishing."""
        try:
            self.table.put({**keys.dedup_key(source, dedup_id), "type": "dedup", "ttl": ttl, "claimed_at": now},
                           condition="attribute_not_exists(PK) OR (attribute_not_exists(message_id) "
                                     "AND claimed_at < :stale)",
                           values={":stale": stale_before})
        except ConditionFailed:
            return False
        return True

    @staticmethod
    def dedup_done_op(source: str, dedup_id: str, lead_id: str, message_id: str) -> Op:
        return {"Update": {"Key": keys.dedup_key(source, dedup_id),
                           "UpdateExpression": "SET lead_id = :l, message_id = :m",
                           "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(message_id)",
                           "ExpressionAttributeValues": {":l": lead_id, ":m": message_id}}}

    # -- saved replies ------------------------------------------------------------------

    def put_saved_reply(self, reply: SavedReply, new: bool) -> None:
        item = {**keys.saved_reply_key(reply.saved_reply_id), "type": "saved_reply", **reply.model_dump(),
                "GSI1PK": keys.account_saved_replies_pk(reply.account_id),
                "GSI1SK": f"{reply.title.lower()}#{reply.saved_reply_id}"}
        self.table.put(item, condition=_NEW if new else "attribute_exists(PK)")

    def saved_reply(self, saved_reply_id: str) -> SavedReply | None:
        item = self.table.get(keys.saved_reply_key(saved_reply_id))
        return SavedReply.model_validate(_strip(item)) if item else None

    def saved_replies(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[SavedReply], str | None]:
        start = decode_cursor(cursor) if cursor else None
        items, last = self.table.query_page(keys.account_saved_replies_pk(account_id), index=1, limit=limit,
                                            start_key=start)
        return [SavedReply.model_validate(_strip(i)) for i in items], encode_cursor(last) if last else None

    def delete_saved_reply(self, saved_reply_id: str) -> None:
        try:
            self.table.delete(keys.saved_reply_key(saved_reply_id), condition="attribute_exists(PK)")
        except ConditionFailed as exc:
            raise NotFound("saved reply not found") from exc

    # -- appointments -------------------------------------------------------------------

    @staticmethod
    def appointment_put_op(appointment: Appointment, expected_status: str | None = None) -> Op:
        item = {**keys.appointment_key(appointment.appointment_id), "type": "appointment",
                **appointment.model_dump(exclude_none=True),
                "GSI1PK": keys.account_appointments_pk(appointment.account_id),
                "GSI1SK": f"{appointment.at}#{appointment.appointment_id}"}
        if expected_status is None:
            return {"Put": {"Item": item, "ConditionExpression": _NEW}}
        return {"Put": {"Item": item, "ConditionExpression": "#st = :seen",
                        "ExpressionAttributeNames": {"#st": "status"},
                        "ExpressionAttributeValues": {":seen": expected_status}}}

    def appointment(self, appointment_id: str) -> Appointment | None:
        item = self.table.get(keys.appointment_key(appointment_id), consistent=True)
        return Appointment.model_validate(_strip(item)) if item else None


def cancelled_by(exc: TransactionCancelled, index: int) -> bool:
    return len(exc.reasons) > index and exc.reasons[index] == "ConditionalCheckFailed"

