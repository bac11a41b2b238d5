"""What Lambda hands a function, built for the local event-source mappings: the context object
and the event shapes of SQS batches, scheduled events and EventBridge deliveries, plus Lambda's
reading of a ReportBatchItemFailures answer."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

ACCOUNT_ID = "123456789012"


class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    def __init__(self, function_name: str, timeout_seconds: int, region: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def lambda_sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """A received SQS message in the shape Lambda gives an SQS-triggered function."""
    attributes = {k: str(v) for k, v in message.get("Attributes", {}).items()}
    message_attributes = {}
    for name, value in message.get("MessageAttributes", {}).items():
        message_attributes[name] = {
            "stringValue": value.get("StringValue"), "binaryValue": value.get("BinaryValue"),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []), "dataType": value.get("DataType"),
        }
    return {
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": attributes, "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody", ""), "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def failed_message_ids(result: Any, batch_ids: list[str]) -> set[str]:
    """Lambda's reading of a ReportBatchItemFailures response: a missing or empty list is
    success; an identifier that is empty or not in the batch fails the whole batch."""
    if not isinstance(result, dict) or not result.get("batchItemFailures"):
        return set()
    failures = result["batchItemFailures"]
    ids = {f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures}
    if not isinstance(failures, list) or None in ids or "" in ids or not ids <= set(batch_ids):
        return set(batch_ids)
    return {str(i) for i in ids}


def scheduled_event(rule_name: str, at: datetime, region: str) -> dict[str, Any]:
    return {
        "version": "0", "id": str(uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
        "account": ACCOUNT_ID, "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{rule_name}"], "detail": {},
    }


def eventbridge_envelope(delivered: dict[str, Any], region: str) -> dict[str, Any]:
    """The event as EventBridge hands it to a function; emulators leave out some fields (moto:
    `account`), which chalice's CloudWatchEvent requires."""
    envelope = {"version": "0", "id": str(uuid4()), "account": ACCOUNT_ID, "region": region, "resources": [],
                "detail": {}, "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    envelope.update(delivered)
    return envelope
