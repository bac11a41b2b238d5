"""Stores on their own Twilio subaccounts: each store's webhooks are signed with its own subaccount's
auth token (and only for its own numbers and messages), its SMS go out through its subaccount with
the parent's credentials, and stores without a subaccount keep the stage's account.

One group, three stores: Lakeside Honda on subaccount A (set on POST), Lakeside Toyota on subaccount B
(set by PATCH), Lakeside Ford on the parent account. The tokens come from the environment
(LEADLINE_TWILIO_AUTH_TOKENS), as a stage without Secrets Manager reads them."""

from __future__ import annotations

import base64
import io
import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import pytest

from chalicelib.config import reset_settings
from tests.integration.conversations_support import (
    ALWAYS_OPEN,
    Store,
    current,
    drain,
    lead,
    messages,
    queued_jobs,
    timeline,
    twilio_params,
    twilio_post,
)
from tests.support import JsonHttpResponse, World

PARENT_SID, PARENT_TOKEN = "AC" + "0f" * 16, "parent-account-auth-token"
SUB_A, TOKEN_A = "AC" + "a1" * 16, "subaccount-a-auth-token"
SUB_B, TOKEN_B = "AC" + "b2" * 16, "subaccount-b-auth-token"
UNCONFIGURED_SUB = "AC" + "c3" * 16
NUMBER_A, NUMBER_B, NUMBER_C = "+13125550101", "+13125550102", "+13125550103"
CUSTOMER = "+13125550199"


@dataclass
class Group:
    world: World
    a: Store
    b: Store
    c: Store
    agent_token: str

    def stores(self) -> list[Store]:
        return [self.a, self.b, self.c]


@pytest.fixture
def group(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Group]:
    monkeypatch.setenv("LEADLINE_TWILIO_ACCOUNT_SID", PARENT_SID)
    monkeypatch.setenv("LEADLINE_TWILIO_AUTH_TOKEN", PARENT_TOKEN)
    monkeypatch.setenv("LEADLINE_TWILIO_AUTH_TOKENS", json.dumps({SUB_A: TOKEN_A, SUB_B: TOKEN_B}))
    reset_settings()
    tenant = world.tenant(name="Lakeside Motors", email="owner@lakeside-motors.com", stores=0)
    a = world.account(tenant, "Lakeside Honda", timezone="America/Chicago", hours=ALWAYS_OPEN,
                      sms_number=NUMBER_A, twilio_account_sid=SUB_A)
    b = world.account(tenant, "Lakeside Toyota", timezone="America/Chicago", hours=ALWAYS_OPEN, sms_number=NUMBER_B)
    patched = world.patch(f"/accounts/{b['account_id']}", tenant.token, {"twilio_account_sid": SUB_B})
    assert patched.status == 200 and patched.json["twilio_account_sid"] == SUB_B, patched.json
    c = world.account(tenant, "Lakeside Ford", timezone="America/Chicago", hours=ALWAYS_OPEN, sms_number=NUMBER_C)
    tenant.accounts += [a, patched.json, c]
    _, agent_token = world.user(tenant, "sam@lakeside-motors.com", role="agent",
                                account_ids=[x["account_id"] for x in tenant.accounts])
    yield Group(world, Store(world, tenant, a), Store(world, tenant, patched.json), Store(world, tenant, c),
                agent_token)
    reset_settings()  # the next test must not inherit these tokens


def inbound(world: World, *, to: str, account_sid: str, token: str, sid: str, body: str = "Is it still there?",
            **more: str) -> Any:
    params = twilio_params("inbound_sms.txt", To=to, AccountSid=account_sid, MessageSid=sid, SmsSid=sid,
                           SmsMessageSid=sid, From=CUSTOMER, Body=body, **more)
    return twilio_post(world, "/webhooks/twilio/sms", params, token=token)


def test_each_store_accepts_its_own_twilio_accounts_signature(group: Group) -> None:
    world = group.world
    for i, (s, number, account_sid, token) in enumerate([(group.a, NUMBER_A, SUB_A, TOKEN_A),
                                                         (group.b, NUMBER_B, SUB_B, TOKEN_B),
                                                         (group.c, NUMBER_C, PARENT_SID, PARENT_TOKEN)]):
        existing = lead(world, s, phone=CUSTOMER)
        reply = inbound(world, to=number, account_sid=account_sid, token=token, sid=f"SM{i:032x}",
                        body=f"Hello {s.account['name']}")
        assert reply.status == 200, reply.body
        last = messages(world, existing.lead_id)[-1]
        assert (last["direction"], last["body"]) == ("inbound", f"Hello {s.account['name']}")


