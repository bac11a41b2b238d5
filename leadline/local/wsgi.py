"""Small WSGI helpers the emulator's middlewares share."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.test import run_wsgi_app

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# (status line, headers, body) of a call run to completion
Answer = tuple[str, list[tuple[str, str]], bytes]

DEFAULT_REGION = "us-east-1"


def call(app: WsgiApp, environ: dict[str, Any]) -> Answer:
    """Run a WSGI app to completion: moto produces the body while it does the work."""
    output, status, headers = run_wsgi_app(app, environ)
    try:
        body = b"".join(output)
    finally:
        close = getattr(output, "close", None)
        if close is not None:
            close()
    return status, list(headers.items()), body


def request_region(environ: dict[str, Any]) -> str:
    """The region of a SigV4 call's credential scope (`Credential=key/date/region/service/...`)."""
    auth = str(environ.get("HTTP_AUTHORIZATION", ""))
    try:
        return auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")[2]
    except IndexError:
        return DEFAULT_REGION
