"""The isolation matrix: every operation of the OpenAPI document, called by every kind of caller.

The operations come from `chalicelib.openapi.build_document()`, so a route added tomorrow is walked
tomorrow. The rules that hold for every operation need no table:

- no token, a garbage token, a forged token → 401 in the contract's error shape (routes with auth);
- another group's group_admin, a manager of another store, and a restricted agent (for lead routes)
  get the same answer for this group's real ids as for made-up ids — existence never leaks — and
  that answer is never a 2xx; lists answered to another group contain none of this group's ids;
- every error reply has the contract's shape, and nothing is ever a 5xx.

What differs per operation — the lowest role that may call it, or the one user it belongs to — is in
EXPECTED, keyed by operationId. `test_every_operation_is_classified` fails for a route that is not
there, so a new route cannot ship without someone deciding who may call it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from chalicelib.domain.tenancy import Role
from tests.support import Reply, World

ROLES = (Role.AGENT, Role.MANAGER, Role.ADMIN, Role.GROUP_ADMIN)
# Path parameters that name a lead or something of one: a restricted agent sees none of another's.
LEAD_PARAMS = {"lead_id", "message_id", "appointment_id"}


@dataclass(frozen=True)
class Rule:
    """Who may call an operation. `minimum`: the lowest role allowed (lower roles get `denied`);
    `owner`: only that fixture user may (everyone else gets 404: it is not theirs to see)."""

    minimum: Role | None = Role.AGENT
    owner: str | None = None
    denied: int = 403


ANY = Rule()
MANAGER = Rule(Role.MANAGER)
ADMIN = Rule(Role.ADMIN)
GROUP_ADMIN = Rule(Role.GROUP_ADMIN)
PUBLIC = Rule(minimum=None)

EXPECTED: dict[str, Rule] = {
    # system
    "health": PUBLIC, "openapi": PUBLIC,
    # the console's sign-in on the local stack (a 404 on every other stage, this one included)
    "local_sign_in": PUBLIC,
    # people and stores
    "get_me": ANY, "patch_me": ANY, "list_users": ANY, "get_user": ANY,
    "create_user": ADMIN, "patch_user": ADMIN, "delete_user": ADMIN,
    # an agent reads their own score only (the matrix calls it with another user's id)
    "user_score": MANAGER,
    "create_account": GROUP_ADMIN, "list_accounts": ANY, "get_account": ANY, "patch_account": ADMIN,
    "list_notifications": ANY, "read_notification": Rule(owner="notified"),
    "put_response_targets": ADMIN, "get_response_targets": ANY, "delete_response_targets": ADMIN,
    # routing
    "put_routing": ADMIN, "get_routing": ANY, "list_my_offers": ANY,
    "accept_offer": Rule(owner="offered"), "decline_offer": Rule(owner="offered"),
    "requeue_lead": ANY, "lead_feedback": ANY,
    # leads (a restricted agent's view of a lead not assigned to them is checked for every lead route)
    "create_lead": ANY, "create_leads_from_adf": ANY, "list_leads": ANY, "get_lead": ANY, "patch_lead": ANY,
    "get_timeline": ANY, "add_label": ANY, "remove_label": ANY, "add_note": ANY, "lock_lead": ANY,
    "unlock_lead": ANY, "assign_lead": MANAGER,
    # conversations
    "send_message": ANY, "cancel_message": ANY, "responded": ANY, "create_appointment": ANY,
    "update_appointment": ANY, "escalate": ANY, "opt_out": ANY, "send_to_crm": ANY, "stop_messaging": MANAGER,
    "resume_messaging": MANAGER,
    "skip_to_follow_up": ANY, "list_saved_replies": ANY,
    # saved replies: every agent sends them, managers and up write them (services/saved_replies.py)
    "create_saved_reply": MANAGER, "update_saved_reply": MANAGER, "delete_saved_reply": MANAGER,
    # cadences (the assistant): managers and up shape them, anyone who sees the lead enrols it
    "list_cadences": ANY, "get_cadence": ANY, "create_cadence": MANAGER, "patch_cadence": MANAGER,
    "delete_cadence": MANAGER, "enrol_lead": ANY, "remove_from_cadence": ANY,
    "call_lead": ANY, "log_activity": ANY, "create_attachment": ANY,
    # email's unsubscribe link: the token in the path is the credential (a bad one is a 404 page)
    "unsubscribe_page": PUBLIC, "unsubscribe": PUBLIC,
    # webhooks: no bearer token, a signature or an api key instead (unsigned: 403)
    "adf_webhook": PUBLIC, "twilio_sms": PUBLIC, "twilio_status": PUBLIC, "meta_verify": PUBLIC,
    "meta_event": PUBLIC, "twilio_voice": PUBLIC, "twilio_call_status": PUBLIC,
    # reports (managers and up)
    "get_dashboard": MANAGER, "get_response_time": MANAGER, "get_lead_sources": MANAGER,
    "get_overview": MANAGER, "get_internet_response": MANAGER, "get_stale": MANAGER, "get_files": MANAGER,
    "get_assistant": MANAGER, "get_response_time_leads": MANAGER,
}

# Findings reported to the lead and not yet settled: (operationId, caller) -> why the check is set aside.
# Each entry is printed by the test, so it stays visible until the owner of the route removes it.
KNOWN: dict[tuple[str, str], str] = {}

# Bodies that pass validation, so the role and tenancy checks behind it are what answers.
BODIES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "create_account": lambda ids: {"name": "Matrix Store", "timezone": "UTC"},
    "patch_account": lambda ids: {"name": "Renamed Store"},
    "create_user": lambda ids: {"email": f"new{len(ids)}@acme.com", "name": "New", "role": "agent",
                                "account_ids": [ids["account_id"]]},
    "patch_user": lambda ids: {"name": "Renamed"},
    "patch_me": lambda ids: {"available": True},
    "put_routing": lambda ids: {"offer_timeout_seconds": 120, "strategy": "round_robin", "rules": [],
                                "catchall_user_ids": [], "respect_business_hours": False},
    "decline_offer": lambda ids: {"reason": "busy"},
    "put_response_targets": lambda ids: {"first_response_seconds": 300, "reply_seconds": 300},
    "lead_feedback": lambda ids: {"contact_status": "contacted", "comment": "called back"},
    "create_lead": lambda ids: {"first_name": "Ann", "phone": "+13125550177", "source": "Web", "channel": "web"},
    "assign_lead": lambda ids: {"user_id": ids["user_id"]},
    "send_message": lambda ids: {"body": "Are you free tomorrow?"},
    "create_appointment": lambda ids: {"at": "2026-11-21T16:00:00Z", "note": "test drive"},
    "update_appointment": lambda ids: {"status": "showed"},
    "escalate": lambda ids: {"note": "customer is upset"},
    "add_note": lambda ids: {"text": "called, no answer"},
    "add_label": lambda ids: {"label": "vip"},
    "create_saved_reply": lambda ids: {"title": "Hours", "body": "We open at 9"},
    "update_saved_reply": lambda ids: {"title": "Hours", "body": "We open at 8"},
    "create_cadence": lambda ids: CADENCE,
    "patch_cadence": lambda ids: {"name": "Renamed cadence"},
    "enrol_lead": lambda ids: {"cadence_id": ids.get("cadence_id", "cad_01KMATRIXNOTHING0")},
    "log_activity": lambda ids: {"kind": "visit", "note": "came in for a test drive"},
    "create_attachment": lambda ids: {"filename": "civic.png", "content_type": "image/png", "bytes": 1000},
}
CADENCE = {"name": "Matrix", "enroll": "manual", "assistant_name": "Ava",
           "steps": [{"after_seconds": 60, "phase": "first_touch", "channel": "auto", "body": "Hi"}]}

# Non-JSON bodies by content type (webhooks, ADF).
RAW_BODIES = {
    "application/xml": "<?xml version='1.0'?><adf><prospect><customer><contact><name part='full'>A B</name>"
                       "<phone>+13125550100</phone></contact></customer></prospect></adf>",
    "text/xml": "<adf/>",
    "application/x-www-form-urlencoded": "From=%2B13125550100&To=%2B13125550101&Body=hi&MessageSid=SM1",
}


# -- the world ----------------------------------------------------------------------------------------------


@dataclass
class Matrix:
    world: World
    tokens: dict[str, str]
    ids: dict[str, str]
    owners: dict[str, str]  # owner key ("offered", "notified") -> caller name
    group_ids: set[str]  # every id of group A, to search replies to outsiders for


def _op_ids(paths: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    ops = [(path, method.upper(), op) for path, methods in paths.items() for method, op in methods.items()]
    # Deletions last, so they cannot take away what another operation is called with.
    return sorted(ops, key=lambda o: (o[1] == "DELETE", o[0], o[1]))


def _document() -> dict[str, Any]:
    from app import app  # noqa: F401  (registers every route)
    from chalicelib.openapi import build_document

    build_document.cache_clear()
    return build_document()


def _has_route(doc: dict[str, Any], method: str, path: str) -> bool:
    return method.lower() in doc["paths"].get(path, {})


def build_matrix(world: World, doc: dict[str, Any]) -> Matrix:
    a = world.tenant("Alpha Auto", "owner@alpha.com", stores=2)
    s1, s2 = (x["account_id"] for x in a.accounts)
    b = world.tenant("Beta Motors", "owner@beta.com")
    tokens = {"group_admin": a.token, "other_group": b.token}
    users: dict[str, dict[str, Any]] = {}
    for name, role, extra in (("admin", "admin", {}), ("manager", "manager", {}), ("agent", "agent", {}),
                              ("restricted", "agent", {"restricted": True}), ("subject", "agent", {})):
        users[name], tokens[name] = world.user(a, f"{name}@alpha.com", role=role, account_ids=[s1], **extra)
    users["other_store"], tokens["other_store"] = world.user(a, "manager2@alpha.com", role="manager",
                                                             account_ids=[s2])
    # Only `agent` is available, so routing offers the lead to them.
    for name in ("restricted", "subject"):
        assert world.patch("/me", tokens[name], {"available": False}).status == 200
    ids = {"account_id": s1, "user_id": users["subject"]["user_id"]}
    owners: dict[str, str] = {}

    lead_id = _make_lead(world, doc, a.token, s1)
    ids["lead_id"] = lead_id
    offers = world.get("/me/offers", tokens["agent"]).json["items"] if _has_route(doc, "GET", "/me/offers") else []
    if offers:
        ids["offer_id"] = offers[0]["offer_id"]
        owners["offered"] = "agent"
    from chalicelib.services.alerts import alert

    subject = world.deps.users.get(users["agent"]["user_id"])
    assert subject is not None
    note = alert(world.deps, "mention", world.deps.leads.require(lead_id), [subject], who="matrix")[0]
    ids["notification_id"] = note.notification_id
    owners["notified"] = "agent"
    _make_optional(world, doc, a.token, ids)
    group_ids = {s1, s2, *(u["user_id"] for u in users.values()), a.admin_id, *ids.values()}
    return Matrix(world, tokens, ids, owners, group_ids)


def _make_lead(world: World, doc: dict[str, Any], token: str, account_id: str) -> str:
    body = {"first_name": "Lee", "last_name": "Matrix", "phone": "+13125550199", "email": "lee@matrix.com",
            "source": "Web", "channel": "web", "message": "price?"}
    if _has_route(doc, "POST", "/accounts/{account_id}/leads"):
        reply = world.post(f"/accounts/{account_id}/leads", token, body)
        assert reply.status == 201, reply.json
        return str(reply.json["lead_id"])
    from chalicelib.domain.leads import NewLead
    from chalicelib.services.intake import receive_lead
    from chalicelib.services.routing import route_new_lead

    result = receive_lead(world.deps, world.deps.accounts.require(account_id), NewLead.model_validate(body))
    route_new_lead(world.deps, result.lead)
    return result.lead.lead_id


def _make_optional(world: World, doc: dict[str, Any], token: str, ids: dict[str, str]) -> None:
    """Resources whose routes may not exist yet: made through their routes when they do."""
    lead = ids["lead_id"]
    if _has_route(doc, "POST", "/accounts/{account_id}/saved-replies"):
        reply = world.post(f"/accounts/{ids['account_id']}/saved-replies", token, {"title": "Hi", "body": "Hello"})
        if reply.status == 201:
            ids["saved_reply_id"] = reply.json["saved_reply_id"]
    if _has_route(doc, "POST", "/leads/{lead_id}/messages"):
        reply = world.post(f"/leads/{lead}/messages", token, {"body": "Hello from the matrix"})
        if reply.status == 202:
            ids["message_id"] = reply.json["message_id"]
    if _has_route(doc, "POST", "/leads/{lead_id}/appointments"):
        reply = world.post(f"/leads/{lead}/appointments", token, {"at": "2026-11-20T15:00:00Z", "note": "test drive"})
        if reply.status in (200, 201):
            ids["appointment_id"] = reply.json.get("appointment_id", "")
    if _has_route(doc, "POST", "/accounts/{account_id}/cadences"):
        reply = world.post(f"/accounts/{ids['account_id']}/cadences", token, CADENCE)
        if reply.status == 201:
            ids["cadence_id"] = reply.json["cadence_id"]
    ids.setdefault("label", "vip")


# -- calling ------------------------------------------------------------------------------------------------


def made_up(value: str) -> str:
    """An id of the same shape that names nothing."""
    return (value[:-6] + "zz0000") if len(value) > 8 else value + "-missing"


@dataclass
class Op:
    path: str
    method: str
    spec: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.spec["operationId"])

    @property
    def params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    @property
    def query_names(self) -> set[str]:
        return {p["name"] for p in self.spec.get("parameters", []) if p["in"] == "query"}

    @property
    def scoped(self) -> bool:
        """Does the call name something of group A (a path id or ?account_id=)?"""
        return bool(self.params) or "account_id" in self.query_names


def _body_from_schema(doc: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A minimal body with every required field, for operations without an entry in BODIES."""
    if "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in schema:
        return _body_from_schema(doc, schema["anyOf"][0])
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {k: _body_from_schema(doc, schema["properties"][k]) for k in schema.get("required", [])}
    if kind == "array":
        return []
    if kind == "integer" or kind == "number":
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return True
    fmt = schema.get("format")
    return {"email": "someone@acme.com", "date-time": "2026-11-20T15:00:00Z", "date": "2026-11-20"}.get(fmt, "text")


