"""Helpers of the conversation and webhook tests: a store with an SMS number and a Messenger page,
leads made through intake, signed webhook posts (Twilio's own RequestValidator; Meta's
documented HMAC), and running the queue consumers in-process on what the queues really hold."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from twilio.request_validator import RequestValidator

from chalicelib.adapters.aws import client
from chalicelib.adapters.dynamodb.leads import LeadRepository
from chalicelib.adapters.senders import sandbox_sends
from chalicelib.domain.leads import Lead, NewLead
from tests.support import Reply, Tenant, World

EVENTS = Path(__file__).resolve().parent.parent / "events"
STORE_NUMBER = "+13125550100"
PAGE_ID = "104938271650432"
HOST = "hooks.leadline-demo.com"
ALWAYS_OPEN = {d: [["00:00", "23:59"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@dataclass
class Store:
    world: World
    tenant: Tenant
    account: dict[str, Any]
    agent: dict[str, Any] = field(default_factory=dict)
    agent_token: str = ""

    @property
    def account_id(self) -> str:
        return str(self.account["account_id"])

    @property
    def admin_token(self) -> str:
        return self.world.token(self.tenant.admin_id)


def store(world: World, *, timezone: str = "America/Chicago", domain: str = "acme.com", sms_number: str = STORE_NUMBER,
          page_id: str = PAGE_ID) -> Store:
    tenant = world.tenant(email=f"owner@{domain}", stores=0)
    account = world.account(tenant, "Acme Honda", timezone=timezone, hours=ALWAYS_OPEN, sms_number=sms_number,
                            messenger_page_id=page_id, escalation_email=f"gm@{domain}", crm_email=f"leads@{domain}",
                            address="1200 N Clark St, Chicago, IL", directions_url="https://maps.example.com/acme",
                            voucher_url="https://acme.com/voucher", credit_app_url="https://acme.com/credit")
    tenant.accounts.append(account)
    agent, token = world.user(tenant, f"sam@{domain}", role="agent", account_ids=[account["account_id"]])
    return Store(world=world, tenant=tenant, account=account, agent=agent, agent_token=token)


def lead(world: World, s: Store, phone: str | None = "+13125550199", first_name: str | None = "Maria",
         **fields: Any) -> Lead:
    from chalicelib.services.intake import receive_lead

    account = world.deps.accounts.require(s.account_id)
    data = NewLead(first_name=first_name, last_name=fields.pop("last_name", "Lopez"), phone=phone,
                   source=fields.pop("source", "Website"), channel=fields.pop("channel", "web"), **fields)
    return receive_lead(world.deps, account, data).lead


def current(world: World, lead_id: str) -> Lead:
    return LeadRepository(world.deps.table).require(lead_id)


def timeline(world: World, lead_id: str, type_: str | None = None) -> list[dict[str, Any]]:
    # By time, then by the id's time-ordered part (ids of different prefixes sort apart in the table).
    events = sorted((e.view() for e in LeadRepository(world.deps.table).timeline(lead_id)),
                    key=lambda e: (e["at"], e["event_id"].split("_", 1)[-1]))
    return [e for e in events if type_ is None or e["type"] == type_]


def messages(world: World, lead_id: str) -> list[dict[str, Any]]:
    return timeline(world, lead_id, "message")


def sent(world: World, s: Store) -> list[dict[str, Any]]:
    """What the sandbox sender was handed for the store."""
    return sandbox_sends(world.deps.table, s.account_id)


def report_events(world: World, s: Store, kind: str | None = None) -> list[dict[str, Any]]:
    day = world.clock.now().strftime("%Y-%m-%d")
    items = list(world.deps.table.query(f"ACCOUNT#{s.account_id}#REPORT#{day}", consistent=True))
    return [i for i in items if kind is None or i["kind"] == kind]


# -- webhooks ----------------------------------------------------------------------------

def twilio_params(name: str, **overrides: str) -> dict[str, str]:
    params = dict(parse_qsl((EVENTS / "twilio" / name).read_text().strip(), keep_blank_values=True))
    params.update(overrides)
    return params


def twilio_post(world: World, path: str, params: dict[str, str], *, token: str = "dev-twilio-token",
                signature: str | None = None, body: str | None = None) -> Reply:
    url = f"https://{HOST}{path}"  # the tests' LEADLINE_PUBLIC_BASE_URL (tests/conftest.py)
    sig = signature if signature is not None else RequestValidator(token).compute_signature(url, params)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if sig:
        headers["X-Twilio-Signature"] = sig
    return world.call("POST", path, headers=headers, raw=body if body is not None else urlencode(params))


def sms(world: World, body: str, *, sid: str, sender: str = "+13125550199", **more: str) -> Reply:
    params = twilio_params("inbound_sms.txt", Body=body, MessageSid=sid, SmsSid=sid, SmsMessageSid=sid,
                           From=sender, **more)
    return twilio_post(world, "/webhooks/twilio/sms", params)


def meta_event(name: str, **replace: Any) -> bytes:
    data = json.loads((EVENTS / "meta" / name).read_text())
    for event in data["entry"][0]["messaging"]:
        if "message" in event and "text" in replace:
            event["message"]["text"] = replace["text"]
        if "message" in event and "mid" in replace:
            event["message"]["mid"] = replace["mid"]
    return json.dumps(data).encode()


def meta_post(world: World, raw: bytes, secret: str = "dev-meta-secret", signature: str | None = None) -> Reply:
    sig = signature if signature is not None else "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json"}
    if sig:
        headers["X-Hub-Signature-256"] = sig
    return world.call("POST", "/webhooks/meta", headers=headers, raw=raw)


# -- queues --------------------------------------------------------------------------------

def drain(world: World, queue: str, rounds: int = 5) -> int:
    """Run the queue's consumer (as Lambda would call it, partial batch failures and all) on every
    message the queue holds now; successes are deleted, failures stay. Returns how many ran."""
    from leadline.local.mappings import failed_message_ids, lambda_sqs_record

    function = {"outbox": "conversations_outbox", "inbound": "conversations_inbound"}[queue]
    sqs = client("sqs")
    url = world.deps.queues.url(queue)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    handled = 0
    for _ in range(rounds):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
        if not got:
            break
        event = {"Records": [lambda_sqs_record(m, arn, "us-east-1") for m in got]}
        result = world.client.lambda_.invoke(function, event).payload
        failed = failed_message_ids(result, [m["MessageId"] for m in got])
        for m in got:
            if m["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        handled += len(got)
    return handled


def queued_jobs(world: World, queue: str) -> list[dict[str, Any]]:
    """Peek at a queue's visible jobs without consuming them."""
    sqs = client("sqs")
    url = world.deps.queues.url(queue)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in got]


def sweep(world: World) -> int:
    from chalicelib.services.outbox import sweep_due

    return sweep_due(world.deps)


class atomic_dynamodb:
    """Make each DynamoDB API call atomic, as the real service is. In-process moto is not:
    a cancelled TransactWriteItems restores a snapshot of the whole table taken when it began,
    undoing whatever another thread committed meanwhile. The races under test (read, decide,
    conditional write) still interleave freely between calls."""

    def __enter__(self) -> None:
        ddb = client("dynamodb")
        self._original = ddb._make_api_call
        lock = threading.Lock()
        original = self._original

        def call(operation: str, params: dict[str, Any]) -> Any:
            with lock:
                return original(operation, params)

        ddb._make_api_call = call

    def __exit__(self, *exc: object) -> None:
        client("dynamodb")._make_api_call = self._original
