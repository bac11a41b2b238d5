"""A WSGI face on chalice's local gateway, so schemathesis can drive the app in-process (with moto)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any


class ChaliceWsgi:
    def __init__(self, http_client: Any) -> None:
        self.http = http_client
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.calls += 1
        path = environ.get("PATH_INFO", "/")
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items()
                   if key.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        response = self.http.request(environ["REQUEST_METHOD"], path, headers=headers, body=body)
        raw = response.body if isinstance(response.body, bytes) else str(response.body or "").encode()
        try:
            reason = HTTPStatus(response.status_code).phrase
        except ValueError:
            reason = "Unknown"
        start_response(f"{response.status_code} {reason}", [(k, str(v)) for k, v in response.headers.items()])
        return [raw]
