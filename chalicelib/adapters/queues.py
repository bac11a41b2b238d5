"""SQS: the queues of config.QUEUE_NAMES, each with a DLQ (infra/resources.json)."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters.aws import client
from chalicelib.config import get_settings

MAX_DELAY_SECONDS = 900


class QueuePublisher:
    """Puts JSON messages on a named queue; delays above SQS's 15 minutes are the caller's to re-enqueue."""

    def __init__(self) -> None:
        self._urls: dict[str, str] = {}

    def url(self, queue: str) -> str:
        found = self._urls.get(queue)
        if found is None:
            found = client("sqs").get_queue_url(QueueName=get_settings().queue_name(queue))["QueueUrl"]
            self._urls[queue] = found
        return found

    def send(self, queue: str, body: dict[str, Any], delay_seconds: int = 0) -> None:
        client("sqs").send_message(
            QueueUrl=self.url(queue), MessageBody=json.dumps(body, separators=(",", ":")),
            DelaySeconds=max(0, min(MAX_DELAY_SECONDS, int(delay_seconds))),
        )

    def send_batch(self, queue: str, bodies: list[dict[str, Any]]) -> None:
        for start in range(0, len(bodies), 10):
            chunk = bodies[start:start + 10]
            client("sqs").send_message_batch(QueueUrl=self.url(queue), Entries=[
                {"Id": str(i), "MessageBody": json.dumps(b, separators=(",", ":"))} for i, b in enumerate(chunk)
            ])
