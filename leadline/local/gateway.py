"""The local stand-in for API Gateway's own answers: everything the HTTP server says itself.

chalice.local is a BaseHTTPRequestHandler, which answers what never reaches the app — a path
no route has, a 64 KB header, a 100 k-character URL, an unknown method, a bad Content-Length —
with its own HTML or API Gateway's raw bodies. Here each of those is answered in the contract's
error shape (`{"error": {"code", "message", "details"}}`), as the packaged stage's gateway
responses do (`GATEWAY_ERRORS` in leadline/package.py), so a client meets one shape everywhere.

The server also takes a burst of connections (a listen backlog of `LISTEN_BACKLOG`, not
socketserver's 5) and refuses request bodies over API Gateway's 10 MB payload limit before
reading them."""

from __future__ import annotations

import functools
import json
import logging
import socket
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

from chalice.local import (
    ChaliceRequestHandler,
    ForbiddenError,
    LambdaEventConverter,
    LocalGateway,
    LocalGatewayException,
    NotAuthorizedError,
    RouteMatcher,
)

from chalicelib.handlers.http import error_body

log = logging.getLogger("local_stack.http")

UNKNOWN_ROUTE_MESSAGE = "no route has this path"
LISTEN_BACKLOG = 1024  # the kernel caps it at net.core.somaxconn
MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
CHUNK_LINE_BYTES = 1024
# After refusing a request whose rest is still unread, read (and drop) this much of it before
# closing: closing a socket with unread input makes the kernel send a reset, and the client
# would see "connection reset" instead of the answer.
LINGER_BYTES = 1024 * 1024
LINGER_SECONDS = 1.0

SERVER_ANSWERS: dict[int, tuple[str, str]] = {
    HTTPStatus.BAD_REQUEST: ("bad_request", "the request is not valid HTTP"),
    HTTPStatus.UNAUTHORIZED: ("unauthorized", "no or bad token"),
    HTTPStatus.NOT_FOUND: ("not_found", UNKNOWN_ROUTE_MESSAGE),
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: ("too_large", "the request is too large"),
    HTTPStatus.REQUEST_URI_TOO_LONG: ("too_large", "the URL is too long (at most 64 KB with the request line)"),
    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE: (
        "too_large", "the request headers are too large (at most 64 KB a line, 100 headers)"),
    HTTPStatus.INTERNAL_SERVER_ERROR: ("internal_error", "an unexpected error in the local server"),
    HTTPStatus.NOT_IMPLEMENTED: ("not_implemented", "the server does not take this HTTP method"),
    HTTPStatus.HTTP_VERSION_NOT_SUPPORTED: ("bad_request", "send HTTP/1.0 or HTTP/1.1"),
}


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "error"


