"""The SQS half of the journal, hooked into moto's queue model (moto_state.py puts messages back).

Hooks rather than requests: moto moves a message to its dead-letter queue in the middle of a
ReceiveMessage, and an EventBridge rule puts one on a queue without any SQS request at all;
`Queue.add_message` and `Queue.delete_message` see every such change. Each hook commits
before the change returns to the call that made it, so the caller's answer comes after the
line is on disk.

Kept per message: id, body, message and system attributes, group/deduplication ids, when it
was sent, when its delay ends (wall-clock epoch ms, so a timer fires at its time however long
the stack was down), its receive count. Not kept: in-flight state — a message received and
not deleted before a crash is visible again after the restart, as after a visibility timeout.

This module and moto_state.py are the places that know moto's internals (Message fields,
Queue._messages); tests/e2e/test_local_journal.py pins them."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from moto.sqs import models as sqs_models

from leadline.local.journal import Journal


def queue_ref(queue: Any) -> str:
    return f"{queue.account_id}/{queue.region}/{queue.name}"


def to_json_value(value: Any) -> Any:
    """Message attribute values as JSON (binary values tagged as base64)."""
    if isinstance(value, bytes):
        return {"__base64__": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {k: to_json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json_value(v) for v in value]
    return value


def from_json_value(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__base64__"}:
            return base64.b64decode(value["__base64__"])
        return {k: from_json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json_value(v) for v in value]
    return value


def message_record(message: Any) -> dict[str, Any]:
    return {
        "id": message.id, "body": message.body, "attributes": to_json_value(message.message_attributes),
        "system_attributes": to_json_value(message.system_attributes), "group_id": message.group_id,
        "deduplication_id": message.deduplication_id, "sequence_number": message.sequence_number,
        "sent_timestamp": message.sent_timestamp, "delayed_until": message.delayed_until,
        "receive_count": message.approximate_receive_count,
        "first_receive_timestamp": message.approximate_first_receive_timestamp,
    }


class SqsJournal:
    """Installs the hooks on moto's SQS classes; `uninstall` puts the originals back."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._originals: dict[tuple[type, str], Callable[..., Any]] = {}

    def install(self) -> None:
        if self._originals:
            return  # installed already: hooking the hooks would journal every change twice
        journal = self.journal
        add_message = self._swap(sqs_models.Queue, "add_message")
        delete_message = self._swap(sqs_models.Queue, "delete_message")
        purge_queue = self._swap(sqs_models.SQSBackend, "purge_queue")
        delete_queue = self._swap(sqs_models.SQSBackend, "delete_queue")

        def journaled_add(queue: Any, message: Any) -> None:
            if not journal.is_open:
                return add_message(queue, message)
            # Before the message exists: nobody can receive (and delete) it ahead of its own line.
            journal.commit([{"kind": "message", "queue": queue_ref(queue), "message": message_record(message)}])
            add_message(queue, message)
            if queue.fifo_queue and not any(m is message for m in queue._messages):
                # moto dropped it as a duplicate within the deduplication window
                journal.commit([{"kind": "message_deleted", "queue": queue_ref(queue), "id": message.id}])
            return None

        def journaled_delete(queue: Any, receipt_handle: str) -> None:
            ids = [m.id for m in list(queue._messages) if m.had_receipt_handle(receipt_handle)]
            delete_message(queue, receipt_handle)
            if journal.is_open:
                journal.commit([{"kind": "message_deleted", "queue": queue_ref(queue), "id": i} for i in ids])

        def journaled_purge(backend: Any, queue_name: str) -> None:
            queue = backend.get_queue(queue_name)
            purge_queue(backend, queue_name)
            if journal.is_open:
                journal.commit([{"kind": "queue_emptied", "queue": queue_ref(queue)}])

        def journaled_queue_delete(backend: Any, queue_name: str) -> None:
            queue = backend.get_queue(queue_name)
            delete_queue(backend, queue_name)
            if journal.is_open:
                journal.commit([{"kind": "queue_emptied", "queue": queue_ref(queue)}])

        setattr(sqs_models.Queue, "add_message", journaled_add)  # noqa: B010 (an untyped patch of moto's class)
        setattr(sqs_models.Queue, "delete_message", journaled_delete)  # noqa: B010
        setattr(sqs_models.SQSBackend, "purge_queue", journaled_purge)  # noqa: B010
        setattr(sqs_models.SQSBackend, "delete_queue", journaled_queue_delete)  # noqa: B010

    def _swap(self, cls: type, name: str) -> Callable[..., Any]:
        original: Callable[..., Any] = getattr(cls, name)
        self._originals[(cls, name)] = original
        return original

    def uninstall(self) -> None:
        for (cls, name), original in self._originals.items():
            setattr(cls, name, original)
        self._originals.clear()
