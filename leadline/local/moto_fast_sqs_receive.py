"""moto's SQS receive, delete and counts at a cost that follows the messages they touch, not the queue.

moto 5 keeps a queue's messages in one list and walks all of it:
- on ReceiveMessage: `Queue.messages` asks every message for the time, twice, on each pass; then each
  message received reads the queue's attributes for its retention period, and building them counts
  the whole queue three times (ApproximateNumberOfMessages, ...NotVisible, ...Delayed);
- on DeleteMessage (each entry of a batch) and ChangeMessageVisibility: every message is asked whether
  it ever had the handle, and a delete builds the list again without it;
- on GetQueueAttributes: the three counts; on each wake of a long poll: `Queue.messages` again.
With 28,000 messages queued (the full-size load test, 21:41) the consumers got 10 messages every
10-30 s and the backlog never drained.

`install()` keeps moto's Message objects, its list and its code for everything else, and makes the
list an IndexedMessages (moto_fast_sqs_index.py: which members are receivable now, which wait and
until when, every receipt handle). Message.mark_received / change_visibility / delay tell the index.
On a standard queue ReceiveMessage takes from the receivable ones (the messages it returns plus those
that became receivable since the last look); the counts are lengths; DeleteMessage and
ChangeMessageVisibility look the handle up. FIFO queues keep moto's receive (message groups need the
list's order; the stack has none), with the cheap counts and deletes.

Kept from moto, as its code does it: DelaySeconds; VisibilityTimeout and ChangeMessageVisibility (its
43,200 s limit); the receive count and the move to the dead-letter queue once it reaches
maxReceiveCount (when the message would be received); DeleteMessage(Batch) by any handle the message
had, a repeat a no-op; long polling (WaitTimeSeconds, woken by a send); the retention check. Receive
order among receivable messages is the order they became receivable (SQS promises none). Installed by
moto_fast under its moto version guard."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from itertools import islice
from typing import Any

from moto.core.utils import unix_time, unix_time_millis
from moto.sqs import models as sqs_models
from moto.sqs.exceptions import InvalidParameterValue, ReceiptHandleIsInvalid
from moto.sqs.models import Message, Queue, SQSBackend

from leadline.local.moto_fast_sqs import mismatched
from leadline.local.moto_fast_sqs_index import IndexedMessages, MessageIndex, index_of

# What each patch replaces, and the parameters it relies on (in order).
PATCHED: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    "SQSBackend.receive_message": (SQSBackend.receive_message, (
        "self", "queue_name", "count", "wait_seconds_timeout", "visibility_timeout", "message_attribute_names")),
    "SQSBackend.change_message_visibility": (SQSBackend.change_message_visibility, (
        "self", "queue_name", "receipt_handle", "visibility_timeout")),
    "Queue.delete_message": (Queue.delete_message, ("self", "receipt_handle")),
    "Queue.wait_for_messages": (Queue.wait_for_messages, ("self", "timeout")),
    "Message.mark_received": (Message.mark_received, ("self", "visibility_timeout")),
    "Message.change_visibility": (Message.change_visibility, ("self", "visibility_timeout")),
    "Message.delay": (Message.delay, ("self", "delay_seconds")),
    "_filter_message_attributes": (sqs_models._filter_message_attributes, ("message", "input_message_attributes")),
}
# moto's properties the index answers (the three counts in the order MessageIndex.counts gives them).
COUNTS = ("approximate_number_of_messages", "approximate_number_of_messages_not_visible",
          "approximate_number_of_messages_delayed")
VISIBILITY_LIMIT_SECONDS = 43200  # moto's (and SQS's) bound on a message's total visibility timeout
_originals: dict[tuple[type, str], Any] = {}  # (class, attribute) -> moto's own


def unsupported_reason() -> str | None:
    """Why moto's SQS cannot take the patch (None: it can). moto_fast checks moto's version."""
    reason = mismatched(PATCHED)
    if reason is not None:
        return reason
    for name in ("messages", *COUNTS):
        if not isinstance(Queue.__dict__.get(name), property):
            return f"Queue.{name} is no longer a property"
    if "_messages" in Queue.__dict__:
        return "Queue._messages is no longer set per queue"
    return None


def _messages_of(queue: Queue) -> IndexedMessages:
    current = queue.__dict__.get("_messages")
    if not isinstance(current, IndexedMessages):  # a queue made before the patch
        current = queue.__dict__["_messages"] = IndexedMessages(current or ())
    return current


def _replace_messages(queue: Queue, messages: list[Any]) -> None:
    old = queue.__dict__.get("_messages")
    if old is messages:
        return
    if isinstance(old, IndexedMessages):
        old.tracker.reset(())
    queue.__dict__["_messages"] = messages if isinstance(messages, IndexedMessages) else IndexedMessages(messages)


def _index(queue: Queue) -> MessageIndex:
    return _messages_of(queue).tracker


def _receivable(queue: Queue) -> list[Any]:
    if queue.fifo_queue:
        return list(_originals[(Queue, "messages")].fget(queue))
    index = _index(queue)
    with index.lock:
        index.advance(unix_time_millis())
        return list(index.ready)


def _count(which: int) -> property:
    return property(lambda queue: _index(queue).counts()[which])


def _wait_for_messages(queue: Queue, timeout: int) -> None:
    index = _index(queue)

    def any_receivable() -> bool:
        with index.lock:
            index.advance(unix_time_millis())
            return bool(index.ready)

    with queue._messages_lock:
        queue._messages_lock.wait_for(any_receivable, timeout=timeout)


def _receive_message(self: SQSBackend, queue_name: str, count: int, wait_seconds_timeout: int,
                     visibility_timeout: int, message_attribute_names: list[str] | None = None,
                     *args: Any, **kwargs: Any) -> list[Message]:
    queue = self.get_queue(queue_name)
    if queue.fifo_queue:
        own = _originals[(SQSBackend, "receive_message")]
        return list(own(self, queue_name, count, wait_seconds_timeout, visibility_timeout, message_attribute_names,
                        *args, **kwargs))
    polling_end = unix_time() + wait_seconds_timeout
    while True:
        result = _take(self, queue, count, visibility_timeout, message_attribute_names or [])
        if result or not wait_seconds_timeout or unix_time() > polling_end:
            return result
        queue.wait_for_messages(1)


def _take(backend: SQSBackend, queue: Queue, count: int, visibility_timeout: int, names: list[str]) -> list[Message]:
    """moto's receive pass over the receivable messages only (same steps, same order of checks)."""
    index = _index(queue)
    result: list[Message] = []
    with index.lock:
        index.advance(unix_time_millis())
        kept = 0  # received with no visibility timeout: still receivable, ahead in `ready`
        while len(result) < count:
            batch = list(islice(index.ready, kept, kept + count - len(result)))
            if not batch:
                break
            for message in batch:
                index.examined += 1
                queue.pending_messages.discard(message)  # visible again: its consumer timed out
                redrive = queue.redrive_policy
                if (queue.dead_letter_queue is not None and redrive
                        and message.approximate_receive_count >= redrive["maxReceiveCount"]):
                    queue._messages.remove(message)
                    queue.dead_letter_queue.add_message(message)
                    continue
                queue.pending_messages.add(message)
                message.mark_received(visibility_timeout=visibility_timeout)
                if message in index.ready:
                    kept += 1
                copy = deepcopy(message)
                sqs_models._filter_message_attributes(copy, names)
                if not backend.is_message_valid_based_on_retention_period(queue.name, message):
                    return result
                result.append(copy)
                if len(result) >= count:
                    break
    return result


