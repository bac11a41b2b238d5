"""ReceiveMessage + DeleteMessageBatch and GetQueueAttributes on a queue holding N messages, on moto's own
SQS and on the local stack's (leadline/local/moto_fast_sqs_receive.py).

moto's own walks every message of the queue on each receive, each delete and each count; with
28,000 queued the full-size load test's consumers got 10 messages every 10-30 s. In-process moto
(mock_aws) through a boto3 client, as the tests run it; the queue is filled straight through moto's
queue model (no HTTP), half of it visible and half delayed 15 min, and each round receives 10 (visibility
60 s), deletes them in one batch, then reads the counts (medians of --rounds; one round of moto's own
from 5,000 queued on, which takes about a second a round per 1,000 messages).

    .venv/bin/python bench/sqs_receive.py [--sizes 100,10000,50000] [--rounds 5]"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import _support

_support.use_moto_environment()

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402
from moto.sqs.models import Message, sqs_backends  # noqa: E402

from leadline.local import moto_fast  # noqa: E402

REGION = "us-east-1"


def measure(size: int, rounds: int, patched: bool) -> tuple[float, float]:
    """(median ms of a receive of 10 + its batch delete, median ms of GetQueueAttributes All)."""
    moto_fast.uninstall()
    if patched and not moto_fast.install():
        raise SystemExit("moto_fast does not take this moto: nothing to compare")
    try:
        with mock_aws():
            sqs = boto3.client("sqs", region_name=REGION)
            url = sqs.create_queue(QueueName="backlog")["QueueUrl"]
            queue = sqs_backends["123456789012"][REGION].queues["backlog"]
            for n in range(size):  # as SendMessage does, without its per-send cost (moto_fast_sqs.py)
                message = Message(f"id{n}", f"m{n}")
                message.mark_sent(delay_seconds=900 if n % 2 else 0)
                queue.add_message(message)
            receives, counts = [], []
            for _ in range(rounds):
                started = time.perf_counter()
                got: list[dict[str, Any]] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                                                VisibilityTimeout=60).get("Messages", [])
                if got:
                    sqs.delete_message_batch(QueueUrl=url, Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
                receives.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
                counts.append((time.perf_counter() - started) * 1000)
            return statistics.median(receives), statistics.median(counts)
    finally:
        moto_fast.uninstall()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,10000,50000")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"{'queued':>8}  {'receive 10 + delete, moto':>26}  {'patched':>9}  {'counts, moto':>13}  {'patched':>9}")
    for size in (int(s) for s in args.sizes.split(",")):
        # moto's own takes about a second a round per 1,000 queued: one round from 5,000 on.
        own_receive, own_counts = measure(size, args.rounds if size < 5000 else 1, patched=False)
        fast_receive, fast_counts = measure(size, args.rounds, patched=True)
        print(f"{size:>8}  {own_receive:>23.1f} ms  {fast_receive:>6.1f} ms  {own_counts:>10.1f} ms  "
              f"{fast_counts:>6.1f} ms", flush=True)
        print(f"BENCH sqs_receive_delete_at_{size}_moto: {own_receive:.1f} ms")
        print(f"BENCH sqs_receive_delete_at_{size}: {fast_receive:.1f} ms")


if __name__ == "__main__":
    main()
