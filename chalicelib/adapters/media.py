"""The media bucket (S3): pictures and files of conversations. The MediaStore port (ports.py).

Clients upload straight to `uploads/` with a presigned POST whose policy fixes the key, the
declared type and the size range (S3 refuses anything else); a checked upload is copied into
`media/` with the type its bytes showed. Files are read through presigned GETs: short ones for
the console, an hour for Twilio and Meta to fetch what we send. The bucket (infra/resources.json)
is encrypted, blocks public access, and forgets `uploads/` after a day."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.aws import client
from chalicelib.domain.media import INLINE_TYPES


class S3MediaStore:
    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def presign_upload(self, key: str, content_type: str, max_bytes: int,
                       expires_in: int) -> tuple[str, dict[str, str]]:
        post = client("s3").generate_presigned_post(
            Bucket=self.bucket, Key=key, Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_in)
        return str(post["url"]), {str(k): str(v) for k, v in post["fields"].items()}

    def head(self, key: str) -> int | None:
        """The stored object's size, or None when there is none."""
        s3 = client("s3")
        try:
            return int(s3.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def read_start(self, key: str, length: int) -> bytes:
        body = client("s3").get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{length - 1}")["Body"]
        return bytes(body.read())

    def get(self, key: str) -> bytes:
        return bytes(client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def put(self, key: str, body: bytes, content_type: str, filename: str | None = None) -> None:
        client("s3").put_object(Bucket=self.bucket, Key=key, Body=body, **_headers(content_type, filename))

    def copy(self, source_key: str, key: str, content_type: str, filename: str | None = None) -> None:
        client("s3").copy_object(Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": source_key},
                                 MetadataDirective="REPLACE", **_headers(content_type, filename))

    def url(self, key: str, expires_in: int) -> str:
        return str(client("s3").generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in))


def _headers(content_type: str, filename: str | None) -> dict[str, Any]:
    """Pictures show inline; anything else a customer sent downloads (never rendered from our bucket)."""
    disposition = "inline" if content_type in INLINE_TYPES else "attachment"
    if filename:
        safe = filename.encode("ascii", "ignore").decode().replace('"', "")
        disposition += f'; filename="{safe}"'
    return {"ContentType": content_type, "ContentDisposition": disposition, "ServerSideEncryption": "AES256"}