# (the number written to, the AccountSid the request claims, the token that signed it)
FORGED = {
    "b_number_signed_with_a_token_claiming_a": (NUMBER_B, SUB_A, TOKEN_A),
    "b_number_signed_with_a_token_claiming_b": (NUMBER_B, SUB_B, TOKEN_A),
    "a_number_with_a_token_but_claiming_b": (NUMBER_A, SUB_B, TOKEN_A),
    "a_number_signed_with_the_parent_token": (NUMBER_A, SUB_A, PARENT_TOKEN),
    "a_number_without_account_sid": (NUMBER_A, "", TOKEN_A),
    "parent_number_signed_with_a_token_claiming_a": (NUMBER_C, SUB_A, TOKEN_A),
    "parent_number_signed_with_a_token_claiming_parent": (NUMBER_C, PARENT_SID, TOKEN_A),
}


@pytest.mark.parametrize("case", sorted(FORGED))
def test_a_request_not_signed_by_the_numbers_own_account_is_403_and_stores_nothing(group: Group, case: str) -> None:
    world = group.world
    leads = {s.account_id: lead(world, s, phone=CUSTOMER) for s in group.stores()}
    before = {existing.lead_id: timeline(world, existing.lead_id) for existing in leads.values()}
    number, claimed, token = FORGED[case]
    reply = inbound(world, to=number, account_sid=claimed, token=token, sid="SM" + "f" * 32, body="STOP")
    assert reply.status == 403, reply.body
    assert reply.error_code == "bad_signature"
    for existing in leads.values():
        assert timeline(world, existing.lead_id) == before[existing.lead_id]
        assert not current(world, existing.lead_id).opted_out
    assert queued_jobs(world, "inbound") == []


def test_a_store_whose_subaccount_has_no_configured_token_is_403_with_an_error_naming_the_store(
        group: Group, captured_logs: io.StringIO) -> None:
    world = group.world
    moved = world.patch(f"/accounts/{group.c.account_id}", group.c.tenant.token,
                        {"twilio_account_sid": UNCONFIGURED_SUB})
    assert moved.status == 200, moved.json
    existing = lead(world, group.c, phone=CUSTOMER)
    before = timeline(world, existing.lead_id)
    for token in (PARENT_TOKEN, TOKEN_A, "dev-twilio-token"):
        reply = inbound(world, to=NUMBER_C, account_sid=UNCONFIGURED_SUB, token=token, sid="SM" + "e" * 32)
        assert reply.status == 403 and reply.error_code == "bad_signature"
    assert timeline(world, existing.lead_id) == before
    errors = [json.loads(line) for line in captured_logs.getvalue().splitlines() if '"ERROR"' in line]
    assert errors and all(e["account_id"] == group.c.account_id for e in errors)
    logs = captured_logs.getvalue()
    for token in (PARENT_TOKEN, TOKEN_A, TOKEN_B):
        assert token not in logs


def test_the_numbers_lookup_follows_the_stores_twilio_account(group: Group) -> None:
    """Clearing or changing a store's subaccount (same number, or a new number) changes which token
    signs its webhooks at once."""
    world = group.world
    existing = lead(world, group.a, phone=CUSTOMER)
    cleared = world.patch(f"/accounts/{group.a.account_id}", group.a.tenant.token, {"twilio_account_sid": None})
    assert cleared.status == 200 and cleared.json["twilio_account_sid"] is None
    assert inbound(world, to=NUMBER_A, account_sid=SUB_A, token=TOKEN_A, sid="SM" + "1" * 32).status == 403
    assert inbound(world, to=NUMBER_A, account_sid=PARENT_SID, token=PARENT_TOKEN, sid="SM" + "2" * 32).status == 200

    new_number = "+13125550111"
    moved = world.patch(f"/accounts/{group.a.account_id}", group.a.tenant.token,
                        {"twilio_account_sid": SUB_B, "sms_number": new_number})
    assert moved.status == 200, moved.json
    assert inbound(world, to=new_number, account_sid=PARENT_SID, token=PARENT_TOKEN, sid="SM" + "3" * 32).status == 403
    assert inbound(world, to=new_number, account_sid=SUB_B, token=TOKEN_B, sid="SM" + "4" * 32).status == 200
    # the old number belongs to nobody now: the stage's token, an empty TwiML answer, nothing stored
    assert inbound(world, to=NUMBER_A, account_sid=PARENT_SID, token=PARENT_TOKEN, sid="SM" + "5" * 32).status == 200
    stored = messages(world, existing.lead_id)
    assert [(m["direction"], m["body"]) for m in stored] == [("inbound", "Is it still there?")] * 2  # SM2, SM4


