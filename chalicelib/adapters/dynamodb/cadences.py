"""A store's cadences, and the leads whose cadence step is due. Keys: keys.py (patterns 24, 32, 33).

A cadence is one item (`CADENCE#{id}`), listed per store on GSI1 by name. Enrolments are not items
of their own: an enrolment is the lead's `cadence` field, and an active one puts the lead item
itself in the sharded due index (`DUE#CADENCE#{shard}`, leads.lead_attributes), so the sweep finds
a step whose timer was lost, and a due step costs one read of the lead.

Every cadence write keeps the store's ARRIVALS item (the ids of its new-lead cadences, read with the
store's routing) in the same transaction: see keys.py's conditions."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.due import DueIndex
from chalicelib.adapters.dynamodb.leads import lead_from_item
from chalicelib.adapters.dynamodb.table import Table, TransactionCancelled, entity_fields
from chalicelib.domain.cadences import Cadence
from chalicelib.domain.errors import LostRace, NotFound, VersionConflict
from chalicelib.domain.leads import Lead
from chalicelib.domain.paging import decode_cursor, encode_cursor

_NEW = "attribute_not_exists(PK)"
DUE_KIND = "CADENCE"


def _item(cadence: Cadence) -> dict[str, Any]:
    return {**keys.cadence_key(cadence.cadence_id), "type": "cadence", **cadence.model_dump(mode="json"),
            "GSI1PK": keys.account_cadences_pk(cadence.account_id),
            "GSI1SK": f"{cadence.name.lower()}#{cadence.cadence_id}"}


def _arrivals_update(account_id: str, cadence_id: str, on_arrival: bool) -> dict[str, Any]:
    return {"Update": {"Key": keys.arrivals_key(account_id),
                       "UpdateExpression": f"SET #type = :type {'ADD' if on_arrival else 'DELETE'} ids :id",
                       "ConditionExpression": "attribute_exists(PK)", "ExpressionAttributeNames": {"#type": "type"},
                       "ExpressionAttributeValues": {":type": "arrival_cadences", ":id": {cadence_id}}}}


def arrivals_fill(account_id: str, ids: set[str]) -> dict[str, Any]:
    """The store's ARRIVALS as a whole, where it is not yet (a new store; a store from before it was kept)."""
    item = {**keys.arrivals_key(account_id), "type": "arrival_cadences", **({"ids": ids} if ids else {})}
    return {"Put": {"Item": item, "ConditionExpression": _NEW}}


class CadenceRepository:
    def __init__(self, table: Table) -> None:
        self.table = table
        self.due_index = DueIndex(table)

    def get(self, cadence_id: str) -> Cadence | None:
        item = self.table.get(keys.cadence_key(cadence_id), consistent=True)
        return Cadence.model_validate(entity_fields(item)) if item else None

    def for_account(self, account_id: str) -> list[Cadence]:
        """Every cadence of a store (a store keeps a few; intake reads them while the store has a new-lead one)."""
        return [Cadence.model_validate(entity_fields(i))
                for i in self.table.query(keys.account_cadences_pk(account_id), index=1)]

    def page(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[Cadence], str | None]:
        start = decode_cursor(cursor) if cursor else None
        items, last = self.table.query_page(keys.account_cadences_pk(account_id), index=1, limit=limit,
                                            start_key=start)
        return [Cadence.model_validate(entity_fields(i)) for i in items], encode_cursor(last) if last else None

    def add(self, cadence: Cadence) -> None:
        self._write({"Put": {"Item": _item(cadence), "ConditionExpression": _NEW}}, cadence, cadence.on_arrival,
                    LostRace())

    def replace(self, before: Cadence, after: Cadence) -> None:
        """`after` over `before`, only while `before` is current: VersionConflict when it was edited or
        deleted meanwhile."""
        self._write({"Put": {"Item": _item(after), "ConditionExpression": "version = :seen",
                             "ExpressionAttributeValues": {":seen": before.version}}}, after, after.on_arrival,
                    VersionConflict("the cadence changed meanwhile; read it again"))

    def delete(self, cadence: Cadence) -> None:
        self._write({"Delete": {"Key": keys.cadence_key(cadence.cadence_id),
                                "ConditionExpression": "attribute_exists(PK)"}}, cadence, False,
                    NotFound("cadence not found"))

    def _write(self, op: dict[str, Any], cadence: Cadence, on_arrival: bool, conflict: Exception) -> None:
        """The cadence's write with its id added to (or taken out of) the store's ARRIVALS; `conflict`
        when the cadence's own condition failed. A store without ARRIVALS gets it filled."""
        account_id, cadence_id = cadence.account_id, cadence.cadence_id
        for _ in range(2):
            if self._commit(op, _arrivals_update(account_id, cadence_id, on_arrival), conflict):
                return
            # No ARRIVALS yet: the store's cadences as they are (written before it was kept), with this change.
            ids = {c.cadence_id for c in self.for_account(account_id) if c.on_arrival} - {cadence_id}
            if self._commit(op, arrivals_fill(account_id, ids | ({cadence_id} if on_arrival else set())), conflict):
                return
            # Another write filled it meanwhile: apply this one's id to that.
        raise LostRace()

    def _commit(self, op: dict[str, Any], arrivals: dict[str, Any], conflict: Exception) -> bool:
        """False when only the ARRIVALS condition failed."""
        try:
            self.table.transact([op, arrivals])
        except TransactionCancelled as exc:
            if exc.failed(0):
                raise conflict from exc
            if not exc.failed(1):
                raise LostRace() from exc
            return False
        return True

    def due_steps(self, now: str, limit: int, start: dict[str, Any] | None = None,
                  ) -> tuple[list[Lead], dict[str, Any] | None]:
        """A page of leads whose enrolment's next step is due by `now`, and where the next page starts."""
        items, last = self.due_index.page(DUE_KIND, now, limit, start)
        return [lead_from_item(i) for i in items], last
