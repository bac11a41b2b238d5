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
from chalicelib.domain.outbox import DueClaims, DueMessage, OutboxMessage

_NEW = "attribute_not_exists(PK)"
# The sweep claims due messages in transactions of up to 100 conditional updates, not one UpdateItem each:
# a backlog of 1,000 due messages is 10 calls (11-20 when some moved on meanwhile: a cancelled transaction
# names every failed item, and the rest go again once) against 1,000 — the sweep runs while sends are slow,
# when its own calls matter most. The price is 2 write units an item instead of 1, for messages past their
# grace only (none in a healthy system).
CLAIM_BATCH = 100


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

    def due(self, now: str, limit: int = 1000) -> list[DueMessage]:
        """Messages due by `now`, oldest first (at most `limit`; the next sweep takes the rest)."""
        return [DueMessage(message_id=item["message_id"], due_at=item[DUE_SK].removesuffix(f"#{item['message_id']}"))
                for item in self.due_index.all_due("MESSAGE", now, limit) if item.get("type") == "outbox"]

    def claim_due(self, due: list[DueMessage], next_due: str) -> DueClaims:
        """Each message's index entry moves to `next_due` on `due sort key = the one read` (an entry that
        moved or left the index fails its condition: moved on). A cancelled transaction's reasons name
        the failed items; the others go again in the next one. An item another transaction held at that
        moment (TransactionConflict) is left for the next sweep, like one that moved on."""
        claims = DueClaims()
        for start in range(0, len(due), CLAIM_BATCH):
            batch = due[start:start + CLAIM_BATCH]
            while batch:
                try:
                    self.table.transact([_claim_op(d, next_due) for d in batch])
                except TransactionCancelled as exc:
                    passed = [d for i, d in enumerate(batch) if exc.reasons[i:i + 1] == ["None"]]
                    if len(passed) == len(batch):  # no item named: nothing to learn from a retry
                        passed = []
                    kept = {d.message_id for d in passed}
                    claims.moved_on.extend(d.message_id for d in batch if d.message_id not in kept)
                    batch = passed
                    continue
                claims.claimed.extend(d.message_id for d in batch)
                batch = []
        return claims


def _claim_op(due: DueMessage, next_due: str) -> dict[str, Any]:
    return {"Update": {"Key": keys.outbox_key(due.message_id), "UpdateExpression": "SET #dsk = :next",
                       "ConditionExpression": "#dsk = :read",
                       "ExpressionAttributeNames": {"#dsk": DUE_SK},
                       "ExpressionAttributeValues": {
                           ":next": due_entry("MESSAGE", due.message_id, next_due)[DUE_SK],
                           ":read": due_entry("MESSAGE", due.message_id, due.due_at)[DUE_SK]}}}


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
