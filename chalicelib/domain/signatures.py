"""Webhook signatures: Twilio's X-Twilio-Signature and Meta's X-Hub-Signature-256.

Pure functions over the bytes that arrived; every comparison is constant-time."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit


def twilio_signature(auth_token: str, url: str, params: Mapping[str, Sequence[str]]) -> str:
    """Twilio's algorithm: HMAC-SHA1 of the full URL followed by every posted field name and value,
    fields sorted by name (values of a repeated field sorted too), base64-encoded."""
    payload = url
    for name in sorted(params):
        for value in sorted(set(params[name])):
            payload += name + value
    digest = hmac.new(auth_token.encode(), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _port_variants(url: str) -> list[str]:
    """Twilio signs the URL as it called it; proxies sometimes add or drop the default port,
    so (like Twilio's own validator) accept the URL with and without it."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    variants = [url]
    if parts.port is None and default:
        variants.append(urlunsplit(parts._replace(netloc=f"{parts.hostname}:{default}")))
    elif parts.port == default and parts.hostname:
        variants.append(urlunsplit(parts._replace(netloc=parts.hostname)))
    return variants


def valid_twilio_signature(auth_token: str, url: str, params: Mapping[str, Sequence[str]],
                           signature: str | None) -> bool:
    if not signature or not auth_token:
        return False
    return any(hmac.compare_digest(twilio_signature(auth_token, candidate, params).encode(), signature.encode())
               for candidate in _port_variants(url))


def received_urls(public_base_url: str, event: Mapping[str, Any]) -> list[str]:
    """The URL a webhook was called at, from an API Gateway (REST or HTTP API) or local-stack event:
    the configured public base URL (scheme, host and any stage or base path: the deployed stage's
    `https://{api}.execute-api.{region}.amazonaws.com/api`, a custom domain, the local stack's own
    URL) + the route's path + the query exactly as received. None without a base URL.

    A REST API hands the function its query decoded (`multiValueQueryStringParameters`), never as
    sent; then it is rebuilt (in the order API Gateway lists the names) in both encodings a space can have (`%20` and
    `+`), reserved characters percent-encoded. Both name the same values, so the signature still
    binds every parameter."""
    base = public_base_url.strip().rstrip("/")
    if not base:
        return []
    context = event.get("requestContext") or {}
    path = str(context.get("resourcePath") or event.get("resource") or "/")
    for name, value in (event.get("pathParameters") or {}).items():
        path = path.replace("{" + name + "}", quote(str(value), safe=""))
    raw = event.get("rawQueryString")
    if raw is not None:
        return [f"{base}{path}?{raw}" if raw else f"{base}{path}"]
    params = [(str(k), str(v)) for k, values in (event.get("multiValueQueryStringParameters") or {}).items()
              for v in values or [""]]
    if not params:
        return [f"{base}{path}"]
    return [f"{base}{path}?" + "&".join(f"{encode(k)}={encode(v)}" for k, v in params)
            for encode in (lambda text: quote(text, safe="-._~"), lambda text: quote_plus(text, safe="-._~"))]


def meta_signature(app_secret: str, raw_body: bytes) -> str:
    """The X-Hub-Signature-256 header value: `sha256=` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()


def valid_meta_signature(app_secret: str, raw_body: bytes, header: str | None) -> bool:
    if not header or not app_secret:
        return False
    return hmac.compare_digest(meta_signature(app_secret, raw_body).encode(), header.strip().lower().encode())
