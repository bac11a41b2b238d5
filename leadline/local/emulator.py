"""moto's server in this process, with DynamoDB requests taken one at a time.

moto's DynamoDB backend is not thread-safe: TransactWriteItems deep-copies the table while
another request thread may be writing to it ("dictionary changed size during iteration",
answered as a 500). The local stack serves HTTP requests and event handlers concurrently,
so DynamoDB calls are serialized here (they take milliseconds); other services keep their
concurrency, which SQS long polls need.

moto also remembers every model object it ever made (for its dashboard and `reset`) and never
lets one go: each DynamoDB read copies the items it returns, so a stack that runs all day would
grow by gigabytes. `forget_tracked_instances` drops those references every few hundred requests
(S3's are kept: its reset closes their buffers).

With `persistence`, every acknowledged change is journaled first (capture.py). moto_fast.py makes
DynamoDB requests cost what they touch, not what the table holds."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from leadline.local.wsgi import WsgiApp

if TYPE_CHECKING:
    from leadline.local.persistence import Persistence


FORGET_EVERY_REQUESTS = 200


def forget_tracked_instances(keep: tuple[str, ...] = ("s3",)) -> int:
    """Drop moto's bookkeeping references to the model objects it made; returns how many."""
    from moto.core.model_instances import model_data

    dropped = 0
    for service, models in list(model_data.items()):
        if service in keep:
            continue
        for model in list(models.values()):
            tracked = getattr(model, "instances_tracked", None)
            if tracked:
                dropped += len(tracked)
                tracked.clear()
    return dropped


def forgetting_tracked_instances(app: WsgiApp) -> WsgiApp:
    served = itertools.count(1)

    def forgetting(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if next(served) % FORGET_EVERY_REQUESTS == 0:
            forget_tracked_instances()
        return app(environ, start_response)

    return forgetting


# Held by every DynamoDB request the emulator serves, and by the demo's in-process calls (moto_direct.py).
DYNAMODB_LOCK = threading.Lock()


def one_dynamodb_request_at_a_time(app: WsgiApp, lock: threading.Lock = DYNAMODB_LOCK) -> WsgiApp:
    def serialized(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith("DynamoDB"):
            return app(environ, start_response)
        with lock:
            # Drain the body inside the lock: the backend does its work while it is produced.
            return [b"".join(app(environ, start_response))]

    return serialized


class LocalMotoServer(ThreadedMotoServer):
    """ThreadedMotoServer (same start/stop), serving the wrapped application."""

    def __init__(self, ip_address: str, port: int, persistence: Persistence | None = None) -> None:
        super().__init__(ip_address=ip_address, port=port, verbose=False)
        self.persistence = persistence

    def _server_entry(self) -> None:
        from leadline.local import moto_fast

        moto_fast.install()
        app: WsgiApp = DomainDispatcherApplication(create_backend_app)
        if self.persistence is not None:
            from leadline.local.capture import JournalingApp

            app = JournalingApp(app, self.persistence.journal, self.persistence.blobs)
        app = forgetting_tracked_instances(one_dynamodb_request_at_a_time(app))
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()
