"""`leadline console publish --stack NAME`: put the built console (console/dist) into a deployed
stage's console bucket, with the config.json that tells it where the API and Cognito's hosted UI
are, and have CloudFront drop its cached copies of the entry files.

Hashed assets go first and are cached for good; index.html and config.json go last and are
revalidated on every load, so a browser never gets an index that names assets not yet uploaded."""

from __future__ import annotations

import json
import mimetypes
import uuid
from pathlib import Path
from typing import Any

from leadline.deployed import DeployedStack, DeployedStackError

CONSOLE_DIST = Path(__file__).resolve().parent.parent / "console" / "dist"
OUTPUTS = ("ConsoleBucketName", "ConsoleDistributionId", "ApiBaseUrl", "CognitoHostedUiUrl", "UserPoolClientId")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
ENTRY_FILES = ("index.html", "config.json")


def console_config(outputs: dict[str, str]) -> dict[str, Any]:
    return {"apiBaseUrl": outputs["ApiBaseUrl"].rstrip("/"),
            "cognito": {"domain": outputs["CognitoHostedUiUrl"].rstrip("/"), "clientId": outputs["UserPoolClientId"]}}


def _content_type(path: Path) -> str:
    guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") or guessed in (
        "application/javascript", "application/json", "image/svg+xml") else guessed


def publish_console(stack: DeployedStack, s3: Any, cloudfront: Any, dist: Path = CONSOLE_DIST) -> list[str]:
    """Upload `dist` and config.json; returns the keys written, entry files last."""
    missing = [key for key in OUTPUTS if not stack.outputs.get(key)]
    if missing:
        raise DeployedStackError(f"stack {stack.name!r} has no output {', '.join(missing)}: deploy a template "
                                 "packaged with the console (leadline package) first")
    if not (dist / "index.html").is_file():
        raise DeployedStackError(f"{dist} holds no built console: run `make console` first")
    if not stack.outputs["CognitoHostedUiUrl"].startswith("https://"):
        raise DeployedStackError("the stack has no Cognito hosted UI domain: with your own user pool, set the "
                                 "CognitoHostedUiDomain parameter (https://<prefix>.auth.<region>.amazoncognito.com)")
    bucket = stack.outputs["ConsoleBucketName"]
    files = sorted((p for p in dist.rglob("*") if p.is_file()), key=lambda p: p.name in ENTRY_FILES)
    written = []
    for path in files:
        key = path.relative_to(dist).as_posix()
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=_content_type(path),
                      CacheControl=IMMUTABLE if key.startswith("assets/") else REVALIDATE)
        written.append(key)
    s3.put_object(Bucket=bucket, Key="config.json", Body=json.dumps(console_config(stack.outputs)).encode(),
                  ContentType="application/json; charset=utf-8", CacheControl=REVALIDATE)
    written.append("config.json")
    entries = ["/", *(f"/{name}" for name in ENTRY_FILES)]
    cloudfront.create_invalidation(DistributionId=stack.outputs["ConsoleDistributionId"], InvalidationBatch={
        "Paths": {"Quantity": len(entries), "Items": entries}, "CallerReference": f"leadline-{uuid.uuid4().hex}"})
    return written