def call(m: Matrix, doc: dict[str, Any], op: Op, caller: str | None, ids: dict[str, str],
         token: str | None = None, account_query: bool = True) -> Reply:
    path = op.path
    for param in op.params:
        path = path.replace("{" + param + "}", ids.get(param, made_up(f"{param[:3]}_01KMATRIXNOTHING0")))
    if "account_id" in op.query_names and account_query:
        path += f"?account_id={ids['account_id']}"
    token = token if token is not None else (m.tokens[caller] if caller else None)
    body = op.spec.get("requestBody")
    if body is None:
        return m.world.call(op.method, path, token)
    content = body["content"]
    if "application/json" in content:
        maker = BODIES.get(op.name)
        payload = maker(ids) if maker else _body_from_schema(doc, content["application/json"]["schema"])
        return m.world.call(op.method, path, token, payload)
    content_type = next(iter(content))
    return m.world.call(op.method, path, token, headers={"Content-Type": content_type},
                        raw=RAW_BODIES.get(content_type, "x"))


def error_shape_problem(reply: Reply) -> str | None:
    if reply.status < 400:
        return None
    data = reply.json
    err = data.get("error") if isinstance(data, dict) else None
    if not (isinstance(err, dict) and isinstance(err.get("code"), str) and isinstance(err.get("message"), str)
            and isinstance(err.get("details"), list)):
        return f"error body not in the contract's shape: {reply.body[:200]!r}"
    return None