def test_the_account_field_is_validated_and_shown(group: Group) -> None:
    world, token = group.world, group.a.tenant.token
    for bad in ("AC123", "ac" + "a1" * 16, "SK" + "a1" * 16, "AC" + "g" * 32, 42):
        created = world.post("/accounts", token, {"name": "Bad", "timezone": "UTC", "twilio_account_sid": bad})
        assert created.status == 400 and [d["field"] for d in created.json["error"]["details"]] == \
            ["twilio_account_sid"], (bad, created.json)
        patched = world.patch(f"/accounts/{group.a.account_id}", token, {"twilio_account_sid": bad})
        assert patched.status == 400 and patched.json["error"]["details"][0]["field"] == "twilio_account_sid"
    shown = world.get(f"/accounts/{group.a.account_id}", token)
    assert shown.status == 200 and shown.json["twilio_account_sid"] == SUB_A
    listed = {a["account_id"]: a for a in world.get("/accounts", token).json["items"]}
    assert listed[group.b.account_id]["twilio_account_sid"] == SUB_B
    assert listed[group.c.account_id]["twilio_account_sid"] is None


class FakeTwilioApi:
    """Twilio's Messages resource, answered in-process: what was posted, where, as whom."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def urlopen(self, request: urllib.request.Request, timeout: float) -> Any:
        auth = base64.b64decode(request.get_header("Authorization", "").removeprefix("Basic ")).decode()
        form = {k: v[-1] for k, v in parse_qs((request.data or b"").decode()).items()}  # type: ignore[union-attr]
        sid = f"SM{len(self.calls) + 1:032x}"
        self.calls.append({"url": request.full_url, "auth": auth, "form": form, "sid": sid})
        return JsonHttpResponse({"sid": sid, "status": "queued"})


@pytest.fixture
def twilio_api(group: Group, monkeypatch: pytest.MonkeyPatch) -> FakeTwilioApi:
    """The live Twilio sender (not the sandbox), its HTTPS calls answered by FakeTwilioApi."""
    from chalicelib.adapters.senders import build_sender

    api = FakeTwilioApi()
    monkeypatch.setattr(urllib.request, "urlopen", api.urlopen)
    settings = group.world.deps.settings.model_copy(update={
        "sender_mode": "live", "twilio_api_url": "https://twilio-api.lakeside-fake.com",
        "twilio_from_number": "+13125550190"})
    group.world.deps.__dict__["sender"] = build_sender(settings)
    return api


def _messages_url(account_sid: str) -> str:
    return f"https://twilio-api.lakeside-fake.com/2010-04-01/Accounts/{account_sid}/Messages.json"


def _send_one_from_each_store(group: Group) -> dict[str, str]:
    """A customer message from each store, handed to Twilio; the lead id of each store."""
    world = group.world
    leads = {}
    for s in group.stores():
        existing = lead(world, s, phone=CUSTOMER)
        sent = world.post(f"/leads/{existing.lead_id}/messages", group.agent_token,
                          {"body": f"Hi from {s.account['name']}"})
        assert sent.status == 202 and sent.json["status"] == "queued", sent.json
        leads[s.account_id] = existing.lead_id
    drain(world, "outbox")
    return leads


def test_a_stores_sms_goes_through_its_subaccount_with_the_parents_credentials(
        group: Group, twilio_api: FakeTwilioApi) -> None:
    from chalicelib.schemas.queues import DeliverNotification
    from chalicelib.services.notifications import deliver_notification

    _send_one_from_each_store(group)
    by_from = {c["form"]["From"]: c for c in twilio_api.calls}
    assert by_from[NUMBER_A]["url"] == _messages_url(SUB_A)
    assert by_from[NUMBER_B]["url"] == _messages_url(SUB_B)
    assert by_from[NUMBER_C]["url"] == _messages_url(PARENT_SID)
    assert {c["auth"] for c in twilio_api.calls} == {f"{PARENT_SID}:{PARENT_TOKEN}"}
    # A staff notification SMS about a subaccount store's lead stays on the stage's account.
    deliver_notification(group.world.deps, DeliverNotification(channel="sms", to="+13125550150", text="New lead",
                                                               account_id=group.a.account_id))
    assert twilio_api.calls[-1]["url"] == _messages_url(PARENT_SID)
    assert twilio_api.calls[-1]["form"]["From"] == "+13125550190"


def test_status_callbacks_are_checked_against_the_account_that_sent_the_message(
        group: Group, twilio_api: FakeTwilioApi) -> None:
    world = group.world
    leads = _send_one_from_each_store(group)
    provider_sid = {c["form"]["From"]: c["sid"] for c in twilio_api.calls}

    def status(number: str, claimed: str, token: str) -> int:
        params = twilio_params("status_delivered.txt", MessageSid=provider_sid[number], SmsSid=provider_sid[number],
                               AccountSid=claimed, From=number)
        return twilio_post(world, "/webhooks/twilio/status", params, token=token).status

    def last_status(s: Store) -> str:
        return str(messages(world, leads[s.account_id])[-1]["status"])

    assert {last_status(s) for s in group.stores()} == {"sent"}
    # B's message: A's token (claiming A or B) and the parent's token are refused, B's own is accepted.
    assert status(NUMBER_B, SUB_A, TOKEN_A) == 403
    assert status(NUMBER_B, SUB_B, TOKEN_A) == 403
    assert status(NUMBER_B, SUB_B, PARENT_TOKEN) == 403
    assert last_status(group.b) == "sent"
    assert status(NUMBER_B, SUB_B, TOKEN_B) == 204
    assert last_status(group.b) == "delivered"
    # A's message with A's token but another AccountSid: refused.
    assert status(NUMBER_A, SUB_B, TOKEN_A) == 403
    assert last_status(group.a) == "sent"
    assert status(NUMBER_A, SUB_A, TOKEN_A) == 204
    # The parent store's message: a subaccount token is refused, the parent's accepted.
    assert status(NUMBER_C, SUB_A, TOKEN_A) == 403
    assert status(NUMBER_C, PARENT_SID, TOKEN_A) == 403
    assert last_status(group.c) == "sent"
    assert status(NUMBER_C, PARENT_SID, PARENT_TOKEN) == 204
    assert {last_status(s) for s in group.stores()} == {"delivered"}


def test_a_status_callback_that_beats_the_send_result_is_checked_against_the_account_it_claims(
        group: Group) -> None:
    """Twilio can call back before the outbox has saved the message's sid: a subaccount's callback
    is then signed with that subaccount's token, answered 204 and changes nothing."""
    world = group.world

    def status(claimed: str, token: str) -> int:
        params = twilio_params("status_delivered.txt", MessageSid="SM" + "9e" * 16, SmsSid="SM" + "9e" * 16,
                               AccountSid=claimed, From=NUMBER_A)
        return twilio_post(world, "/webhooks/twilio/status", params, token=token).status

    assert status(SUB_A, TOKEN_A) == 204
    assert status(PARENT_SID, PARENT_TOKEN) == 204
    assert status(SUB_A, TOKEN_B) == 403  # another subaccount's token
    assert status(SUB_B, TOKEN_A) == 403  # a token that is not the claimed account's
    assert status(SUB_A, PARENT_TOKEN) == 403  # the parent's token for a subaccount's callback
    assert status(UNCONFIGURED_SUB, TOKEN_A) == 403  # an account with no token here: the stage's token decides


