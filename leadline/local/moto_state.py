"""Loading saved state straight into moto's models, in this process, before anything else runs.

Through moto's own model methods rather than its HTTP API: SQS has no API that keeps a
message's id and the end of its delay, and a table of thousands of items loads in a fraction
of the time BatchWriteItem takes (no HTTP, no JSON, no per-call locking). Items go through
`Table.put_item`, the method moto's PutItem runs, so indexes see them as they see any put; the
table's stream does not: its record was made when the item was first written, and a stream
consumer must not see every saved item again as new at each start. Only the items whose
record the consumer had not taken before the stack stopped (`stream_backlog`) make their
record again. Only this module and
sqs_journal.py know moto's internals; tests/e2e/test_local_journal.py pins them."""

from __future__ import annotations

import logging
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.sqs import models as sqs_models

from leadline.local.sqs_journal import from_json_value

log = logging.getLogger("local_stack.restore")


def restore_items(tables: dict[str, dict[str, dict[str, Any]]],
                  stream_backlog: dict[str, set[str]] | None = None) -> tuple[int, int]:
    """Put saved items back into their tables; returns (restored, dropped because their table
    no longer exists). The items in `stream_backlog` (table -> keys) go in last, through the
    table's stream. The local stack runs as moto's default account."""
    restored = dropped = 0
    for ref, items in tables.items():
        region, name = ref.split("/", 1)
        table = dynamodb_backends[DEFAULT_ACCOUNT_ID][region].tables.get(name)
        if table is None:
            dropped += len(items)
            continue
        again = (stream_backlog or {}).get(ref, set()) & items.keys()
        stream, table.stream_shard = table.stream_shard, None
        try:
            for key, item in items.items():
                if key not in again:
                    table.put_item(item, overwrite=True)
        finally:
            table.stream_shard = stream
        for key in sorted(again):
            table.put_item(items[key], overwrite=True)
        if again:
            log.info("%d stream records the consumer had not taken are made again", len(again))
        restored += len(items)
    return restored, dropped


def rebuilt_message(record: dict[str, Any]) -> Any:
    message = sqs_models.Message(record["id"], record["body"], from_json_value(record["system_attributes"]))
    message.message_attributes = from_json_value(record["attributes"])
    message.group_id = record["group_id"]
    message.deduplication_id = record["deduplication_id"]
    message.sequence_number = record["sequence_number"]
    message.sent_timestamp = record["sent_timestamp"]
    message.delayed_until = record["delayed_until"]
    message.approximate_receive_count = record["receive_count"]
    message.approximate_first_receive_timestamp = record["first_receive_timestamp"]
    return message


def restore_messages(queues: dict[str, dict[str, dict[str, Any]]]) -> tuple[int, int]:
    """Put saved messages back into their queues in moto; returns (restored, dropped because
    their queue no longer exists)."""
    restored = dropped = 0
    for ref, messages in queues.items():
        account, region, name = ref.split("/", 2)
        queue = sqs_models.sqs_backends[account][region].queues.get(name)
        if queue is None:
            dropped += len(messages)
            continue
        ordered = sorted(messages.values(), key=lambda m: (m["sent_timestamp"] or 0, m["id"]))
        with queue._messages_lock:
            queue._messages.extend(rebuilt_message(record) for record in ordered)
            queue._messages_lock.notify_all()
        restored += len(ordered)
    if dropped:
        log.warning("%d saved messages belong to queues that no longer exist; they are dropped", dropped)
    return restored, dropped

