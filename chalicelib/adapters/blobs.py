"""S3 for report files."""

from __future__ import annotations

from chalicelib.adapters.aws import client
from chalicelib.config import get_settings
from chalicelib.ports import StoredFile

PRESIGN_SECONDS = 900


class ReportStore:
    def __init__(self, bucket: str | None = None) -> None:
        self.bucket = bucket or get_settings().reports_bucket

    def put(self, key: str, body: bytes, content_type: str) -> None:
        client("s3").put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type,
                                ServerSideEncryption="AES256")

    def get(self, key: str) -> bytes:
        return bytes(client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def list(self, prefix: str) -> list[StoredFile]:
        found: list[StoredFile] = []
        token = None
        while True:
            kwargs = {"Bucket": self.bucket, "Prefix": prefix}
            if token:
                kwargs["ContinuationToken"] = token
            resp = client("s3").list_objects_v2(**kwargs)
            found.extend(StoredFile(o["Key"], int(o["Size"])) for o in resp.get("Contents", []))
            token = resp.get("NextContinuationToken")
            if not token:
                return found

    def presigned_url(self, key: str, expires_in: int = PRESIGN_SECONDS) -> str:
        return str(client("s3").generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=min(expires_in, PRESIGN_SECONDS)))