# -- the checks ---------------------------------------------------------------------------------------------


def check_operation(m: Matrix, doc: dict[str, Any], op: Op) -> list[str]:
    problems: list[str] = []
    rule = EXPECTED.get(op.name, ANY)
    auth = bool(op.spec.get("security"))
    fake_ids = {k: made_up(v) for k, v in m.ids.items()}

    def record(who: str, reply: Reply, expect: str, ok: bool) -> None:
        if reply.status >= 500:
            problems.append(f"{who}: {reply.status} (a 5xx)")
        elif not ok:
            problems.append(f"{who}: got {reply.status} {reply.error_code or ''}, expected {expect}")
        shape = error_shape_problem(reply)
        if shape:
            problems.append(f"{who}: {shape}")

    if auth:
        now = int(m.world.clock.now().timestamp())
        forged = jwt.encode({"sub": m.ids["user_id"], "exp": now + 60}, "not-the-secret-0123456789abcdef0123",
                            algorithm="HS256")
        for who, token in (("no token", ""), ("garbage token", "garbage"), ("forged token", forged)):
            reply = call(m, doc, op, None, m.ids, token=token)
            record(who, reply, "401", reply.status == 401)
    else:
        reply = call(m, doc, op, None, m.ids, token="")
        if op.path.startswith("/webhooks/") and op.method == "POST":
            record("unsigned", reply, "403", reply.status == 403)
        else:
            record("anonymous", reply, "no 401 on a public route", reply.status != 401)
        return problems

    if op.method == "GET" and not op.params:
        # Lists without an id (and without ?account_id=: every store the caller sees): neither a
        # restricted agent (not assigned) nor a manager of another store may find the lead in them.
        for who in ("restricted", "other_store"):
            reply = call(m, doc, op, who, m.ids, account_query=False)
            shown = m.ids["lead_id"] in reply.body.decode(errors="replace")
            record(who, reply, "no lead they may not see", not shown)
    elif op.method == "GET" and not LEAD_PARAMS & set(op.params):
        reply = call(m, doc, op, "restricted", m.ids)
        shown = m.ids["lead_id"] in reply.body.decode(errors="replace")
        record("restricted", reply, "no lead that is not assigned to them", not shown)

    # Outsiders: the same answer for real and made-up ids, never a 2xx with this group's data.
    outsiders = ["other_group", "other_store"] + (["restricted"] if LEAD_PARAMS & set(op.params) else [])
    for who in outsiders:
        if who == "other_store" and not op.scoped:
            continue
        if (op.name, who) in KNOWN:
            print(f"KNOWN {op.name} / {who}: {KNOWN[op.name, who]}")
            continue
        if who == "other_group" and not op.scoped:
            reply = call(m, doc, op, who, m.ids)
            sent = json.dumps(BODIES[op.name](m.ids)) if op.name in BODIES else ""
            # An id the caller sent may be echoed in an error; any other id of group A is a leak.
            leaked = sorted(i for i in m.group_ids if i in reply.body.decode(errors="replace") and i not in sent)
            record(who, reply, "no ids of another group", not leaked)
            continue
        real = call(m, doc, op, who, m.ids)
        fake = call(m, doc, op, who, fake_ids)
        same = (real.status, real.error_code) == (fake.status, fake.error_code)
        record(who, real, f"not 2xx and as for a made-up id ({fake.status} {fake.error_code})",
               same and not 200 <= real.status < 300)

    # Members of the group, lowest role first; stop at the first allowed caller (calls may mutate).
    if rule.owner is not None:
        owner = m.owners.get(rule.owner)
        for who in ("restricted", "manager", "admin", "group_admin", "agent"):
            reply = call(m, doc, op, who, m.ids)
            if who == owner:
                record(who, reply, "allowed (the owner)", reply.status not in (401, 403, 404))
            elif owner is not None:
                record(who, reply, "404 (not theirs)", reply.status == 404)
        return problems
    for role in ROLES:
        reply = call(m, doc, op, role.value, m.ids)
        if rule.minimum is not None and role.rank < rule.minimum.rank:
            record(role.value, reply, str(rule.denied), reply.status == rule.denied)
        else:
            record(role.value, reply, "allowed", reply.status not in (401, 403, 404))
            break
    return problems


def test_every_operation_is_classified() -> None:
    doc = _document()
    names = {op["operationId"] for methods in doc["paths"].values() for op in methods.values()}
    missing = sorted(names - set(EXPECTED))
    assert not missing, (f"classify who may call {missing} in tests/isolation/test_matrix.py EXPECTED "
                         "(minimum role, or the owner of the resource)")


def test_isolation_matrix(world: World) -> None:
    doc = _document()
    matrix = build_matrix(world, doc)
    failures: dict[str, list[str]] = {}
    for path, method, spec in _op_ids(doc["paths"]):
        op = Op(path, method, spec)
        problems = check_operation(matrix, doc, op)
        if problems:
            failures[f"{method} {path} ({op.name})"] = problems
    assert not failures, json.dumps(failures, indent=1)
