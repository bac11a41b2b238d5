"""The S3 half of the journal: after a call that changes an object, the object as it now is.

The object is read back through moto (a GET in this process) and its body stored once by
digest (state.BlobStore) before the journal line that names it is committed. Kept: bodies,
the headers a GET returns for them (type, encoding, disposition, language, cache control,
server-side encryption) and user metadata. Not kept: tags, ACLs, versions, bucket settings
(the stack's bucket is made again from infra/resources.json at each start)."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import parse_qs, quote
from xml.etree.ElementTree import ParseError

from defusedxml import ElementTree
from moto.s3.responses import S3Response
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from leadline.local.journal import Effect, Journal, JournalUnavailable
from leadline.local.state import BlobStore
from leadline.local.wsgi import Answer, WsgiApp, call, request_region

KEPT_HEADERS = ("Content-Type", "Content-Encoding", "Content-Disposition", "Content-Language", "Cache-Control",
                "x-amz-server-side-encryption")
METADATA_PREFIX = "x-amz-meta-"
# Query parameters that do not make a call about something other than the object itself.
SIGNING_PARAMETERS = frozenset({"x-id", "versionId", "AWSAccessKeyId", "Signature", "Expires"})


def s3_error(status: str, code: str, message: str) -> Answer:
    body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>").encode()
    return status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))], body


def subresources(environ: dict[str, Any]) -> set[str]:
    query = parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
    return {name for name in query if name not in SIGNING_PARAMETERS and not name.startswith("X-Amz-")}


def bucket_and_key(environ: dict[str, Any]) -> tuple[str, str]:
    """As moto reads them: path style on an IP or localhost, virtual-hosted style otherwise."""
    path = str(environ.get("PATH_INFO", "")).encode("latin-1").decode("utf-8")
    if S3Response.subdomain_based_buckets(Request(environ)):
        return str(environ.get("HTTP_HOST", "")).split(".", 1)[0], path.lstrip("/")
    bucket, _, key = path.lstrip("/").partition("/")
    return bucket, key


def posted_key(content_type: str, body: bytes) -> str | None:
    """The object key of a POST Object form (multipart/form-data): its `key` field, with
    `${filename}` replaced by the file's name as S3 does; None when the form has no key."""
    from email import policy
    from email.parser import BytesParser

    if not content_type.lower().startswith("multipart/form-data"):
        return None
    form = BytesParser(policy=policy.HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    key: str | None = None
    filename = ""
    for part in form.iter_parts() if form.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str) and name.lower() == "key":
            payload = part.get_payload(decode=True)
            key = payload.decode("utf-8") if isinstance(payload, bytes) else None
        elif name == "file":
            filename = part.get_filename() or ""
    return key.replace("${filename}", filename) if key else None


def deleted_keys(body: bytes) -> list[str]:
    """The keys of a DeleteObjects request body."""
    root = ElementTree.fromstring(body)
    return [element.text or "" for element in root.iter() if element.tag.rsplit("}", 1)[-1] == "Key"]


class S3Capture:
    def __init__(self, dispatcher: WsgiApp, blobs: BlobStore) -> None:
        self.dispatcher = dispatcher
        self.blobs = blobs

    def handle(self, environ: dict[str, Any], journal: Journal) -> Answer:
        """A PUT, POST or DELETE: run it, then commit what it changed."""
        method = str(environ["REQUEST_METHOD"])
        bucket, key = bucket_and_key(environ)
        extra = subresources(environ)
        keys: list[str] = []
        bucket_exists: bool | None = None
        if key and (not extra or (method == "POST" and extra == {"uploadId"})):
            keys = [key]  # put, copy, delete, or a multipart upload completed
        elif not key and not extra and method in ("PUT", "DELETE"):
            bucket_exists = method == "PUT"
        elif not key and method == "POST" and extra == {"delete"}:
            raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ = {**environ, "wsgi.input": io.BytesIO(raw), "CONTENT_LENGTH": str(len(raw))}
            try:
                keys = deleted_keys(raw)
            except (ParseError, ValueError):
                return call(self.dispatcher, environ)  # moto answers the malformed call itself
        elif not key and method == "POST" and not extra:
            # A browser form upload (POST Object, a presigned POST): its key is a field of the form.
            raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ = {**environ, "wsgi.input": io.BytesIO(raw), "CONTENT_LENGTH": str(len(raw))}
            form_key = posted_key(str(environ.get("CONTENT_TYPE", "")), raw)
            if form_key is None:
                return call(self.dispatcher, environ)  # moto answers the malformed form itself
            keys = [form_key]
        else:
            return call(self.dispatcher, environ)  # parts, tags, ACLs, bucket settings: not kept
        try:
            journal.check()
        except JournalUnavailable as exc:
            return s3_error("503 Service Unavailable", "ServiceUnavailable", str(exc))
        status, headers, body = call(self.dispatcher, environ)
        if status[:1] != "2":
            return status, headers, body
        effects: list[Effect] = []
        if bucket_exists is not None:
            effects.append({"kind": "bucket", "bucket": bucket, "exists": bucket_exists})
        region = request_region(environ)
        try:
            for name in keys:
                effects.append({"kind": "object", "bucket": bucket, "key": name,
                                "object": self._read_back(region, bucket, name)})
            journal.commit(effects)
        except JournalUnavailable as exc:
            return s3_error("503 Service Unavailable", "ServiceUnavailable", str(exc))
        except Exception as exc:  # the change happened but cannot be kept: no later write may be acknowledged
            journal.fail(f"the local stack could not record an S3 {method}: {exc}")
            raise
        return status, headers, body

    def _read_back(self, region: str, bucket: str, key: str) -> dict[str, Any] | None:
        # Our own GET, signed for S3 in the caller's region (moto routes on the credential scope;
        # it does not check signatures), path style so any bucket name works.
        auth = f"AWS4-HMAC-SHA256 Credential=local/20000101/{region}/s3/aws4_request, SignedHeaders=host, Signature=0"
        environ = EnvironBuilder(method="GET", path="/" + quote(f"{bucket}/{key}"),
                                 headers=[("Authorization", auth), ("Host", "localhost")]).get_environ()
        status, headers, body = call(self.dispatcher, environ)
        if status.startswith("404"):
            return None
        if not status.startswith("200"):
            raise RuntimeError(f"the journal's read of s3://{bucket}/{key} failed: {status}")
        by_name = {name.lower(): value for name, value in headers}
        return {
            "blob": self.blobs.put(body), "size": len(body),
            "headers": {name: by_name[name.lower()] for name in KEPT_HEADERS if name.lower() in by_name},
            "metadata": {name[len(METADATA_PREFIX):]: value for name, value in by_name.items()
                         if name.startswith(METADATA_PREFIX)},
        }
