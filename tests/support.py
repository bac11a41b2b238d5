"""Test helpers: a World over the chalice test client with builders for tenants."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from chalicelib.clock import FixedClock
from chalicelib.deps import Deps

WEEKDAYS_9_TO_6 = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@contextmanager
def dynamodb_calls() -> Iterator[Counter[str]]:
    """The DynamoDB operations the app makes inside the block, by name (a hook on its client)."""
    from chalicelib.adapters.aws import client

    calls: Counter[str] = Counter()

    def count(event_name: str, **_: Any) -> None:
        calls[event_name.rsplit(".", 1)[-1]] += 1

    dynamodb = client("dynamodb")
    dynamodb.meta.events.register("before-call.dynamodb.*", count)
    try:
        yield calls
    finally:
        dynamodb.meta.events.unregister("before-call.dynamodb.*", count)


class JsonHttpResponse:
    """What a faked `urllib.request.urlopen` returns: a provider's JSON answer (Twilio, Meta)."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = json.dumps(body).encode()

    def read(self) -> bytes:
        return self.body

    def __enter__(self) -> JsonHttpResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def error_code(self) -> str | None:
        data = self.json
        return data.get("error", {}).get("code") if isinstance(data, dict) else None


@dataclass
class Tenant:
    group_id: str
    admin_id: str
    token: str
    accounts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class World:
    client: Any
    deps: Deps
    clock: FixedClock
    # Reports read rollups the stream consumer keeps: a report request first drains the stream.
    pump: Any = None      # leadline.local.streams.StreamPump

    def settle(self) -> None:
        """Let the stream consumers catch up with everything written so far."""
        if self.pump is not None:
            self.pump.drain()

    def token(self, user_id: str, hours: int = 12) -> str:
        from chalicelib.services.auth import mint_local_token

        return mint_local_token(self.deps.settings.jwt_secret, user_id, now=self.clock.now().timestamp(), hours=hours)

    def call(self, method: str, path: str, token: str | None = None, body: Any = None,
             headers: dict[str, str] | None = None, raw: bytes | str | None = None) -> Reply:
        hdrs = {"Content-Type": "application/json"}
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        hdrs.update(headers or {})
        if path.startswith("/reports"):
            self.settle()
        payload: bytes | str | None = raw if raw is not None else (json.dumps(body) if body is not None else None)
        resp = self.client.http.request(method, path, headers=hdrs, body=payload or b"")
        return Reply(resp.status_code, dict(resp.headers), resp.body)

    def get(self, path: str, token: str | None = None, **kw: Any) -> Reply:
        return self.call("GET", path, token, **kw)

    def post(self, path: str, token: str | None = None, body: Any = None, **kw: Any) -> Reply:
        return self.call("POST", path, token, body if body is not None else {}, **kw)

    def patch(self, path: str, token: str | None = None, body: Any = None, **kw: Any) -> Reply:
        return self.call("PATCH", path, token, body if body is not None else {}, **kw)

    def put(self, path: str, token: str | None = None, body: Any = None, **kw: Any) -> Reply:
        return self.call("PUT", path, token, body if body is not None else {}, **kw)

    def delete(self, path: str, token: str | None = None, **kw: Any) -> Reply:
        return self.call("DELETE", path, token, **kw)

    # -- builders ----------------------------------------------------------------------

    def tenant(self, name: str = "Acme Auto", email: str = "owner@acme.com", stores: int = 1,
               timezone: str = "America/New_York", hours: dict[str, Any] | None = None) -> Tenant:
        from chalicelib.services.users import bootstrap_group

        boot = bootstrap_group(self.deps, name, email, "Owner")
        tenant = Tenant(group_id=boot.group.group_id, admin_id=boot.user.user_id, token=self.token(boot.user.user_id))
        for i in range(stores):
            tenant.accounts.append(self.account(tenant, f"{name} Store {i + 1}", timezone=timezone, hours=hours))
        return tenant

    def account(self, tenant: Tenant, name: str, timezone: str = "America/New_York",
                hours: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        body = {"name": name, "timezone": timezone, "business_hours": hours or WEEKDAYS_9_TO_6, **fields}
        reply = self.post("/accounts", tenant.token, body)
        assert reply.status == 201, reply.json
        return dict(reply.json)

    def user(self, tenant: Tenant, email: str, role: str = "agent", account_ids: list[str] | None = None,
             **fields: Any) -> tuple[dict[str, Any], str]:
        body = {"email": email, "name": email.split("@")[0].title(), "role": role,
                "account_ids": account_ids if account_ids is not None else [tenant.accounts[0]["account_id"]],
                **fields}
        reply = self.post("/users", tenant.token, body)
        assert reply.status == 201, reply.json
        # A token names the person (their first record's id), whichever group the record is in.
        person = self.deps.users.identity_of(reply.json["email"]) or reply.json["user_id"]
        return reply.json, self.token(person)
