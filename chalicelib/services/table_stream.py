"""The table's stream consumer (handlers/rollups.py): each record goes to what it feeds — report
events and score entries to the report rollups (services/rollups.py), a customer's message marked
for its lead's language to services/language.py. Both are idempotent and order-free."""

from __future__ import annotations

from typing import Any

from chalicelib.deps import Deps
from chalicelib.services import language, rollups


def apply_stream_records(deps: Deps, records: list[dict[str, Any]]) -> list[str]:
    """The sequence numbers of the records to retry (Lambda's partial batch response), in stream order."""
    failed = {*rollups.apply_stream_records(deps, records), *language.apply_stream_records(deps, records)}
    in_order = [str(record["dynamodb"]["SequenceNumber"]) for record in records]
    return [sequence for sequence in in_order if sequence in failed]
