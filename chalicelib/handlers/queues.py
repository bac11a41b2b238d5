"""Every queue consumer's batch processing, written once: Powertools' BatchProcessor parses each SQS
record into its queue's record model (the body into the queue's message union, schemas/queues.py),
hands the parsed record to the consumer's record handler, and reports the failed message ids
(partial batch responses). A record that does not parse, or whose handler raises, fails alone:
SQS delivers it again after the visibility timeout, then moves it to the queue's DLQ."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from chalicelib.schemas.queues import InboundBody, OutboxJob, Timer
from chalicelib.schemas.reports import NightlyJob


class TimerRecord(SqsRecordModel):
    body: Json[Timer]


class OutboxRecord(SqsRecordModel):
    body: Json[OutboxJob]


class InboundRecord(SqsRecordModel):
    body: Json[InboundBody]


class NightlyRecord(SqsRecordModel):
    body: Json[NightlyJob]


def consume(event: Any, record_model: type[SqsRecordModel], handle: Callable[[Any], None]) -> Any:
    """Process one SQS batch (a chalice SQSEvent): `handle(record)` gets each record parsed into
    `record_model`. One processor per invocation: it keeps this batch's successes and failures."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.SQS, model=record_model)
    return process_partial_response(event=event.to_dict(), record_handler=handle, processor=processor,
                                    context=event.context)