class RequestRefused(Exception):
    def __init__(self, status: int, message: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class RawQueryEvents(LambdaEventConverter):
    """Events that also carry the query string exactly as it arrived (`rawQueryString`, as API
    Gateway's HTTP APIs give it): Twilio signs the URL it called, encoding and all, and the app
    checks the signature over exactly that (chalicelib/domain/signatures.received_urls)."""

    def create_lambda_event(self, method: str, path: str, headers: dict[str, str],
                            body: bytes | None = None) -> dict[str, Any]:
        event = super().create_lambda_event(method, path, headers, body)
        event["rawQueryString"] = path.partition("?")[2]
        return event


class ContractRequestHandler(ChaliceRequestHandler):
    _linger = False

    def __init__(self, request: Any, client_address: Any, server: Any, app_object: Any, config: Any) -> None:
        # ChaliceRequestHandler's own __init__ with the raw-query events (it handles the request
        # inside BaseHTTPRequestHandler.__init__, so the gateway must be complete before that).
        self.local_gateway = LocalGateway(app_object, config)
        self.local_gateway.event_converter = RawQueryEvents(RouteMatcher(list(app_object.routes)),
                                                            app_object.api.binary_types)
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Every answer BaseHTTPRequestHandler makes on its own, in the contract's shape. Its own
        message is not used: it quotes the request line back, which may carry a phone number."""
        self._refuse(code)

    def _refuse(self, code: int, message: str | None = None) -> None:
        error_code, text = SERVER_ANSWERS.get(code, ("bad_request" if code < 500 else "internal_error", _phrase(code)))
        log.warning("the local server refused a request", extra={"method": self.command or None, "status": code})
        if str(getattr(self, "request_version", "")) == "HTTP/0.9":
            # Not parsed far enough to know the client's version: HTTP/0.9 has no status line at all.
            self.request_version = self.protocol_version
        body = json.dumps(error_body(error_code, message or text)).encode()
        self.send_response(code)
        self.send_header("Connection", "close")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True
        self._linger = code in (HTTPStatus.REQUEST_ENTITY_TOO_LARGE, HTTPStatus.REQUEST_URI_TOO_LONG,
                                HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, HTTPStatus.BAD_REQUEST)

    def log_message(self, format: str, *args: Any) -> None:
        """No raw access line on stderr: the app logs one per request without the query (which
        may carry a phone number), and refusals are logged by `send_error`."""

    def _generic_handle(self) -> None:
        try:
            super()._generic_handle()
        except RequestRefused as refused:
            self._refuse(refused.status, refused.message)
        except ConnectionError:
            self.close_connection = True  # the client left mid-answer: nobody to tell
        except Exception:
            log.exception("the local server failed on a request")
            self._refuse(HTTPStatus.INTERNAL_SERVER_ERROR)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def _parse_payload(self) -> tuple[dict[str, Any], bytes | None]:
        if "chunked" in str(self.headers.get("transfer-encoding", "")).lower():
            body: bytes | None = self._read_chunked()
        else:
            raw = str(self.headers.get("content-length", "0")).strip() or "0"
            if not raw.isdigit():
                raise RequestRefused(HTTPStatus.BAD_REQUEST, "Content-Length is not a number of bytes")
            length = int(raw)
            if length > MAX_REQUEST_BYTES:
                raise RequestRefused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            body = self.rfile.read(length) if length else None
            if body is not None and len(body) < length:
                raise RequestRefused(HTTPStatus.BAD_REQUEST, "the body is shorter than its Content-Length")
        return dict(self.headers), body

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(CHUNK_LINE_BYTES)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise RequestRefused(HTTPStatus.BAD_REQUEST, "a chunk size is not valid") from None
            if size == 0:
                while self.rfile.readline(CHUNK_LINE_BYTES) not in (b"\r\n", b"\n", b""):
                    pass  # trailers: not passed on, as API Gateway does not
                return bytes(body)
            if len(body) + size > MAX_REQUEST_BYTES:
                raise RequestRefused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            chunk = self.rfile.read(size)
            if len(chunk) < size or self.rfile.readline(CHUNK_LINE_BYTES).strip():
                raise RequestRefused(HTTPStatus.BAD_REQUEST, "a chunk is shorter than its size")
            body += chunk

    def _send_error_response(self, error: LocalGatewayException) -> None:
        # The app has no Chalice authorizers, so the local gateway's only ForbiddenError is an unmatched path.
        if isinstance(error, ForbiddenError):
            status, (code, message) = 404, SERVER_ANSWERS[HTTPStatus.NOT_FOUND]
        elif isinstance(error, NotAuthorizedError):
            status, (code, message) = 401, SERVER_ANSWERS[HTTPStatus.UNAUTHORIZED]
        else:
            status, (code, message) = 500, SERVER_ANSWERS[HTTPStatus.INTERNAL_SERVER_ERROR]
        body = json.dumps(error_body(code, message)).encode()
        self._send_http_response(status, {"Content-Type": "application/json"}, body)

    def finish(self) -> None:
        super().finish()
        if self._linger:
            self._drain_before_close()

    def _drain_before_close(self) -> None:
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(LINGER_SECONDS)
            drained = 0
            while drained < LINGER_BYTES:
                data = self.connection.recv(65536)
                if not data:
                    return
                drained += len(data)
        except OSError:
            return  # the client went away or stayed silent: nothing left to protect


def use_contract_errors(server: Any, app: Any, config: Any) -> None:
    """Make a chalice.local LocalDevServer answer in the contract's shape and take bursts."""
    server.server.RequestHandlerClass = functools.partial(ContractRequestHandler, app_object=app, config=config)
    server.server.request_queue_size = LISTEN_BACKLOG
    server.server.socket.listen(LISTEN_BACKLOG)  # it already listens (with 5): listen again to widen the queue
