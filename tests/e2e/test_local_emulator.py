"""The local stack's moto server: it must not keep every object moto ever made."""

from __future__ import annotations

import boto3
from moto import mock_aws
from moto.dynamodb.models.dynamo_type import Item
from moto.s3.models import FakeKey

from leadline.local.emulator import forget_tracked_instances


def test_moto_bookkeeping_is_dropped_but_the_data_stays() -> None:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}])
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="leadline-test-bucket")
        s3.put_object(Bucket="leadline-test-bucket", Key="k", Body=b"kept")
        for i in range(20):
            ddb.put_item(TableName="t", Item={"PK": {"S": f"item{i}"}})
        for _ in range(5):
            ddb.scan(TableName="t")  # every read makes more Item objects moto would remember
        assert len(Item.instances_tracked) > 20  # type: ignore[attr-defined]

        assert forget_tracked_instances() > 20

        assert len(Item.instances_tracked) == 0  # type: ignore[attr-defined]
        assert FakeKey.instances_tracked  # type: ignore[attr-defined]  # S3's reset still closes its buffers
        assert len(ddb.scan(TableName="t")["Items"]) == 20
        assert s3.get_object(Bucket="leadline-test-bucket", Key="k")["Body"].read() == b"kept"
