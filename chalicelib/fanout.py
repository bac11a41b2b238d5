"""Bounded fan-out: one read per store side by side, so an all-stores screen waits for the
slowest store rather than for the sum of them. boto3 clients are safe to share between
threads (resources are not; the app uses clients only)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Concurrent reads per request: enough for a 50-store group to finish in a few rounds, few
# enough that one request does not take a Lambda's (or a small table's) whole capacity.
FANOUT_THREADS = 8


def fan_out(read: Callable[[T], R], items: Sequence[T], threads: int = FANOUT_THREADS) -> list[R]:
    """`read(item)` for every item, at most `threads` at a time, results in the items' order.
    The first failure is raised once every started read has finished."""
    if len(items) <= 1:
        return [read(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(threads, len(items)), thread_name_prefix="fanout") as pool:
        return list(pool.map(read, items))