def _delete_message(queue: Queue, receipt_handle: str) -> None:
    if receipt_handle in queue.deleted_messages:
        return  # deleted already: a repeat is fine
    messages = _messages_of(queue)
    message = messages.tracker.handles.get(receipt_handle)
    if message is None:
        raise ReceiptHandleIsInvalid()
    queue.pending_messages.discard(message)
    queue.deleted_messages.update(message.all_receipt_handles)
    messages.remove(message)


def _change_message_visibility(self: SQSBackend, queue_name: str, receipt_handle: str, visibility_timeout: int,
                               *args: Any, **kwargs: Any) -> None:
    queue = self.get_queue(queue_name)
    message = _index(queue).handles.get(receipt_handle)
    if message is None:
        raise ReceiptHandleIsInvalid
    given = unix_time_millis() + int(visibility_timeout) * 1000
    if given - message.sent_timestamp > VISIBILITY_LIMIT_SECONDS * 1000:
        raise InvalidParameterValue(
            f"Value {visibility_timeout} for parameter VisibilityTimeout is invalid. Reason: Total "
            f"VisibilityTimeout for the message is beyond the limit [{VISIBILITY_LIMIT_SECONDS} seconds]")
    message.change_visibility(visibility_timeout)
    if message.visible and message in queue.pending_messages:
        queue.pending_messages.remove(message)


def _hooked(original: str, tell: Callable[[MessageIndex, Message], None]) -> Callable[..., None]:
    def hooked(message: Message, *args: Any, **kwargs: Any) -> None:
        _originals[(Message, original)](message, *args, **kwargs)
        index = index_of(message)
        if index is not None:
            tell(index, message)

    return hooked


def _replacements() -> dict[tuple[type, str], Any]:
    return {
        (Queue, "_messages"): property(_messages_of, _replace_messages),  # set per queue until now
        (Queue, "messages"): property(_receivable),
        **{(Queue, name): _count(which) for which, name in enumerate(COUNTS)},
        (Queue, "wait_for_messages"): _wait_for_messages,
        (Queue, "delete_message"): _delete_message,
        (SQSBackend, "receive_message"): _receive_message,
        (SQSBackend, "change_message_visibility"): _change_message_visibility,
        (Message, "mark_received"): _hooked("mark_received", MessageIndex.received),
        (Message, "change_visibility"): _hooked("change_visibility", MessageIndex.moved),
        (Message, "delay"): _hooked("delay", MessageIndex.moved),
    }


def install() -> None:
    """Patch moto's SQS (once per process). The caller has checked moto's version (moto_fast)."""
    if _originals:
        return
    for (owner, name), replacement in _replacements().items():
        _originals[(owner, name)] = owner.__dict__.get(name)  # as the class holds it (a property stays one)
        setattr(owner, name, replacement)


def uninstall() -> None:
    """Give moto its own code back (queues keep their IndexedMessages: a list, as moto expects)."""
    for (owner, name), original in _originals.items():
        if original is None:
            delattr(owner, name)
        else:
            setattr(owner, name, original)
    _originals.clear()
