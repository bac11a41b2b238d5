"""moto's server in this process, with DynamoDB requests taken one at a time.

moto's DynamoDB backend is not thread-safe: TransactWriteItems deep-copies the table while
another request thread may be writing to it ("dictionary changed size during iteration",
answered as a 500). The local stack serves HTTP requests and event handlers concurrently,
so DynamoDB calls are serialized here (they take milliseconds); other services keep their
concurrency, which SQS long polls need."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def one_dynamodb_request_at_a_time(app: WsgiApp) -> WsgiApp:
    lock = threading.Lock()

    def serialized(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith("DynamoDB"):
            return app(environ, start_response)
        with lock:
            # Drain the body inside the lock: the backend does its work while it is produced.
            return [b"".join(app(environ, start_response))]

    return serialized


class LocalMotoServer(ThreadedMotoServer):
    """ThreadedMotoServer (same start/stop), serving the wrapped application."""

    def _server_entry(self) -> None:
        app = one_dynamodb_request_at_a_time(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()
