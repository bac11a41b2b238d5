"""What is true after a load run, read from the emulator itself: moto server's port, not the counting proxy
(the reads are the check's, not the product's), and not moto's objects in the harness's process.

- `Emulator(moto_url)`: every stored item (a paged Scan of every table), every queue's depth
  (ApproximateNumberOfMessages / NotVisible / Delayed), which queues are dead-letter queues (named in
  another queue's RedrivePolicy), the due index's entries overdue by more than a sweep, and up to
  PEEK_LIMIT of the messages a queue still holds (`peek`, for when the stack has stopped: it hides what
  it reads). Depths come from GetQueueAttributes, so the check takes seconds however much is queued;
  a message not read (past the bound, in flight, delayed) is counted, not looked into.
- `settle(...)`: waits, with a bound, until the work queues hold nothing visible or in flight and no
  due-index timer is overdue (a delayed message is a timer not yet due: counted, not waited for).
- `classify(...)`: a pure function; a customer's request answered 2xx is STORED (a lead for its
  contact), QUEUED (its number is in a message a work queue still holds, or in flight there),
  DEAD (its number is in a dead-letter message) or LOST (none of these). Queues are counted
  generically: the check does not know which queue carries what."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

DUE_KINDS = ("OFFER", "MESSAGE", "OPENING", "CADENCE", "DEADLINE", "REVIVAL")
DEPTHS = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
SWEEP_GRACE = timedelta(seconds=90)  # the sweeps run every minute: overdue means missed by one
# Messages read from each queue after the run: 100 receives, about a second on the local stack's SQS.
PEEK_LIMIT = 1000


@dataclass(frozen=True)
class Queue:
    name: str
    url: str
    dead_letter: bool
    depth: int  # visible + in flight: work to do now
    delayed: int = 0  # a timer not yet due (SQS DelaySeconds): not waited for, not readable


@dataclass
class Verdict:
    stored: list[Any] = field(default_factory=list)
    queued: list[Any] = field(default_factory=list)
    dead: list[Any] = field(default_factory=list)
    lost: list[Any] = field(default_factory=list)


def classify(requests: Iterable[Any], contact: Callable[[Any], tuple[str, str]],
             stored_contacts: set[tuple[str, str]], queued_bodies: list[str], dead_bodies: list[str],
             unread_queued: int) -> Verdict:
    """Each accepted request by where its lead is. A request not stored is found by its phone number
    (digits, so a form-encoded `%2B1...` matches) in the bodies of the messages read; `unread_queued`
    messages (in flight or delayed, so not readable) each stand for at most one more queued request."""
    verdict = Verdict()
    unread = unread_queued
    dead, queued = "\n".join(dead_bodies), "\n".join(queued_bodies)  # one search per request, not one per body
    for request in requests:
        account_id, phone = contact(request)
        digits = phone.lstrip("+")
        if (account_id, phone) in stored_contacts:
            verdict.stored.append(request)
        elif digits in dead:
            verdict.dead.append(request)
        elif digits in queued:
            verdict.queued.append(request)
        elif unread > 0:
            unread -= 1
            verdict.queued.append(request)
        else:
            verdict.lost.append(request)
    return verdict


class Emulator:
    def __init__(self, moto_url: str) -> None:
        import boto3

        options: dict[str, Any] = {"endpoint_url": moto_url, "region_name": "us-east-1",
                                   "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        self.dynamodb = boto3.client("dynamodb", **options)
        self.sqs = boto3.client("sqs", **options)
        from boto3.dynamodb.types import TypeDeserializer

        self._plain = TypeDeserializer().deserialize

    def items(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for table in self.dynamodb.list_tables()["TableNames"]:
            for page in self.dynamodb.get_paginator("scan").paginate(TableName=table):
                found += [{k: self._plain(v) for k, v in item.items()} for item in page["Items"]]
        return found

    def queues(self) -> list[Queue]:
        urls = self.sqs.list_queues(MaxResults=1000).get("QueueUrls", [])
        attributes = {url: self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
                      for url in urls}
        dead_arns = {json.loads(a["RedrivePolicy"])["deadLetterTargetArn"]
                     for a in attributes.values() if a.get("RedrivePolicy")}
        return [Queue(name=url.rsplit("/", 1)[1], url=url, dead_letter=a["QueueArn"] in dead_arns,
                      depth=sum(int(a.get(d, 0)) for d in DEPTHS),
                      delayed=int(a.get("ApproximateNumberOfMessagesDelayed", 0))) for url, a in attributes.items()]

    def overdue(self, now: datetime) -> dict[str, int]:
        """Due-index entries (keys.py pattern 24) due before now minus a sweep's grace, by kind."""
        from chalicelib.adapters.dynamodb import keys
        from chalicelib.clock import iso

        name, pk, sk = keys.gsi(7)
        cutoff = iso(now - SWEEP_GRACE)
        counts: dict[str, int] = {}
        for table in self.dynamodb.list_tables()["TableNames"]:
            for kind in DUE_KINDS:
                for shard in range(keys.DUE_SHARDS):
                    reply = self.dynamodb.query(
                        TableName=table, IndexName=name, Select="COUNT",
                        KeyConditionExpression="#pk = :pk AND #sk <= :cutoff",
                        ExpressionAttributeNames={"#pk": pk, "#sk": sk},
                        ExpressionAttributeValues={":pk": {"S": keys.due_pk(kind, shard)}, ":cutoff": {"S": cutoff}})
                    counts[kind] = counts.get(kind, 0) + int(reply["Count"])
        return {kind: n for kind, n in counts.items() if n}

    def peek(self, queue: Queue, limit: int = PEEK_LIMIT) -> list[str]:
        """The bodies of up to `limit` messages `queue` holds that can be received now. Hides each for
        15 minutes: only once nothing else consumes the queue."""
        bodies: dict[str, str] = {}
        while len(bodies) < limit:
            got = self.sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=min(10, limit - len(bodies)),
                                           VisibilityTimeout=900, WaitTimeSeconds=0).get("Messages", [])
            if not got:
                break
            bodies.update((m["MessageId"], m["Body"]) for m in got)
        return list(bodies.values())


def settle(emulator: Emulator, bound: float, say: Callable[[str], None],
           clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
           every: float = 10.0) -> tuple[float, bool]:
    """Wait until the work queues are empty and nothing is overdue, at most `bound` seconds, saying
    how it goes; (seconds waited, drained?)."""
    started = clock()
    while True:
        queues = emulator.queues()
        queued = {q.name: q.depth for q in queues if not q.dead_letter and q.depth}
        overdue = emulator.overdue(datetime.now(UTC))
        waited = clock() - started
        if not queued and not overdue:
            return waited, True
        delayed = sum(q.delayed for q in queues)
        say(f"  settling {waited:.0f} s: queued {sum(queued.values())} {queued or ''}, overdue {overdue or 0}, "
            f"timers not yet due {delayed}")
        if waited >= bound:
            return waited, False
        sleep(every)
