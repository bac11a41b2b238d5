"""The table's DynamoDB stream consumer, filtered to report events and score entries (applied to the
leads' ledgers and the stores' rollup days) and to customers' messages marked for their lead's
language (detected and set: services/language.py; the language layer is on this function alone)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.deps import get_deps
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.services import table_stream
else:
    table_stream = lazy_module("chalicelib.services.table_stream")

bp = Blueprint(__name__)

# `leadline package` points the event source at the table's stream (Fn::GetAtt Table.StreamArn);
# the local stack and the tests read the stream of the table they made.
TABLE_STREAM = "arn:aws:dynamodb:::table/leadline/stream/set-by-leadline-package"
BATCH_SIZE = 100


@bp.on_dynamodb_record(stream_arn=TABLE_STREAM, batch_size=BATCH_SIZE, starting_position="TRIM_HORIZON")
def report_rollups(event: Any) -> dict[str, Any]:
    """Partial batch response: the records of leads whose ledger, days or language could not be saved.
    Lambda retries from the first of them; applying a record again changes nothing."""
    failed = table_stream.apply_stream_records(get_deps(), [record.to_dict() for record in event])
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}
