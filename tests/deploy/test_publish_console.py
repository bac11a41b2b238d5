"""`leadline console publish`: the built console and its config.json into the stage's bucket (moto)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from leadline.deployed import DeployedStack, DeployedStackError
from leadline.publish_console import publish_console

OUTPUTS = {"ConsoleBucketName": "leadline-console-test",
           "ApiBaseUrl": "https://abc.execute-api.us-east-1.amazonaws.com/api/",
           "CognitoHostedUiUrl": "https://leadline-prod-1.auth.us-east-1.amazoncognito.com",
           "UserPoolClientId": "client123"}


@pytest.fixture
def aws_clients() -> Iterator[tuple[Any, Any, str]]:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        cloudfront = boto3.client("cloudfront", region_name="us-east-1")
        s3.create_bucket(Bucket=OUTPUTS["ConsoleBucketName"])
        distribution = cloudfront.create_distribution(DistributionConfig={
            "CallerReference": "t", "Comment": "", "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "b.s3.amazonaws.com",
                                                  "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "https-only",
                                     "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}})
        yield s3, cloudfront, distribution["Distribution"]["Id"]


def stack(distribution_id: str, **changes: str) -> DeployedStack:
    return DeployedStack(name="leadline-prod", region="us-east-1", table_name="t", user_pool_id="p",
                         app_client_id="client123", outputs={**OUTPUTS, "ConsoleDistributionId": distribution_id,
                                                             **changes})


def built(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "index-abc.js").write_text("console.log(1)")
    (tmp_path / "index.html").write_text("<!doctype html>")
    return tmp_path


def test_uploads_assets_first_then_the_entry_files_and_invalidates(aws_clients: Any, tmp_path: Path) -> None:
    s3, cloudfront, distribution_id = aws_clients
    keys = publish_console(stack(distribution_id), s3, cloudfront, built(tmp_path))
    assert keys == ["assets/index-abc.js", "index.html", "config.json"]
    bucket = OUTPUTS["ConsoleBucketName"]
    asset = s3.get_object(Bucket=bucket, Key="assets/index-abc.js")
    assert "immutable" in asset["CacheControl"] and asset["ContentType"].startswith("text/javascript")
    assert s3.get_object(Bucket=bucket, Key="index.html")["CacheControl"] == "no-cache"
    config = json.loads(s3.get_object(Bucket=bucket, Key="config.json")["Body"].read())
    assert config == {"apiBaseUrl": "https://abc.execute-api.us-east-1.amazonaws.com/api",
                      "cognito": {"domain": OUTPUTS["CognitoHostedUiUrl"], "clientId": "client123"}}
    assert cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"]["Quantity"] == 1


def test_refuses_a_stack_without_the_console_or_hosted_ui(aws_clients: Any, tmp_path: Path) -> None:
    s3, cloudfront, distribution_id = aws_clients
    dist = built(tmp_path)
    with pytest.raises(DeployedStackError, match="ConsoleBucketName"):
        publish_console(stack(distribution_id, ConsoleBucketName=""), s3, cloudfront, dist)
    with pytest.raises(DeployedStackError, match="CognitoHostedUiDomain"):
        publish_console(stack(distribution_id, CognitoHostedUiUrl="none"), s3, cloudfront, dist)
    with pytest.raises(DeployedStackError, match="make console"):
        publish_console(stack(distribution_id), s3, cloudfront, tmp_path / "empty")
