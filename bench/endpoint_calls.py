"""AWS calls per hot path, counted at the endpoint, end to end on the local stack.

Starts a moto server behind a counting proxy (bench/_endpoint.py), runs `leadline local` against it,
and drives the product only through the contract's surface (HTTP API, signed Twilio webhooks, the
CLI). Each scenario's count is every request that reached "AWS" from the moment the request was sent
until the stack had been quiet for 1.5 s: the request itself, the queue work it set off (the pollers'
receives that returned messages and their deletes), the consumers' own calls. The pollers' empty
long-polls are left out (they are the event source mapping idling, not work).

    .venv/bin/python bench/endpoint_calls.py [--repeat 5]

Each figure is the median over the repeats (the max is printed beside it), after one round that is
not counted (warming the stack's clients up): a schedule that fires inside one window (the
every-minute due sweep) shows as a higher max, not as the figure."""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import _prices as price
from _endpoint import CountingEndpoint, LocalStack

ALWAYS_OPEN = {d: [["00:00", "23:59"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
STORE_NUMBER = "+13125550100"
TWILIO_TOKEN = "dev-twilio-token"  # the local stack's default (LEADLINE_TWILIO_AUTH_TOKEN)


NEW_LEAD = "new lead through the API (first offer included)"
ACCEPT = "accept an offer (auth included)"
DECLINE = "decline an offer (auth and the next offer included)"
OPEN_LEAD_SMS = "inbound SMS on an open lead (async work included)"
NEW_CONTACT_SMS = "inbound SMS from a new contact (lead made and routed)"
REPLY = "agent's SMS reply (outbox queue and send included)"
KEYS = {NEW_LEAD: "calls_new_lead_api_end_to_end", ACCEPT: "calls_accept_end_to_end",
        DECLINE: "calls_decline_end_to_end",
        REPLY: "calls_agent_reply_end_to_end",
        OPEN_LEAD_SMS: "calls_inbound_sms_open_lead_end_to_end",
        NEW_CONTACT_SMS: "calls_inbound_sms_new_contact_end_to_end"}


def twilio_signature(url: str, form: dict[str, str]) -> str:
    payload = url + "".join(f"{k}{form[k]}" for k in sorted(form))
    digest = hmac.new(TWILIO_TOKEN.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class Scenario:
    def __init__(self, stack: LocalStack, endpoint: CountingEndpoint) -> None:
        self.stack, self.endpoint = stack, endpoint
        boot = json.loads(stack.cli("bootstrap", "--group", "Bench Motors", "--email", "owner@bench-motors.com",
                                    "--name", "Bea Bench"))
        self.admin = boot["token"]
        store = stack.http("POST", "/accounts", {"name": "Bench Kia", "timezone": "America/Chicago",
                                                 "business_hours": ALWAYS_OPEN, "sms_number": STORE_NUMBER},
                           token=self.admin).json()
        self.account_id = store["account_id"]
        self.agents: dict[str, str] = {}
        for name in ("ava", "ben"):
            email = f"{name}@bench-motors.com"
            user = stack.http("POST", "/users", {"email": email, "name": name.title(), "role": "agent",
                                                 "account_ids": [self.account_id]}, token=self.admin).json()
            self.agents[user["user_id"]] = stack.cli("token", "--email", email)
        stack.http("PUT", f"/accounts/{self.account_id}/routing", {"offer_timeout_seconds": 600}, token=self.admin)
        self.serial = 0

    def new_lead(self) -> dict[str, Any]:
        self.serial += 1
        reply = self.stack.http("POST", f"/accounts/{self.account_id}/leads", {
            "first_name": "Pat", "last_name": f"Buyer{self.serial}", "phone": f"+1312555{self.serial:04d}",
            "source": "Web", "channel": "web", "message": "Is the blue one still there?"}, token=self.admin)
        return dict(reply.json())

    def pending_offer(self, lead_id: str) -> tuple[str, str]:
        for token in self.agents.values():
            offers = [o for o in self.stack.http("GET", "/me/offers", token=token).json()["items"]
                      if o["lead_id"] == lead_id]
            if offers:
                return offers[0]["offer_id"], token
        raise RuntimeError("no pending offer")

    def decline(self, offer: tuple[str, str]) -> None:
        offer_id, token = offer
        self.stack.http("POST", f"/offers/{offer_id}/decline", {"reason": "busy"}, token=token)

    def accept(self, offer: tuple[str, str]) -> None:
        offer_id, token = offer
        self.stack.http("POST", f"/offers/{offer_id}/accept", token=token)

    def reply(self, lead_id: str, token: str) -> None:
        self.stack.http("POST", f"/leads/{lead_id}/messages", {"body": "It is! Want to come see it today?"},
                        token=token)

    def sms(self, sender: str, body: str) -> None:
        self.serial += 1
        url = self.stack.url + "/webhooks/twilio/sms"
        form = {"MessageSid": f"SM{self.serial:032d}", "From": sender, "To": STORE_NUMBER, "Body": body,
                "NumMedia": "0", "AccountSid": "AC" + "0" * 32}
        self.stack.http("POST", "/webhooks/twilio/sms", data=urlencode(form),
                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                 "X-Twilio-Signature": twilio_signature(url, form)})


@dataclass
class Run:
    during: Counter[str]  # the calls made before the answer came back (the request's own)
    after: Counter[str]   # what it set off: queue work, timers, consumers
    units: Counter[str]   # DynamoDB items read / written in all of it (bench/_endpoint._item_units)

    @property
    def total(self) -> int:
        return sum(self.during.values()) + sum(self.after.values())


# Lambda time per API request, p50 ms measured in-process over moto on an idle machine (README
# "Benchmarks": bench/hot_routes.py, bench/inbound_sms.py); real DynamoDB answers in a few ms, so
# these are on the high side. A queue or stream consumer invocation is taken as CONSUMER_MS.
API_MS = {"new lead": 229, "accept": 167, "reply": 194, "webhook": 66}
CONSUMER_MS = 100
LAMBDA_GB = 0.5  # .chalice/config.json lambda_memory_size


def path_cost(run: Run, api_requests: int, api_ms: int) -> dict[str, float]:
    """Dollars of one run of a path, per service (bench/_prices.py)."""
    calls = run.during + run.after
    # The table's stream consumer runs once for what a path wrote: its rollups read ledgers and days
    # (BatchGetItem), its language write is the path's one UpdateItem after the answer.
    stream_run = run.after["dynamodb.BatchGetItem"] or run.after["dynamodb.UpdateItem"]
    consumer_runs = calls["sqs.ReceiveMessage"] + (1 if stream_run else 0)
    write_units = run.units["written"] + 2 * run.units["written_in_transactions"]
    seconds = (api_requests * api_ms + consumer_runs * CONSUMER_MS) / 1000
    return {
        "dynamodb": write_units * price.DYNAMODB_WRU + run.units["read"] * price.DYNAMODB_RRU,
        "lambda": (api_requests + consumer_runs) * price.LAMBDA_REQUEST + LAMBDA_GB * seconds * price.LAMBDA_GB_SECOND,
        "sqs": sum(n for op, n in calls.items() if op.startswith("sqs.")) * price.SQS_REQUEST,
        "api_gateway": api_requests * price.API_GATEWAY_REST_CALL,
        "ses": calls["ses.SendEmail"] * price.SES_EMAIL + calls["ses.SendRawEmail"] * price.SES_EMAIL,
        "s3": calls["s3.PUT"] * price.S3_PUT + calls["s3.GET"] * price.S3_GET,
    }


# A lead's life as the cost table counts it: its arrival, one accepted offer, three customer SMS and
# three agent replies (a web lead; an SMS lead's first message is its arrival).
LIVES = {"web": {NEW_LEAD: 1, ACCEPT: 1, OPEN_LEAD_SMS: 3, REPLY: 3},
         "sms": {NEW_CONTACT_SMS: 1, ACCEPT: 1, OPEN_LEAD_SMS: 2, REPLY: 3}}
PATH_API = {NEW_LEAD: (1, API_MS["new lead"]), ACCEPT: (1, API_MS["accept"]), REPLY: (1, API_MS["reply"]),
            OPEN_LEAD_SMS: (1, API_MS["webhook"]), NEW_CONTACT_SMS: (1, API_MS["webhook"])}


def cost_table(results: dict[str, list[Run]]) -> None:
    typical = {}
    for name, runs in results.items():
        totals = [r.total for r in runs]
        typical[name] = runs[totals.index(statistics.median_low(totals))]
    for life, steps in LIVES.items():
        per_service: dict[str, float] = {}
        calls = 0
        for name, times in steps.items():
            calls += typical[name].total * times
            for service, dollars in path_cost(typical[name], *PATH_API[name]).items():
                per_service[service] = per_service.get(service, 0.0) + dollars * times
        total = sum(per_service.values())
        detail = ", ".join(f"{service} ${dollars * 1000:.3f}" for service, dollars in per_service.items() if dollars)
        print(f"  a {life} lead ({calls} AWS calls): ${total * 1000:.3f} per 1,000 leads ({detail})")
        print(f"BENCH calls_per_{life}_lead: {calls} calls")
        print(f"BENCH dollars_per_1000_{life}_leads: {total * 1000:.3f} USD")


def measure(endpoint: CountingEndpoint, action: Callable[[], Any]) -> Run:
    endpoint.settle_and_take()
    endpoint.take_units()
    action()
    during = endpoint.take()
    after = endpoint.settle_and_take()
    return Run(during, after, endpoint.take_units())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, list[Run]] = {}

    with CountingEndpoint() as endpoint, LocalStack(endpoint.url) as stack:
        scene = Scenario(stack, endpoint)
        for i in range(args.repeat + 1):
            # Round 0 warms the stack up and is not counted: a process's first call through each client
            # (SQS GetQueueUrl...) is a cold start's, not the request's.
            counted: dict[str, list[Run]] = results if i else {}
            made: dict[str, Any] = {}
            counted.setdefault(NEW_LEAD, []).append(measure(endpoint, lambda made=made: made.update(scene.new_lead())))
            # The lead's first offer is declined (it goes to the other agent), that one accepted.
            first = scene.pending_offer(made["lead_id"])
            counted.setdefault(DECLINE, []).append(measure(endpoint, lambda first=first: scene.decline(first)))
            offer = scene.pending_offer(made["lead_id"])
            counted.setdefault(ACCEPT, []).append(measure(endpoint, lambda offer=offer: scene.accept(offer)))
            counted.setdefault(REPLY, []).append(
                measure(endpoint, lambda made=made, token=offer[1]: scene.reply(made["lead_id"], token)))
            phone = f"+1312555{scene.serial:04d}"
            counted.setdefault(OPEN_LEAD_SMS, []).append(
                measure(endpoint, lambda phone=phone: scene.sms(phone, "Yes, what's the best price?")))
            counted.setdefault(NEW_CONTACT_SMS, []).append(
                measure(endpoint, lambda i=i: scene.sms(f"+1773555{i:04d}", "Hi, do you have SUVs?")))

    print(f"AWS calls at the endpoint, median of {args.repeat} (max in brackets): during the request + after it "
          "(queue work, consumers), with the calls of the median run:")
    for name, runs in results.items():
        totals = [r.total for r in runs]
        median = statistics.median_low(totals)
        typical = runs[totals.index(median)]
        during = ", ".join(f"{op} {n}" for op, n in sorted(typical.during.items()))
        after = ", ".join(f"{op} {n}" for op, n in sorted(typical.after.items()))
        units = ", ".join(f"{kind} {n}" for kind, n in sorted(typical.units.items()))
        print(f"  {name}: {median} [{max(totals)}] = {sum(typical.during.values())} during ({during})"
              f" + {sum(typical.after.values())} after ({after}); DynamoDB items: {units}")
    print("What a lead costs on AWS, us-east-1 on-demand list prices (bench/_prices.py; assumptions in README):")
    cost_table(results)
    for name, key in KEYS.items():
        runs = results[name]
        print(f"BENCH {key}: {statistics.median_low(r.total for r in runs)} calls")
        print(f"BENCH {key.replace('_end_to_end', '_during_request')}: "
              f"{statistics.median_low(sum(r.during.values()) for r in runs)} calls")


if __name__ == "__main__":
    main()
