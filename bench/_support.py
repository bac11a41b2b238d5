"""What the in-process benches share: the environment they run the app in, and a counter of
the AWS calls the app makes.

    import _support  # bench/ is sys.path[0] when a bench runs as `python bench/NAME.py`
    _support.use_moto_environment()  # before anything imports boto3 or the app

The leading underscore keeps bench/run_all.py from running this file as a bench."""

from __future__ import annotations

import os
import sys
import threading
from collections import Counter
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent

T = TypeVar("T")

BENCH_ENV = {
    "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    # botocore would otherwise build account-id endpoints that in-process moto does not route.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "LEADLINE_JWT_SECRET": "bench-secret-0123456789abcdef0123456789", "LEADLINE_STAGE": "bench",
    "POWERTOOLS_TRACE_DISABLED": "1", "POWERTOOLS_METRICS_NAMESPACE": "LeadlineBench", "POWERTOOLS_LOG_LEVEL": "ERROR",
}


def use_moto_environment() -> None:
    """The repo on sys.path, no real endpoint, fake credentials, one region, Powertools quiet.

    Call it before boto3 or the app is imported: moto's `mock_aws` only intercepts clients made
    after it starts, and AWS_ENDPOINT_URL would send every call past it. EMF metric lines stay
    off unless POWERTOOLS_METRICS_DISABLED is exported (e.g. `=false` to see them): printed per
    request they would bury the bench's own output."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    for name in [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL")]:
        os.environ.pop(name)
    os.environ.update(BENCH_ENV)
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    # moto as the local stack and the tests run it: moto's own TransactWriteItems deep-copies the
    # whole table, so a write route's latency here measured the bench's table (0.4 s a transaction
    # with 20 leads), not the route.
    from leadline.local import moto_fast

    moto_fast.install()


class CallCounter:
    """Counts the API calls made through the app's cached boto3 clients
    (`chalicelib.adapters.aws`), as "service.Operation", and the items DynamoDB Queries read
    (their ScannedCount: what a page costs in read capacity).

    Clients are built lazily, so `hook()` attaches to every client built so far; call it again
    after code that may have built new ones (`measure` does). `services` limits the count to
    those clients. Counting is thread-safe: the lead list fans its first Queries out over threads."""

    def __init__(self, services: Collection[str] | None = None) -> None:
        self.services = frozenset(services) if services is not None else None
        self.calls: Counter[str] = Counter()
        self.items_read = 0
        self._hooked: set[int] = set()
        self._lock = threading.Lock()

    def hook(self) -> None:
        from chalicelib.adapters import aws

        for service, found in list(aws._clients.items()):
            if id(found) in self._hooked or (self.services is not None and service not in self.services):
                continue
            self._hooked.add(id(found))
            found.meta.events.register("before-call.*.*", self._counter(service))
            if service == "dynamodb":
                found.meta.events.register("after-call.dynamodb.Query", self._count_items_read)

    def _counter(self, service: str) -> Callable[..., None]:
        def count(model: Any, **_: Any) -> None:
            with self._lock:
                self.calls[f"{service}.{model.name}"] += 1
        return count

    def _count_items_read(self, parsed: dict[str, Any] | None = None, **_: Any) -> None:
        with self._lock:
            self.items_read += int((parsed or {}).get("ScannedCount", 0))

    def take(self) -> Counter[str]:
        """The calls counted since the last take (and starts a new count, items read included)."""
        with self._lock:
            taken, self.calls, self.items_read = self.calls, Counter(), 0
        return taken

    def take_with_items_read(self) -> tuple[Counter[str], int]:
        with self._lock:
            taken, read, self.calls, self.items_read = self.calls, self.items_read, Counter(), 0
        return taken, read

    def measure(self, action: Callable[[], T]) -> tuple[T, Counter[str]]:
        """`action()`'s result and the calls it made. A client that `action` builds is counted
        from the next measurement on: warm up first."""
        self.hook()
        self.take()
        result = action()
        self.hook()
        # Detach the count: calls made between measurements go to a counter nobody reads.
        return result, self.take()
