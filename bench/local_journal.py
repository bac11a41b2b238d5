"""What the local stack's crash-safe journal costs: per AWS call, per lead, and at start.

1. Per call: moto's server in this process twice over — one journaling (as `leadline local`
   runs it), one not — each with a table of --items items (3,500: the size the lost-writes
   report had). Calls alternate between the two so machine load hits both alike; prints the
   median and p95 of each, and the difference.
2. At start: the journal of that table replayed, folded into a snapshot and loaded back.
3. Per lead: `leadline local --no-demo` in a child process (journaling, as tests/e2e runs it),
   leads created through the API: the median POST latency and how many journal lines (fsyncs)
   one lead costs.

    python bench/local_journal.py [--items 3500] [--rounds 200] [--leads 20]"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
import requests  # noqa: E402

from leadline.local.emulator import LocalMotoServer  # noqa: E402
from leadline.local.persistence import Persistence  # noqa: E402
from tests.e2e.conftest import StackProcess, free_port, routed_store  # noqa: E402

REGION = "us-east-1"


def clients(endpoint: str) -> tuple[Any, Any, Any]:
    def make(service: str) -> Any:
        return boto3.client(service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="local",
                            aws_secret_access_key="local")

    return make("dynamodb"), make("sqs"), make("s3")


def provision(ddb: Any, sqs: Any, s3: Any, name: str, items: int) -> tuple[str, str]:
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"},
                                {"AttributeName": "SK", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                                           {"AttributeName": "SK", "AttributeType": "S"}])
    for start in range(0, items, 25):
        ddb.batch_write_item(RequestItems={name: [
            {"PutRequest": {"Item": {"PK": {"S": f"LEAD#{i}"}, "SK": {"S": "META"}, "pad": {"S": "x" * 600}}}}
            for i in range(start, min(items, start + 25))]})
    s3.create_bucket(Bucket=name)
    return sqs.create_queue(QueueName=name)["QueueUrl"], name


def per_call(items: int, rounds: int, data: Path) -> dict[str, float]:
    persistence = Persistence(data, REGION)
    persistence.recover()
    journaled = LocalMotoServer("127.0.0.1", free_port(), persistence=persistence)
    plain = LocalMotoServer("127.0.0.1", free_port())
    journaled.start()
    plain.start()
    persistence.open()
    sides = {}
    for label, server in (("journal", journaled), ("plain", plain)):
        ddb, sqs, s3 = clients(f"http://127.0.0.1:{server._port}")
        queue, name = provision(ddb, sqs, s3, f"bench-{label}", items)
        sides[label] = (ddb, sqs, s3, queue, name)

    def calls(ddb: Any, sqs: Any, s3: Any, queue: str, name: str, i: int) -> dict[str, Callable[[], Any]]:
        key = {"PK": {"S": f"LEAD#{i % items}"}, "SK": {"S": "META"}}
        return {
            "GetItem (read: not journaled)": lambda: ddb.get_item(TableName=name, Key=key),
            "PutItem": lambda: ddb.put_item(TableName=name, Item={**key, "n": {"N": str(i)}, "pad": {"S": "x" * 600}}),
            "UpdateItem": lambda: ddb.update_item(TableName=name, Key=key, UpdateExpression="ADD n :one",
                                                  ExpressionAttributeValues={":one": {"N": "1"}}),
            "TransactWriteItems (3 puts)": lambda: ddb.transact_write_items(TransactItems=[
                {"Put": {"TableName": name, "Item": {"PK": {"S": f"TX#{i}"}, "SK": {"S": str(j)}}}}
                for j in range(3)]),
            "SendMessage (60 s delay)": lambda: sqs.send_message(QueueUrl=queue, MessageBody="t" * 200,
                                                                 DelaySeconds=60),
            "PutObject (10 KB)": lambda: s3.put_object(Bucket=name, Key=f"r/{i % 20}.csv", Body=b"x" * 10_000),
        }

    timings: dict[tuple[str, str], list[float]] = {}
    for i in range(rounds):
        for label in (("journal", "plain") if i % 2 else ("plain", "journal")):
            # The SQS hooks patch moto's classes, so they would journal the plain server's queue too.
            if label == "journal":
                persistence.sqs.install()
            else:
                persistence.sqs.uninstall()
            for call_name, call in calls(*sides[label], i).items():
                began = time.perf_counter()
                call()
                timings.setdefault((call_name, label), []).append((time.perf_counter() - began) * 1000)
    print(f"per call, {rounds} each, table of {items} items (ms: median / p95)")
    overheads = {}
    for call_name in calls(*sides["plain"], 0):
        with_journal, without = timings[(call_name, "journal")], timings[(call_name, "plain")]
        extra = statistics.median(with_journal) - statistics.median(without)
        overheads[call_name] = extra
        print(f"  {call_name:34s} journal {statistics.median(with_journal):6.2f} / {p95(with_journal):6.2f}"
              f"   plain {statistics.median(without):6.2f} / {p95(without):6.2f}   +{extra:.2f}")
    print(f"  journal lines written: {persistence.journal.commits}")
    persistence.journal.close()  # what a crash leaves: nothing folded
    persistence.sqs.uninstall()
    requests.post(f"http://127.0.0.1:{journaled._port}/moto-api/reset", timeout=30)  # moto's memory is gone too
    journaled.stop()
    plain.stop()
    return overheads


def p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95) - 1]


def at_start(data: Path) -> tuple[float, float]:
    """Replay the journal the per-call part left (no fold at its end, as after a crash) and load it."""
    began = time.perf_counter()
    persistence = Persistence(data, REGION)
    state = persistence.recover()
    recovered = time.perf_counter() - began
    server = LocalMotoServer("127.0.0.1", free_port(), persistence=persistence)
    server.start()
    ddb, _, s3 = clients(f"http://127.0.0.1:{server._port}")
    for table in state.tables:
        name = table.split("/", 1)[1]
        ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"},
                                    {"AttributeName": "SK", "KeyType": "RANGE"}],
                         AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                                               {"AttributeName": "SK", "AttributeType": "S"}])
    began = time.perf_counter()
    persistence.load_stores(s3)
    loaded = time.perf_counter() - began
    print(f"at start: {state.counts()} recovered (replay + snapshot) in {recovered:.2f} s, loaded in {loaded:.2f} s")
    server.stop()
    return recovered, loaded


def per_lead(leads: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="leadline-bench-journal-") as tmp:
        stack = StackProcess(home=Path(tmp), port=free_port(), aws_port=free_port())
        try:
            stack.start()
            store = routed_store(stack, "bench-journal.com", 600)
            time.sleep(2)  # let the set-up's queue work finish before counting lines
            lines_before = journal_lines(stack.home)
            durations = []
            for i in range(leads):
                began = time.perf_counter()
                made = store.http("POST", f"/accounts/{store.account_id}/leads", {
                    "first_name": f"B{i}", "email": f"b{i}@mail.com", "source": "Web", "channel": "web"})
                durations.append((time.perf_counter() - began) * 1000)
                if made.status_code != 201:
                    raise RuntimeError(made.text)
            time.sleep(2)  # the routing and inbound work the leads set off
            per = (journal_lines(stack.home) - lines_before) / leads
        finally:
            stack.stop()
    median = statistics.median(durations)
    print(f"per lead (POST /accounts/{{id}}/leads, {leads} leads, round robin over 2 agents): "
          f"median {median:.0f} ms, {per:.1f} journal lines (fsyncs) each")
    return median, per


def journal_lines(home: Path) -> int:
    return sum(len(p.read_bytes().splitlines()) for p in (home / "data" / "journal").glob("*.log"))


def fsync_ms(directory: Path, count: int = 200) -> float:
    path = directory / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    took = []
    try:
        for _ in range(count):
            began = time.perf_counter()
            os.write(fd, b"x" * 600 + b"\n")
            os.fsync(fd)
            took.append((time.perf_counter() - began) * 1000)
    finally:
        os.close(fd)
        path.unlink()
    return statistics.median(took)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=3500)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--leads", type=int, default=20)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every call
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="leadline-bench-journal-") as tmp:
        data = Path(tmp)
        fsync = fsync_ms(data)
        print(f"fsync of a 600-byte append on this disk: median {fsync:.2f} ms")
        overheads = per_call(args.items, args.rounds, data)
        recovered, loaded = at_start(data)
    lead_ms, lines = per_lead(args.leads)
    print(f"BENCH journal_fsync: {fsync:.2f} ms")
    print(f"BENCH journal_put_item_overhead: {overheads['PutItem']:.2f} ms")
    print(f"BENCH journal_transact_write_overhead: {overheads['TransactWriteItems (3 puts)']:.2f} ms")
    print(f"BENCH journal_send_message_overhead: {overheads['SendMessage (60 s delay)']:.2f} ms")
    print(f"BENCH journal_lines_per_lead: {lines:.1f} lines")
    print(f"BENCH journal_lead_create: {lead_ms:.0f} ms")
    print(f"BENCH journal_restart_{args.items}_items: {recovered + loaded:.2f} s")


if __name__ == "__main__":
    main()