def test_oversized_numbers_or_sids_are_refused_like_any_unsigned_request(
        group: Group, monkeypatch: pytest.MonkeyPatch) -> None:
    """The number / message is read before the signature is checked; a value no key may hold is not
    looked up (DynamoDB refuses a partition key over 2,048 bytes with a ValidationException, a 5xx
    here; moto does not, so the keys asked for are recorded)."""
    from chalicelib.adapters.aws import client

    world = group.world
    ddb = client("dynamodb")
    original = ddb._make_api_call
    key_sizes: list[int] = []

    def recording(operation: str, params: dict[str, Any]) -> Any:
        if operation == "GetItem":
            key_sizes.append(len(params["Key"]["PK"]["S"].encode()))
        elif operation == "BatchGetItem":
            key_sizes.extend(len(key["PK"]["S"].encode())
                             for asked in params["RequestItems"].values() for key in asked["Keys"])
        return original(operation, params)

    monkeypatch.setattr(ddb, "_make_api_call", recording)
    huge = "+1" + "3" * 3000
    params = twilio_params("inbound_sms.txt", To=huge, AccountSid=SUB_A)
    assert twilio_post(world, "/webhooks/twilio/sms", params, token="forged").status == 403
    status = twilio_params("status_delivered.txt", MessageSid="SM" + "a" * 3000, AccountSid=SUB_A)
    assert twilio_post(world, "/webhooks/twilio/status", status, token="forged").status == 403
    # correctly signed by the stage's account: a number that long is not one (400 naming it), nothing is stored
    signed = twilio_post(world, "/webhooks/twilio/sms", params, token=PARENT_TOKEN)
    assert signed.status == 400 and signed.json["error"]["details"][0]["field"] == "To"
    assert queued_jobs(world, "inbound") == []
    assert key_sizes == []
    # (the recording works: a normal number is looked up)
    normal = twilio_params("inbound_sms.txt", To=NUMBER_A, AccountSid=SUB_A)
    assert twilio_post(world, "/webhooks/twilio/sms", normal, token="forged").status == 403
    assert key_sizes and max(key_sizes) < 100
