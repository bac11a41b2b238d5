"""moto's SQS at a cost that does not grow with the queue.

moto 5's SendMessage (and so every entry of SendMessageBatch) reads the queue's `attributes` to learn
whether content-based deduplication is on, and moto builds every attribute for that question: three
of them count the queue's messages, asking each message for the time twice. A local stack whose
timer queue holds thousands of delayed timers (offer timeouts, response deadlines, cadence steps: a
load test's hour) spent most of moto's time there, each send slower than the last.

While a queue is sending, its `attributes` answer that one question from the queue's own field, with
the value moto would give (FIFO queues only; a standard queue has no such attribute). Every other
reader (GetQueueAttributes) gets moto's full answer. Installed with moto_fast, under the same version
guard."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any

from moto.sqs.models import Queue, SQSBackend

# What each patch replaces, and the parameters it relies on (in order).
PATCHED: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    "SQSBackend.send_message": (SQSBackend.send_message, ("self", "queue_name", "message_body")),
}
_sending = threading.local()
_originals: dict[str, Any] = {}


def mismatched(patched: dict[str, tuple[Callable[..., Any], tuple[str, ...]]]) -> str | None:
    """The first function of `patched` whose leading parameters are not the ones its patch relies on."""
    for name, (function, expected) in patched.items():
        parameters = tuple(inspect.signature(function).parameters)
        if parameters[:len(expected)] != expected:
            return f"{name} takes {parameters}, not {expected}"
    return None


def unsupported_reason() -> str | None:
    """Why moto's SQS cannot take the patch (None: it can). moto_fast checks moto's version."""
    reason = mismatched(PATCHED)
    if reason is not None:
        return reason
    if not isinstance(getattr(Queue, "attributes", None), property):
        return "Queue.attributes is no longer a property"
    if not hasattr(Queue, "FIFO_ATTRIBUTES") or "ContentBasedDeduplication" not in Queue.FIFO_ATTRIBUTES:
        return "Queue.FIFO_ATTRIBUTES no longer lists ContentBasedDeduplication"
    return None


def _dedup_attribute(queue: Queue) -> dict[str, Any]:
    """What moto's `attributes` holds for ContentBasedDeduplication, computed alone."""
    if not queue.fifo_queue:
        return {}
    value = queue.content_based_deduplication  # type: ignore[attr-defined]
    return {"ContentBasedDeduplication": str(value).lower() if isinstance(value, bool) else value}


def _attributes(queue: Queue) -> dict[str, Any]:
    if getattr(_sending, "queue", None) is queue:
        return _dedup_attribute(queue)
    full: dict[str, Any] = _originals["attributes"].fget(queue)
    return full


def _send_message(self: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> Any:
    queue = self.get_queue(queue_name)
    before = getattr(_sending, "queue", None)
    _sending.queue = queue
    try:
        return _originals["send_message"](self, queue_name, *args, **kwargs)
    finally:
        _sending.queue = before


def install() -> None:
    """Patch moto's SQS (once per process). The caller has checked moto's version (moto_fast)."""
    if _originals:
        return
    _originals.update(send_message=SQSBackend.send_message, attributes=Queue.__dict__["attributes"])
    SQSBackend.send_message = _send_message  # type: ignore[method-assign]
    Queue.attributes = property(_attributes)  # type: ignore[assignment,method-assign]


def uninstall() -> None:
    """Give moto its own code back."""
    if not _originals:
        return
    SQSBackend.send_message = _originals["send_message"]  # type: ignore[method-assign]
    Queue.attributes = _originals["attributes"]  # type: ignore[method-assign]
    _originals.clear()
