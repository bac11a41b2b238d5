"""In-memory fakes of the channels' ports (calls, the dialer, uploads, reply tokens, the media bucket
and the provider media fetcher), over tests/fakes.py's FakeState so a
transaction that mixes them with the other fakes stays all-or-nothing. FakeDeps wires them in."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import changes
from chalicelib.domain.calls import CallRequest
from chalicelib.domain.errors import AlreadyDecided, Conflict, LostRace, VersionConflict
from chalicelib.domain.media import Upload
from chalicelib.domain.messaging import SendFailed
from tests.fakes import FakeState, FakeWrite


class FakeCallStore:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    def update(self, lead_id: str, call_id: str, fields: dict[str, Any], version: int) -> changes.Write:
        def check() -> bool:
            event = self.state.events.get(lead_id, {}).get(call_id)
            return event is not None and event.data.get("version") == version

        def apply() -> None:
            event = self.state.events[lead_id][call_id]
            self.state.events[lead_id][call_id] = event.model_copy(
                update={"data": {**event.data, **fields, "version": version + 1}})

        return FakeWrite(check, apply, VersionConflict)


class FakeDialer:
    """Records every call placed; `fail_with` makes the next ones fail."""

    def __init__(self) -> None:
        self.placed: list[CallRequest] = []
        self.fail_with: SendFailed | None = None

    def place(self, request: CallRequest) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        self.placed.append(request)
        return f"CA{len(self.placed):032d}"


class FakeAttachmentStore:
    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.uploads: dict[str, Upload] = {}

    def add(self, upload: Upload, ttl: int) -> None:
        if upload.attachment_id in self.uploads:
            raise Conflict("that attachment exists already", code="already_exists")
        self.uploads[upload.attachment_id] = upload

    def get(self, attachment_id: str) -> Upload | None:
        return self.uploads.get(attachment_id)

    def mark_ready(self, upload: Upload, content_type: str) -> changes.Write:
        def check() -> bool:
            current = self.uploads.get(upload.attachment_id)
            return current is not None and current.state == "pending"

        def apply() -> None:
            self.uploads[upload.attachment_id] = self.uploads[upload.attachment_id].model_copy(
                update={"state": "ready", "content_type": content_type})

        return FakeWrite(check, apply, AlreadyDecided)

    def show_on_message(self, lead_id: str, message_id: str, attachments: list[dict[str, Any]]) -> changes.Write:
        def apply() -> None:
            event = self.state.events[lead_id][message_id]
            self.state.events[lead_id][message_id] = event.model_copy(
                update={"data": {**event.data, "attachments": attachments}})

        return FakeWrite(lambda: message_id in self.state.events.get(lead_id, {}), apply, LostRace)


class FakeMailboxStore:
    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.tokens: dict[str, tuple[str, str]] = {}

    def claim_token(self, token: str, lead_id: str, account_id: str) -> changes.Write:
        def apply() -> None:
            self.tokens[token] = (lead_id, account_id)

        return FakeWrite(lambda: token not in self.tokens, apply, LostRace)

    def token_owner(self, token: str) -> tuple[str, str] | None:
        return self.tokens.get(token)


class FakeMediaStore:
    """Objects by key: (bytes, content type). `uploaded` puts what a browser's presigned POST would."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.presigned: list[tuple[str, str, int]] = []

    def presign_upload(self, key: str, content_type: str, max_bytes: int,
                       expires_in: int) -> tuple[str, dict[str, str]]:
        self.presigned.append((key, content_type, max_bytes))
        return "https://media.invalid/", {"key": key, "Content-Type": content_type}

    def uploaded(self, key: str, body: bytes, content_type: str) -> None:
        self.objects[key] = (body, content_type)

    def head(self, key: str) -> int | None:
        return len(self.objects[key][0]) if key in self.objects else None

    def read_start(self, key: str, length: int) -> bytes:
        return self.objects[key][0][:length]

    def get(self, key: str) -> bytes:
        return self.objects[key][0]

    def put(self, key: str, body: bytes, content_type: str, filename: str | None = None) -> None:
        self.objects[key] = (body, content_type)

    def copy(self, source_key: str, key: str, content_type: str, filename: str | None = None) -> None:
        self.objects[key] = (self.objects[source_key][0], content_type)

    def url(self, key: str, expires_in: int) -> str:
        return f"https://media.invalid/{key}?expires_in={expires_in}"


class FakeMediaFetcher:
    """Serves `files` by URL; anything else is a permanent refusal, like a host we do not fetch from."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str | None]] = {}
        self.fetched: list[str] = []

    def fetch(self, url: str, max_bytes: int) -> tuple[bytes, str | None]:
        from chalicelib.adapters.media_fetch import MediaTooLarge

        self.fetched.append(url)
        if url not in self.files:
            raise SendFailed(f"media fetch: HTTP 404 for {url}", permanent=True)
        body, declared = self.files[url]
        if len(body) > max_bytes:
            raise MediaTooLarge(url)
        return body, declared
