"""A store's cadences, and the leads whose cadence step is due. Keys: keys.py (patterns 24, 32, 33).

A cadence is one item (`CADENCE#{id}`), listed per store on GSI1 by name. Enrolments are not items
of their own: an enrolment is the lead's `cadence` field, and an active one puts the lead item
itself in the sharded due index (`DUE#CADENCE#{shard}`, leads.lead_attributes), so the sweep finds
a step whose timer was lost, and a due step costs one read of the lead."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.due import DueIndex
from chalicelib.adapters.dynamodb.leads import lead_from_item
from chalicelib.adapters.dynamodb.table import ConditionFailed, Table, entity_fields
from chalicelib.domain.cadences import Cadence
from chalicelib.domain.errors import NotFound, VersionConflict
from chalicelib.domain.leads import Lead
from chalicelib.domain.paging import decode_cursor, encode_cursor

_NEW = "attribute_not_exists(PK)"
DUE_KIND = "CADENCE"


def _item(cadence: Cadence) -> dict[str, Any]:
    return {**keys.cadence_key(cadence.cadence_id), "type": "cadence", **cadence.model_dump(mode="json"),
            "GSI1PK": keys.account_cadences_pk(cadence.account_id),
            "GSI1SK": f"{cadence.name.lower()}#{cadence.cadence_id}"}


class CadenceRepository:
    def __init__(self, table: Table) -> None:
        self.table = table
        self.due_index = DueIndex(table)

    def get(self, cadence_id: str) -> Cadence | None:
        item = self.table.get(keys.cadence_key(cadence_id), consistent=True)
        return Cadence.model_validate(entity_fields(item)) if item else None

    def for_account(self, account_id: str) -> list[Cadence]:
        """Every cadence of a store (a store keeps a few; intake reads them for each new lead)."""
        return [Cadence.model_validate(entity_fields(i))
                for i in self.table.query(keys.account_cadences_pk(account_id), index=1)]

    def page(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[Cadence], str | None]:
        start = decode_cursor(cursor) if cursor else None
        items, last = self.table.query_page(keys.account_cadences_pk(account_id), index=1, limit=limit,
                                            start_key=start)
        return [Cadence.model_validate(entity_fields(i)) for i in items], encode_cursor(last) if last else None

    def add(self, cadence: Cadence) -> None:
        self.table.put(_item(cadence), condition=_NEW)

    def replace(self, before: Cadence, after: Cadence) -> None:
        """`after` over `before`, only while `before` is current: VersionConflict when it was edited or
        deleted meanwhile."""
        try:
            self.table.put(_item(after), condition="version = :seen", values={":seen": before.version})
        except ConditionFailed as exc:
            raise VersionConflict("the cadence changed meanwhile; read it again") from exc

    def delete(self, cadence_id: str) -> None:
        try:
            self.table.delete(keys.cadence_key(cadence_id), condition="attribute_exists(PK)")
        except ConditionFailed as exc:
            raise NotFound("cadence not found") from exc

    def due_steps(self, now: str, limit: int, start: dict[str, Any] | None = None,
                  ) -> tuple[list[Lead], dict[str, Any] | None]:
        """A page of leads whose enrolment's next step is due by `now`, and where the next page starts."""
        items, last = self.due_index.page(DUE_KIND, now, limit, start)
        return [lead_from_item(i) for i in items], last
