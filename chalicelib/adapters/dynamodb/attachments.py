"""Uploads of pictures and files (keys.py: ATTACHMENT#), and the attachments shown on a message's
timeline event once a customer's file is copied into the media bucket.

An upload is `pending` (with a one-day TTL: an abandoned upload disappears, as its object does
from the bucket's `uploads/`) until the first message that sends it checks the object and moves it
into `media/`; it is then `ready` with the type its bytes showed, and kept."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.table import ConditionFailed, Table, Write, entity_fields
from chalicelib.domain.errors import AlreadyDecided, Conflict, LostRace
from chalicelib.domain.media import Upload


class AttachmentRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def add(self, upload: Upload, ttl: int) -> None:
        item = {**keys.attachment_key(upload.attachment_id), "type": "attachment", "ttl": ttl,
                **upload.model_dump(mode="json")}
        try:
            self.table.put(item, condition="attribute_not_exists(PK)")
        except ConditionFailed as exc:
            raise Conflict("that attachment exists already", code="already_exists") from exc

    def get(self, attachment_id: str) -> Upload | None:
        item = self.table.get(keys.attachment_key(attachment_id), consistent=True)
        return Upload.model_validate(entity_fields(item)) if item else None

    def mark_ready(self, upload: Upload, content_type: str) -> Write:
        """Checked and in media/: kept for good, with its real type. AlreadyDecided when it was ready already."""
        return Write({"Update": {
            "Key": keys.attachment_key(upload.attachment_id),
            "UpdateExpression": "SET #state = :ready, content_type = :ct REMOVE #ttl",
            "ConditionExpression": "#state = :pending",
            "ExpressionAttributeNames": {"#state": "state", "#ttl": "ttl"},
            "ExpressionAttributeValues": {":ready": "ready", ":pending": "pending", ":ct": content_type},
        }}, AlreadyDecided)

    def show_on_message(self, lead_id: str, message_id: str, attachments: list[dict[str, Any]]) -> Write:
        """The message's `attachments` once the customer's files are in the media bucket."""
        return Write({"Update": {
            "Key": keys.timeline_event_key(lead_id, message_id),
            "UpdateExpression": "SET #d.#a = :a",
            "ConditionExpression": "attribute_exists(PK)",
            "ExpressionAttributeNames": {"#d": "data", "#a": "attachments"},
            "ExpressionAttributeValues": {":a": attachments},
        }}, LostRace)
