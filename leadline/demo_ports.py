"""What the demo's history (demo_history.py) runs the services on besides the table: its agenda,
and the two ports through which the services tell it what they did (a queued timer or message, an
in-app notification), so the past goes on as the live stack's consumers would carry it."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from chalicelib.adapters.dynamodb.notifications import NotificationRepository
from chalicelib.adapters.dynamodb.table import Table
from chalicelib.domain import changes
from chalicelib.domain.notifications import Notification


class Listener(Protocol):
    """The history, as the ports below see it."""

    def queued(self, queue: str, body: dict[str, Any], delay_seconds: int) -> None: ...

    def notified(self, note: Notification) -> None: ...


class Agenda:
    """What happens next, in time order (ties in the order they were planned)."""

    def __init__(self) -> None:
        self._items: list[tuple[datetime, int, Callable[[], Any]]] = []
        self._order = itertools.count()

    def at(self, when: datetime, action: Callable[[], Any]) -> None:
        heapq.heappush(self._items, (when, next(self._order), action))

    def pop(self) -> tuple[datetime, Callable[[], Any]] | None:
        if not self._items:
            return None
        when, _, action = heapq.heappop(self._items)
        return when, action


class HistoryQueues:
    """The Queues port for the past: timers and customer messages go on the agenda."""

    def __init__(self, history: Listener) -> None:
        self._history = history

    def send(self, queue: str, body: dict[str, Any], delay_seconds: int = 0) -> None:
        self._history.queued(queue, body, delay_seconds)

    def send_batch(self, queue: str, bodies: list[dict[str, Any]]) -> None:
        for body in bodies:
            self._history.queued(queue, body, 0)


class PastNotifications(NotificationRepository):
    """In-app notifications of the past: each tells the history who was offered a lead. Those written on
    their own (`add`) are not stored; those routing writes inside its own transaction (`added`) are,
    as routing expects, with their TTL."""

    def __init__(self, history: Listener, table: Table) -> None:
        super().__init__(table)
        self._history = history

    def add(self, notification: Notification, ttl: int) -> None:
        self._history.notified(notification)

    def added(self, notification: Notification, ttl: int) -> changes.Write:
        # Routing writes its in-app notices inside its own transaction: the history still hears of each
        # offer, and the item (past its TTL soon enough) goes into the transaction as routing expects.
        self._history.notified(notification)
        return super().added(notification, ttl)
