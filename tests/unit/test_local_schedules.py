"""Schedule expressions of the local mappings, and Lambda's reading of a partial batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadline.local.mappings import failed_message_ids, lambda_sqs_record
from leadline.local.schedules import parse_schedule

START = datetime(2026, 11, 2, 15, 0, 20, tzinfo=UTC)  # a Monday


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fires(expression: str, after: datetime = START, n: int = 3) -> list[datetime]:
    schedule = parse_schedule(expression, START)
    found = []
    for _ in range(n):
        after = schedule.next_fire(after)
        found.append(after)
    return found


def test_rates_count_from_the_start_and_skip_nothing() -> None:
    assert fires("rate(1 minute)") == [START + timedelta(minutes=i) for i in (1, 2, 3)]
    assert fires("rate(2 hours)", n=1) == [START + timedelta(hours=2)]
    schedule = parse_schedule("rate(5 minutes)", START)
    assert schedule.next_fire(START + timedelta(minutes=12)) == START + timedelta(minutes=15)


@pytest.mark.parametrize(("expression", "expected"), [
    ("cron(0/15 * * * ? *)", ["2026-11-02T15:15", "2026-11-02T15:30", "2026-11-02T15:45"]),
    ("cron(0 2 * * ? *)", ["2026-11-03T02:00", "2026-11-04T02:00", "2026-11-05T02:00"]),
    ("cron(30 9 ? * MON-FRI *)", ["2026-11-03T09:30", "2026-11-04T09:30", "2026-11-05T09:30"]),
    ("cron(0 8 ? * SAT,SUN *)", ["2026-11-07T08:00", "2026-11-08T08:00", "2026-11-14T08:00"]),
    ("cron(0 0 L * ? *)", ["2026-11-30T00:00", "2026-12-31T00:00", "2027-01-31T00:00"]),
    ("cron(0 12 ? * 2#1 *)", ["2026-12-07T12:00", "2027-01-04T12:00", "2027-02-01T12:00"]),
    ("cron(0 12 ? * 6L *)", ["2026-11-27T12:00", "2026-12-25T12:00", "2027-01-29T12:00"]),
    ("cron(0 9 1W * ? *)", ["2026-12-01T09:00", "2027-01-01T09:00", "2027-02-01T09:00"]),
    ("cron(0 9 15W * ? *)", ["2026-11-16T09:00", "2026-12-15T09:00", "2027-01-15T09:00"]),
    ("cron(5 10 1 JAN ? 2027-2028)", ["2027-01-01T10:05", "2028-01-01T10:05"]),
])
def test_cron_expressions_fire_in_utc_as_on_aws(expression: str, expected: list[str]) -> None:
    assert fires(expression, n=len(expected)) == [at(e) for e in expected]


def test_a_cron_that_ends_stops() -> None:
    schedule = parse_schedule("cron(0 0 1 1 ? 2027)", START)
    assert schedule.next_fire(START) == at("2027-01-01T00:00")
    with pytest.raises(ValueError, match="never fires"):
        schedule.next_fire(at("2027-01-01T00:00"))


@pytest.mark.parametrize("bad", ["rate(0 minutes)", "rate(1 fortnight)", "cron(* * * * *)",
                                 "cron(0 0 * * * *)", "cron(61 * * * ? *)", "cron(0 0 ? * FUNDAY *)", "every day"])
def test_bad_expressions_are_refused_at_start(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_schedule(bad, START)


def test_partial_batch_responses_are_read_as_lambda_reads_them() -> None:
    ids = ["m1", "m2", "m3"]
    assert failed_message_ids(None, ids) == set()
    assert failed_message_ids({"batchItemFailures": []}, ids) == set()
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "m2"}]}, ids) == {"m2"}
    # An identifier Lambda cannot match fails the whole batch.
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "zz"}]}, ids) == set(ids)
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": ""}]}, ids) == set(ids)
    assert failed_message_ids({"batchItemFailures": [{}]}, ids) == set(ids)


def test_sqs_records_have_lambdas_shape() -> None:
    record = lambda_sqs_record({
        "MessageId": "m1", "ReceiptHandle": "rh", "Body": "{}", "MD5OfBody": "x",
        "Attributes": {"ApproximateReceiveCount": "3", "SentTimestamp": "1"},
        "MessageAttributes": {"kind": {"StringValue": "timer", "DataType": "String"}},
    }, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1")
    assert record["messageId"] == "m1" and record["receiptHandle"] == "rh" and record["eventSource"] == "aws:sqs"
    assert record["attributes"]["ApproximateReceiveCount"] == "3"
    assert record["messageAttributes"]["kind"]["stringValue"] == "timer"
    assert record["messageAttributes"]["kind"]["dataType"] == "String"
