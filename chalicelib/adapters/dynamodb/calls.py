"""Calls: a click-to-call is one timeline `call` event (LEAD#{lead_id} / EVENT#{call_id}, keys.py),
written by the lead change that starts it and then updated through its statuses here: each update
is conditional on the call's own `version` (in its data), so two status callbacks racing each other
cannot both apply what they folded from the same state (VersionConflict: read it again)."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.table import Table, Write
from chalicelib.domain.errors import VersionConflict


class CallRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def update(self, lead_id: str, call_id: str, fields: dict[str, Any], version: int) -> Write:
        """Set `fields` in the call event's data and move its version on from `version`."""
        names = {"#d": "data", "#v": "version"}
        values: dict[str, Any] = {":seen": version, ":next": version + 1}
        sets = ["#d.#v = :next"]
        for i, (field, value) in enumerate(fields.items()):
            names[f"#f{i}"] = field
            values[f":f{i}"] = value
            sets.append(f"#d.#f{i} = :f{i}")
        return Write({"Update": {"Key": keys.timeline_event_key(lead_id, call_id),
                                 "UpdateExpression": "SET " + ", ".join(sets),
                                 "ConditionExpression": "#d.#v = :seen", "ExpressionAttributeNames": names,
                                 "ExpressionAttributeValues": values}}, VersionConflict)
