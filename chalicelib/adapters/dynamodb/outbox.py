"""Outbound messages' sending state (OUTBOX#). Keys: keys.py (entity "outbound message", patterns 18, 24).

A message is two items: its timeline event (LEAD#/EVENT#{message_id}, what people read; its
status lives in `data.status`) and its outbox item (what the sender needs, the attempts and
the claim). Every status change updates both in one transaction (`move`). Every outbox item
waiting to be handed over stays in the due index (due.py, kind MESSAGE)."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.due import DUE_PK, DUE_SK, DueIndex, due_entry
from chalicelib.adapters.dynamodb.table import Table, TransactionCancelled, Write, entity_fields
from chalicelib.domain import changes
from chalicelib.domain.errors import AlreadyDecided, ClaimHeld, LeadOptedOut, LostRace
from chalicelib.domain.outbox import OutboxMessage

_NEW = "attribute_not_exists(PK)"


class OutboxRepository:
    def __init__(self, table: Table) -> None:
        self.table = table
        self.due_index = DueIndex(table)

    def get(self, message_id: str) -> OutboxMessage | None:
        item = self.table.get(keys.outbox_key(message_id), consistent=True)
        return OutboxMessage.model_validate(entity_fields(item)) if item else None

    def add(self, message: OutboxMessage, due_at: str) -> Write:
        """A new message, in the due index at `due_at`."""
        item = {**keys.outbox_key(message.message_id), "type": "outbox", **message.model_dump(exclude_none=True),
                **due_entry("MESSAGE", message.message_id, due_at)}
        return Write({"Put": {"Item": item, "ConditionExpression": _NEW}})

    def move(self, lead_id: str, message_id: str, to_status: str, from_statuses: tuple[str, ...], *,
             shown: dict[str, Any] | None = None, set_fields: dict[str, Any] | None = None,
             due_at: str | None = None, release: bool = False, claim_free_at: str | None = None) -> list[changes.Write]:
        """Move a message from one of `from_statuses` to `to_status`: its outbox item and its timeline
        event (`shown`: more fields of the event's data). `due_at` keeps (or moves) it in the due
        index, otherwise it leaves it; `release` drops the claim; `claim_free_at`: only when no claim
        is live at that moment (nobody else is sending it). Raises AlreadyDecided when it moved on."""
        names = {"#st": "status", "#dpk": DUE_PK, "#dsk": DUE_SK}
        values: dict[str, Any] = {":to": to_status}
        sets = ["#st = :to"]
        removes = []
        for i, (field, value) in enumerate((set_fields or {}).items()):
            names[f"#f{i}"] = field
            values[f":f{i}"] = value
            sets.append(f"#f{i} = :f{i}")
        if due_at is not None:
            entry = due_entry("MESSAGE", message_id, due_at)
            values[":dpk"], values[":dsk"] = entry[DUE_PK], entry[DUE_SK]
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
        outbox = Write({"Update": {"Key": keys.outbox_key(message_id), "UpdateExpression": expression,
                                   "ConditionExpression": condition, "ExpressionAttributeNames": names,
                                   "ExpressionAttributeValues": values}}, AlreadyDecided)
        return [outbox, _shown_status(lead_id, message_id, to_status, shown)]

    def claim(self, message: OutboxMessage, now: str, until: str) -> None:
        """Take a queued message to send it: nobody else holds a live claim, and the lead is not
        opted out at this very moment (serialised with the opt-out's own transaction; an email also
        needs the lead not unsubscribed from email). Raises ClaimHeld, or LeadOptedOut when only the
        lead's condition failed."""
        reachable = "attribute_exists(PK) AND opted_out <> :yes"
        if message.channel == "email":
            reachable += " AND (attribute_not_exists(email_opted_out) OR email_opted_out <> :yes)"
        try:
            self.table.transact([
                {"Update": {"Key": keys.outbox_key(message.message_id),
                            "UpdateExpression": "SET claim_until = :until",
                            "ConditionExpression": "#st = :queued AND "
                                                   "(attribute_not_exists(claim_until) OR claim_until < :now)",
                            "ExpressionAttributeNames": {"#st": "status"},
                            "ExpressionAttributeValues": {":until": until, ":queued": "queued", ":now": now}}},
                {"ConditionCheck": {"Key": keys.lead_key(message.lead_id),
                                    "ConditionExpression": reachable,
                                    "ExpressionAttributeValues": {":yes": True}}},
            ])
        except TransactionCancelled as exc:
            if exc.failed(1) and not exc.failed(0):
                raise LeadOptedOut() from exc
            raise ClaimHeld() from exc

    def due(self, now: str, limit: int = 1000) -> list[OutboxMessage]:
        """Messages due by `now`, oldest first (at most `limit`; the next sweep takes the rest)."""
        return [OutboxMessage.model_validate(entity_fields(item))
                for item in self.due_index.all_due("MESSAGE", now, limit) if item.get("type") == "outbox"]


def _shown_status(lead_id: str, message_id: str, status: str, extra: dict[str, Any] | None) -> Write:
    """The timeline event shows the message's state (its `data.status` and times)."""
    names = {"#d": "data", "#st": "status"}
    values: dict[str, Any] = {":st": status}
    sets = ["#d.#st = :st"]
    for i, (field, value) in enumerate((extra or {}).items()):
        names[f"#x{i}"] = field
        values[f":x{i}"] = value
        sets.append(f"#d.#x{i} = :x{i}")
    return Write({"Update": {"Key": keys.timeline_event_key(lead_id, message_id),
                             "UpdateExpression": "SET " + ", ".join(sets),
                             "ConditionExpression": "attribute_exists(PK)",
                             "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}}, LostRace)
