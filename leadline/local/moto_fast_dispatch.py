"""moto server's choice of a service for each request, made once per host instead of once per request.

moto server (DomainDispatcherApplication.get_application) finds a request's service by matching
`http://{host}` against every service's URL patterns (`get_backend_for_host`): for the local stack's
`127.0.0.1:{port}` none matches, so it infers the service's host from the request's signature and
runs the patterns again. Some hundred regular expressions twice per request were 13 % of moto's busy
time in a load run (py-spy, 2026-11-26 23:57). The answer depends on the host alone (the patterns are
fixed when the application is made), so it is kept per host. Installed with moto_fast, under the same
version guard."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from leadline.local.moto_fast_sqs import mismatched

# What each patch replaces, and the parameters it relies on (in order).
PATCHED: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    "DomainDispatcherApplication.get_backend_for_host": (DomainDispatcherApplication.get_backend_for_host,
                                                         ("self", "host")),
}
HOSTS_KEPT = 1000  # hosts are a handful (the endpoint's own, one per service inferred); a bound all the same
_originals: dict[str, Any] = {}


def unsupported_reason() -> str | None:
    """Why moto server's dispatch cannot take the patch (None: it can). moto_fast checks moto's version."""
    return mismatched(PATCHED)


def _backend_for_host(app: DomainDispatcherApplication, host: str | None) -> Any:
    known: dict[str | None, Any] = app.__dict__.setdefault("_leadline_backends", {})
    if host not in known:
        if len(known) >= HOSTS_KEPT:
            known.clear()
        known[host] = _originals["get_backend_for_host"](app, host)
    return known[host]


def install() -> None:
    """Patch moto server's dispatch (once per process). The caller has checked moto's version (moto_fast)."""
    if _originals:
        return
    _originals["get_backend_for_host"] = DomainDispatcherApplication.get_backend_for_host
    DomainDispatcherApplication.get_backend_for_host = _backend_for_host  # type: ignore[assignment,method-assign]


def uninstall() -> None:
    """Give moto its own code back."""
    if not _originals:
        return
    DomainDispatcherApplication.get_backend_for_host = _originals.pop("get_backend_for_host")  # type: ignore[method-assign]
