"""Create the table, queues and bucket from infra/resources.json — the same definitions
the deployed template uses — on whatever endpoint boto3 points at (moto in-process,
moto server, LocalStack). Names come from Settings; shapes come from the file."""

from __future__ import annotations

import contextlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from chalicelib.adapters.aws import client
from chalicelib.config import Settings

INFRA = Path(__file__).resolve().parent.parent / "infra" / "resources.json"


@lru_cache(maxsize=1)
def resources() -> dict[str, Any]:
    return dict(json.loads(INFRA.read_text())["Resources"])


def table_definition() -> dict[str, Any]:
    return dict(resources()["Table"]["Properties"])


def queue_definitions() -> dict[str, dict[str, Any]]:
    """queue key -> {"attributes": ..., "dead_letter": bool, "consumer_timeout_seconds": int}"""
    found = {}
    for logical_id, res in resources().items():
        if res["Type"] != "AWS::SQS::Queue":
            continue
        meta = res["Metadata"]["Leadline"]
        found[logical_id] = {"queue": meta["queue"], "dead_letter": bool(meta.get("dead_letter")),
                             "properties": res["Properties"],
                             "consumer_timeout_seconds": meta.get("consumer_timeout_seconds")}
    return found


def create_table(settings: Settings) -> None:
    ddb = client("dynamodb")
    props = table_definition()
    stream = {"StreamEnabled": True, **props["StreamSpecification"]}
    try:
        ddb.create_table(
            TableName=settings.table_name, BillingMode=props["BillingMode"],
            AttributeDefinitions=props["AttributeDefinitions"], KeySchema=props["KeySchema"],
            GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"], StreamSpecification=stream,
        )
    except ddb.exceptions.ResourceInUseException:
        # A table made before the report rollups had no stream: turn it on.
        if not ddb.describe_table(TableName=settings.table_name)["Table"].get("StreamSpecification"):
            ddb.update_table(TableName=settings.table_name, StreamSpecification=stream)
        return
    ttl = props["TimeToLiveSpecification"]
    ddb.update_time_to_live(TableName=settings.table_name, TimeToLiveSpecification=ttl)


def create_queues(settings: Settings, visibility_override: int | None = None,
                  max_receives_override: int | None = None) -> dict[str, str]:
    """Create every queue and its DLQ; returns queue key -> URL (DLQs as '<key>-dlq').
    The overrides are the local stack's (short visibility, and receives enough to retry as long)."""
    sqs = client("sqs")
    urls: dict[str, str] = {}
    defs = queue_definitions()
    for d in sorted(defs.values(), key=lambda d: not d["dead_letter"]):  # DLQs first
        name = settings.queue_name(d["queue"]) + ("-dlq" if d["dead_letter"] else "")
        attributes: dict[str, str] = {}
        props = d["properties"]
        if "MessageRetentionPeriod" in props:
            attributes["MessageRetentionPeriod"] = str(props["MessageRetentionPeriod"])
        if "VisibilityTimeout" in props:
            attributes["VisibilityTimeout"] = str(visibility_override or props["VisibilityTimeout"])
        if "RedrivePolicy" in props:
            dlq_url = urls[f"{d['queue']}-dlq"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            receives = max_receives_override or props["RedrivePolicy"]["maxReceiveCount"]
            attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(receives)})
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        urls[d["queue"] + ("-dlq" if d["dead_letter"] else "")] = url
    return urls


def create_bucket(settings: Settings) -> None:
    """The reports and media buckets (the media bucket with its CORS rules, so a browser may upload)."""
    s3 = client("s3")
    for bucket in (settings.reports_bucket, settings.media_bucket):
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
            s3.create_bucket(Bucket=bucket)
    s3.put_bucket_cors(Bucket=settings.media_bucket, CORSConfiguration=media_cors())


def media_cors() -> dict[str, Any]:
    """The media bucket's CORS rules of infra/resources.json, in the S3 API's names (not CloudFormation's)."""
    rules = resources()["MediaBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    return {"CORSRules": [{"AllowedMethods": r["AllowedMethods"], "AllowedOrigins": r["AllowedOrigins"],
                           "AllowedHeaders": r.get("AllowedHeaders", []), "MaxAgeSeconds": r.get("MaxAge", 0)}
                          for r in rules]}


def provision(settings: Settings, visibility_override: int | None = None,
              max_receives_override: int | None = None) -> dict[str, str]:
    create_table(settings)
    create_bucket(settings)
    return create_queues(settings, visibility_override, max_receives_override)


def provision_local(settings: Settings, visibility_override: int | None = None,
                    max_receives_override: int | None = None) -> dict[str, str]:
    """`provision` plus what only an emulator needs (a verified mail sender)."""
    urls = provision(settings, visibility_override, max_receives_override)
    verify_mail_identity(settings)
    return urls


def verify_mail_identity(settings: Settings) -> None:
    """Local only: moto refuses mail from an unverified sender, as SES's sandbox does."""
    client("ses").verify_email_identity(EmailAddress=settings.mail_from)
