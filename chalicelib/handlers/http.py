"""The edge of every HTTP route: authenticate, parse and validate, call, shape, map errors.

A route is written as

    @api(bp, "/accounts/{account_id}", "PATCH", body=UpdateAccountRequest, response=AccountResponse)
    def patch_account(call: Call, account_id: str) -> Any:
        return services.update_account(call.deps, call.principal, account_id, call.body)

and `api` does the rest: bearer auth (unless `auth=False`; with `caller_only=True` the token is
verified but the caller's record is left to the use case: `call.caller`; a body refused before the
use case runs is answered after the caller is authorised the ordinary way), the 1 MB limit, JSON
parsing, pydantic validation with every bad field named, and the mapping of domain
errors to the contract's error body. Every route registers its schemas here, which is
what `/openapi.json` is built from.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from chalice import Blueprint, Response
from chalice.app import Request
from pydantic import BaseModel, ValidationError

from chalicelib.deps import Deps, get_deps
from chalicelib.domain.errors import DomainError, TooLarge, Unauthorized, UnsupportedMediaType, ValidationFailed
from chalicelib.domain.tenancy import Caller, Principal
from chalicelib.observability import logger

JSON_TYPES = ("application/json",)
# Which of a person's groups a request acts in (services/memberships.py); none: their first group.
GROUP_HEADER = "X-Leadline-Group"
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# The query parameters every paged list takes (read with `Call.paging`), for /openapi.json.
PAGING_QUERY = {"limit": f"1-{MAX_LIMIT}, default {DEFAULT_LIMIT}", "cursor": "next_cursor of the previous page"}


@dataclass
class RouteSpec:
    path: str
    method: str
    name: str
    summary: str
    auth: bool
    status: int
    body: type[BaseModel] | None
    response: Any
    query: dict[str, str]
    content_types: tuple[str, ...]
    tags: tuple[str, ...]


ROUTES: list[RouteSpec] = []


@dataclass
class Call:
    """What a route function gets: the request, the caller, the parsed body and the deps."""

    request: Request
    deps: Deps
    principal_or_none: Principal | None
    body: Any = None
    raw_body: bytes = b""
    extra: dict[str, Any] = field(default_factory=dict)
    caller_or_none: Caller | None = None

    @property
    def principal(self) -> Principal:
        if self.principal_or_none is None:
            raise Unauthorized("missing bearer token")
        return self.principal_or_none

    @property
    def caller(self) -> Caller:
        """Who the verified token names (a `caller_only` route: their record is not read yet)."""
        if self.caller_or_none is None:
            raise Unauthorized("missing bearer token")
        return self.caller_or_none

    @property
    def query(self) -> dict[str, str]:
        return dict(self.request.query_params or {})

    def header(self, name: str) -> str | None:
        value = _headers(self.request).get(name.lower())
        return str(value) if value is not None else None

    def form(self) -> dict[str, str]:
        """A form-encoded body (webhooks): the last value of each field, in posted order."""
        parsed = parse_qs(self.raw_body.decode("utf-8", errors="replace"), keep_blank_values=True)
        return {k: v[-1] for k, v in parsed.items()}

    def paging(self) -> tuple[int, str | None]:
        return parse_limit(self.query.get("limit")), self.query.get("cursor") or None


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationFailed.field("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None,
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": {"code": code, "message": message, "details": details or []}}
    if extra:
        body["error"].update(extra)
        body.update(extra)
    return body


def error_response(exc: DomainError) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": "application/json"}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="leadline"'
    return Response(body=error_body(exc.code, exc.message, exc.details, exc.extra), status_code=exc.status,
                    headers=headers)


def validation_details(exc: ValidationError, prefix: str = "") -> list[dict[str, Any]]:
    details = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err.get("loc", ()) if p not in ("__root__",))
        message = str(err.get("msg", "is invalid"))
        message = message.removeprefix("Value error, ")
        details.append({"field": f"{prefix}{path}" if path else prefix.rstrip(".") or "body", "message": message})
    return details


def parse_model(model: type[BaseModel], data: Any, prefix: str = "") -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = validation_details(exc, prefix)
        raise ValidationFailed("the request has bad fields: " + ", ".join(d["field"] for d in details),
                               details=details) from exc


def _raw_body(request: Request, limit: int) -> bytes:
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode()
    if len(raw) > limit:
        raise TooLarge(f"the body is larger than {limit} bytes")
    return raw


def _parse_json(raw: bytes) -> Any:
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("the body is not valid JSON", details=[{"field": "body", "message": str(exc)}]) from exc


def _content_type(request: Request) -> str:
    return str(_headers(request).get("content-type", "application/json")).split(";")[0].strip().lower()


def _headers(request: Request) -> Any:
    return request.headers or {}


def _shape(result: Any) -> Any:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    if isinstance(result, list):
        return [_shape(r) for r in result]
    if isinstance(result, dict):
        return {k: _shape(v) for k, v in result.items()}
    return result


def _request_body(request: Request, deps: Deps, method: str, body: type[BaseModel] | None,
                  content_types: tuple[str, ...]) -> tuple[bytes, Any]:
    """The raw body and, for a JSON route, the body parsed (with `body`'s schema when it has one)."""
    raw = _raw_body(request, deps.settings.max_body_bytes) if method in ("POST", "PUT", "PATCH") else b""
    parsed: Any = None
    if method in ("POST", "PUT", "PATCH") and raw.strip() and _content_type(request) not in content_types:
        raise UnsupportedMediaType("send " + " or ".join(content_types))
    if method in ("POST", "PUT", "PATCH") and content_types == JSON_TYPES:
        data = _parse_json(raw)
        parsed = parse_model(body, data) if body is not None else data
    return raw, parsed


def api(bp: Blueprint, path: str, method: str = "GET", *, body: type[BaseModel] | None = None,
        response: Any = None, status: int = 200, auth: bool = True, summary: str = "",
        query: dict[str, str] | None = None, content_types: tuple[str, ...] = JSON_TYPES,
        tags: tuple[str, ...] = (), caller_only: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a route; see the module docstring. `caller_only`: the route's use case reads and
    authorises the caller's record itself, with what it reads anyway (one read less)."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        spec = RouteSpec(path=path, method=method, name=fn.__name__, summary=summary or (fn.__doc__ or "").strip(),
                         auth=auth, status=status, body=body, response=response, query=query or {},
                         content_types=content_types, tags=tags or (path.strip("/").split("/")[0],))
        ROUTES.append(spec)

        @functools.wraps(fn)
        def view(**params: str) -> Response:
            request = bp.current_request
            deps = get_deps()
            try:
                principal = caller = None
                if auth:
                    from chalicelib.services.auth import authorise, verify

                    headers = _headers(request)
                    caller = verify(headers.get("authorization"), deps, headers.get(GROUP_HEADER))
                    principal = None if caller_only else authorise(deps, caller)
                try:
                    raw, parsed = _request_body(request, deps, method, body, content_types)
                except DomainError:
                    if caller is not None and principal is None:
                        # caller_only: a caller is refused before their request is, as on every route.
                        authorise(deps, caller)
                    raise
                call = Call(request=request, deps=deps, principal_or_none=principal, body=parsed, raw_body=raw,
                            caller_or_none=caller)
                result = fn(call, **params)
            except DomainError as exc:
                if exc.status >= 500:
                    logger.exception("domain error with a server status", extra={"route": path})
                return error_response(exc)
            except Exception as exc:  # the last line before the caller: nothing passes unshaped
                return unexpected_error(request, exc)
            if isinstance(result, Response):
                return result
            return Response(body=_shape(result), status_code=status, headers={"Content-Type": "application/json"})

        # Chalice compares the route's declared content types with the request's before
        # the view runs; accepting every type here lets `view` answer in the contract's shape.
        bp.route(path, methods=[method], content_types=["*/*"], name=f"{fn.__name__}")(view)
        return view

    return decorate


def method_not_allowed(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware ('http'): Chalice answers a known path with a method it does not take
    itself, with its own body; the caller gets the contract's error shape and the `Allow` header."""
    response = get_response(event)
    if getattr(response, "status_code", 200) == 405 and isinstance(response.body, dict) \
            and response.body.get("Code") == "MethodNotAllowedError":
        allowed = str(response.headers.get("Allow", ""))
        return Response(body=error_body("method_not_allowed", f"this path takes {allowed or 'other methods'}"),
                        status_code=405, headers={"Content-Type": "application/json", "Allow": allowed})
    return response


def console_cors(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware ('http'): the deployed console's origin, and no other, may read the answers
    (API Gateway answers the preflight OPTIONS itself: leadline/package_console.py)."""
    response = get_response(event)
    allowed = get_deps().settings.console_origin
    origin = (getattr(event, "headers", None) or {}).get("origin")
    if allowed and origin == allowed and isinstance(response, Response):
        response.headers["Access-Control-Allow-Origin"] = allowed
        response.headers["Vary"] = "Origin"
    return response


def unexpected_error(request: Request, exc: Exception) -> Response:
    """An exception a route did not map: an AWS throttle is a 503 the caller may retry; anything
    else a logged 500 naming the request id, never the exception's text."""
    from chalicelib.adapters.aws import asked_to_slow_down

    request_id = str((request.context or {}).get("requestId") or "")
    code = asked_to_slow_down(exc)
    if code:
        logger.warning("AWS asked to slow down", extra={"aws_error": code, "request_id": request_id})
        return Response(body=error_body("unavailable", "busy; retry the request in a moment"), status_code=503,
                        headers={"Content-Type": "application/json", "Retry-After": "1"})
    logger.exception("unexpected error", extra={"request_id": request_id})
    return Response(body=error_body("internal_error", f"an unexpected error; request id {request_id or 'unknown'}"),
                    status_code=500, headers={"Content-Type": "application/json"})
