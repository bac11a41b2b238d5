"""Which of a queue's messages can be received now, kept as messages change (moto_fast_sqs_receive.py
installs it; this module holds the structure only).

A queue's message list (moto's `Queue._messages`, which moto, sqs_journal.py and moto_state.py use as
a list) becomes an IndexedMessages: the same list, plus a MessageIndex of its members (`tracker`):
- `ready`: the members receivable now (visible and not delayed), in the order they became so;
- `waiting`: the others — delayed, or in flight — each with whether its delay is what holds it, and a
  heap by the time each becomes receivable; `advance(now)` moves the ones whose time came into `ready`
  (an entry whose message's times changed since, or which left the queue, is stale: dropped as it
  surfaces);
- `handles`: every receipt handle a member was ever given → the member.
So a receive looks at the messages it returns plus those that became receivable since the last look,
and the counts are lengths. `examined` counts the messages the index looked at (tests check it
does not grow with the queue).

Receivable is moto's own test (Message.visible and not Message.delayed): now > visible_at and
now >= delayed_until, in moto's epoch milliseconds (moto.core.utils.unix_time_millis)."""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Iterable
from typing import Any, SupportsIndex

from moto.core.utils import unix_time_millis

# The attribute a member carries to find its queue's index (Message hooks: received, moved).
INDEX_ATTRIBUTE = "_leadline_index"


class IndexRef:
    """A message's link to its index. moto deep-copies each message it answers with; the copy shares
    the link instead of copying the whole queue."""

    __slots__ = ("index",)

    def __init__(self, index: MessageIndex | None) -> None:
        self.index = index

    def __deepcopy__(self, memo: dict[int, Any]) -> IndexRef:
        return self

    def __copy__(self) -> IndexRef:
        return self


def receivable(message: Any, now: float) -> bool:
    return bool(now > message.visible_at and now >= message.delayed_until)


class MessageIndex:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.ready: dict[Any, None] = {}
        self.waiting: dict[Any, bool] = {}  # message -> held by its delay (else: in flight)
        self.delayed = 0
        self._heap: list[tuple[float, int, Any, float, float]] = []
        self._order = itertools.count()
        self.handles: dict[str, Any] = {}
        self.examined = 0

    def add(self, message: Any) -> None:
        with self.lock:
            setattr(message, INDEX_ATTRIBUTE, IndexRef(self))
            for handle in message.all_receipt_handles:  # a message moved to a DLQ, or put back, has some
                if handle:
                    self.handles[handle] = message
            self._place(message, unix_time_millis())

    def discard(self, message: Any) -> None:
        with self.lock:
            ref = getattr(message, INDEX_ATTRIBUTE, None)
            if ref is not None and ref.index is self:
                ref.index = None
            self._unplace(message)
            for handle in message.all_receipt_handles:
                if handle and self.handles.get(handle) is message:
                    del self.handles[handle]

    def reset(self, messages: Iterable[Any]) -> None:
        """Index exactly `messages` (after a change to the list the index did not see item by item)."""
        with self.lock:
            for message in list(self.ready) + list(self.waiting):
                self.discard(message)
            self._heap.clear()
            for message in messages:
                self.add(message)

    def received(self, message: Any) -> None:
        """moto gave the member a new receipt handle (its visibility, if it changed, came as `moved`)."""
        with self.lock:
            if message.receipt_handle:
                self.handles[message.receipt_handle] = message

    def moved(self, message: Any) -> None:
        """The member's visibility or delay changed."""
        with self.lock:
            if self._unplace(message):
                self._place(message, unix_time_millis())

    def advance(self, now: float) -> None:
        with self.lock:
            heap = self._heap
            while heap and heap[0][0] <= now:
                _, _, message, visible_at, delayed_until = heap[0]
                current = message in self.waiting and (message.visible_at, message.delayed_until) == (
                    visible_at, delayed_until)
                if current and not receivable(message, now):
                    break  # due this very millisecond: the next look takes it
                heapq.heappop(heap)
                self.examined += 1
                if current:
                    self.delayed -= self.waiting.pop(message)
                    self.ready[message] = None

    def counts(self) -> tuple[int, int, int]:
        """(receivable, in flight, delayed) now."""
        with self.lock:
            self.advance(unix_time_millis())
            return len(self.ready), len(self.waiting) - self.delayed, self.delayed

    def _place(self, message: Any, now: float) -> None:
        if receivable(message, now):
            self.ready[message] = None
            return
        by_delay = message.delayed_until > message.visible_at
        self.waiting[message] = by_delay
        self.delayed += by_delay
        heapq.heappush(self._heap, (max(message.visible_at, message.delayed_until), next(self._order), message,
                                    message.visible_at, message.delayed_until))

    def _unplace(self, message: Any) -> bool:
        """Take the member out of ready / waiting (its heap entries go stale); False if not a member."""
        if message in self.ready:
            del self.ready[message]
            return True
        if message in self.waiting:
            self.delayed -= self.waiting.pop(message)
            return True
        return False


def index_of(message: Any) -> MessageIndex | None:
    ref = getattr(message, INDEX_ATTRIBUTE, None)
    return ref.index if ref is not None else None


class IndexedMessages(list):
    """moto's message list, its index kept in step. moto appends, removes, iterates and replaces the
    list (Queue._messages = [...]: the patched attribute wraps the new one); moto_state.py extends it.
    The list's other changes re-index it whole."""

    def __init__(self, messages: Iterable[Any] = ()) -> None:
        super().__init__()
        self.tracker = MessageIndex()
        self.extend(messages)

    def append(self, message: Any) -> None:
        with self.tracker.lock:
            super().append(message)
            self.tracker.add(message)

    def extend(self, messages: Iterable[Any]) -> None:
        for message in messages:
            self.append(message)

    def __iadd__(self, messages: Iterable[Any]) -> IndexedMessages:  # type: ignore[misc]
        self.extend(messages)
        return self

    def remove(self, message: Any) -> None:
        with self.tracker.lock:
            super().remove(message)
            self.tracker.discard(message)

    def pop(self, position: SupportsIndex = -1) -> Any:
        with self.tracker.lock:
            message = super().pop(position)
            self.tracker.discard(message)
            return message

    def clear(self) -> None:
        with self.tracker.lock:
            super().clear()
            self.tracker.reset(())

    def insert(self, position: SupportsIndex, message: Any) -> None:
        with self.tracker.lock:
            super().insert(position, message)
            self.tracker.add(message)

    def __setitem__(self, position: Any, value: Any) -> None:
        with self.tracker.lock:
            super().__setitem__(position, value)
            self.tracker.reset(self)

    def __delitem__(self, position: Any) -> None:
        with self.tracker.lock:
            super().__delitem__(position)
            self.tracker.reset(self)
