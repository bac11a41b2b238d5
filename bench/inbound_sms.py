"""AWS calls and in-process latency per inbound SMS.

Runs the app in-process against moto (like the tests), posts Twilio-signed SMS webhooks through
the Chalice test client, then runs the queue consumers in-process on every message the
webhook produced (and on what they produce in turn), and the table's stream consumer on the
records the writes made (report rollups, the lead's language), so asynchronous work is counted too.
AWS calls are counted with a botocore `before-call` hook on the clients of
chalicelib.adapters.aws — the calls our code makes. The harness reads and deletes queue
messages and reads the stream with its own clients, as Lambda's event source mappings would, and
those are not counted.

    .venv/bin/python bench/inbound_sms.py [--messages 200]

Latency is the webhook's wall time in-process with moto in the same process; it measures our
code path plus moto's emulation, not DynamoDB's network latency."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import _support

_support.use_moto_environment()

HOST = "hooks.leadline-bench.com"
os.environ["LEADLINE_PUBLIC_BASE_URL"] = f"https://{HOST}"  # the URL the webhooks are signed over
STORE_NUMBER = "+13125550100"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()

    import boto3
    from chalice.test import Client
    from moto import mock_aws
    from twilio.request_validator import RequestValidator

    with mock_aws():
        from app import app
        from chalicelib.adapters.aws import reset_clients
        from chalicelib.clock import FixedClock
        from chalicelib.config import get_settings, reset_settings
        from chalicelib.deps import Deps, set_deps
        from leadline.local.mappings import lambda_sqs_record
        from leadline.local.streams import StreamPump
        from leadline.provision import provision_local
        from tests.support import World

        reset_settings()
        reset_clients()
        provision_local(get_settings())
        clock = FixedClock("2026-11-02T15:00:00Z")
        deps = Deps(clock=clock)
        set_deps(deps)
        harness_sqs = boto3.client("sqs")  # the event source mapping's client: not counted
        # The stream's mapping reads with its own clients too; the consumer's calls are the app's (counted).
        pump = StreamPump(app, boto3.client("dynamodb"), boto3.client("dynamodbstreams"), deps.settings.table_name)
        counter = _support.CallCounter()
        validator = RequestValidator(deps.settings.twilio_auth_token)

        with Client(app) as chalice_client:
            world = World(client=chalice_client, deps=deps, clock=clock)
            tenant = world.tenant(email="owner@acme.com", stores=0)
            account = world.account(tenant, "Acme Honda", timezone="America/Chicago", sms_number=STORE_NUMBER,
                                    hours={d: [["00:00", "23:59"]] for d in ("mon", "tue", "wed", "thu", "fri",
                                                                              "sat", "sun")})
            world.user(tenant, "sam@acme.com", role="agent", account_ids=[account["account_id"]])

            def post_sms(sender: str, body: str, sid: str) -> float:
                params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender,
                          "To": STORE_NUMBER, "Body": body, "NumMedia": "0", "ApiVersion": "2010-04-01"}
                url = f"https://{HOST}/webhooks/twilio/sms"
                headers = {"Content-Type": "application/x-www-form-urlencoded",
                           "X-Twilio-Signature": validator.compute_signature(url, params)}
                started = time.perf_counter()
                resp = chalice_client.http.request("POST", "/webhooks/twilio/sms", headers=headers,
                                                   body=urlencode(params))
                elapsed = time.perf_counter() - started
                assert resp.status_code == 200, resp.body
                return elapsed

            def run_consumers() -> None:
                """Every queue message the app produced, through its consumer, until all are quiet."""
                for _ in range(20):
                    busy = False
                    for queue, function in (("inbound", "conversations_inbound"), ("outbox", "conversations_outbox"),
                                            ("timers", None)):
                        url = harness_sqs.get_queue_url(QueueName=get_settings().queue_name(queue))["QueueUrl"]
                        got = harness_sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                                          AttributeNames=["All"]).get("Messages", [])
                        if not got or function is None:
                            continue
                        busy = True
                        arn = harness_sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
                        event = {"Records": [lambda_sqs_record(m, arn["Attributes"]["QueueArn"], "us-east-1")
                                             for m in got]}
                        counter.hook()
                        chalice_client.lambda_.invoke(function, event)
                        for m in got:
                            harness_sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                    pump.drain()
                    if not busy:
                        return

            def measured(label: str, action: Any) -> Counter[str]:
                counter.hook()
                counter.take()
                action()
                counter.hook()
                run_consumers()
                calls = counter.take()
                print(f"{label:<58} {sum(calls.values()):>3} calls  {dict(sorted(calls.items()))}")
                return calls

            # Warm up: imports, lazily built clients, queue URLs, the language detector.
            post_sms("+13125559000", "Hello, is the Civic still available?", "SMwarm0")
            run_consumers()
            post_sms("+13125559000", "Thanks, see you soon", "SMwarm1")
            run_consumers()
            clock.advance(seconds=1)

            print("AWS calls per inbound SMS (webhook + every queue and stream consumer it triggers)")
            measured("new contact: lead created (intake + routing), message", lambda: post_sms(
                "+13125551000", "Hi, do you have any 2024 Accords in stock?", "SMnew0000"))
            clock.advance(seconds=1)
            steady = measured("reply on an open lead, language known (steady state)", lambda: post_sms(
                "+13125551000", "Great, can I come at 5?", "SMreply000"))
            clock.advance(seconds=1)
            measured("repeated MessageSid (Twilio retry)", lambda: post_sms(
                "+13125551000", "Great, can I come at 5?", "SMreply000"))
            clock.advance(seconds=1)
            from chalicelib.domain.leads import NewLead
            from chalicelib.services.intake import receive_lead

            receive_lead(deps, deps.accounts.require(account["account_id"]),
                         NewLead(first_name="Ann", phone="+13125551002", source="Website", channel="web"))
            run_consumers()
            clock.advance(seconds=1)
            measured("first SMS on a web lead (language set from the stream)", lambda: post_sms(
                "+13125551002", "Hola, quiero una cita para el sábado", "SMweb0000"))
            clock.advance(seconds=1)
            measured("STOP", lambda: post_sms("+13125551000", "STOP", "SMstop0000"))
            clock.advance(seconds=1)
            measured("HELP (answered in TwiML)", lambda: post_sms("+13125551000", "HELP", "SMhelp0000"))

            # Latency of the steady-state path.
            post_sms("+13125551001", "Hello there, one question about financing", "SMlat0000")
            run_consumers()
            timings = []
            for i in range(args.messages):
                clock.advance(seconds=1)
                timings.append(post_sms("+13125551001", f"Message number {i}", f"SMlat{i + 1:05d}"))
            timings.sort()
            p50 = statistics.median(timings) * 1000
            p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))] * 1000
            print(f"\nwebhook latency in-process (moto), {args.messages} SMS on an open lead: "
                  f"p50 {p50:.1f} ms, p99 {p99:.1f} ms")
            print(json.dumps({"steady_state_calls": sum(steady.values()), "p50_ms": round(p50, 1),
                              "p99_ms": round(p99, 1)}))
            print(f"BENCH inbound_sms_calls_steady_state: {sum(steady.values())} calls")
            print(f"BENCH inbound_sms_p50_ms: {p50:.1f} ms")
            print(f"BENCH inbound_sms_p99_ms: {p99:.1f} ms")
        set_deps(None)


if __name__ == "__main__":
    main()
