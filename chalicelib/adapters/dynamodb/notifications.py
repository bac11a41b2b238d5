"""In-app notifications of a user, newest first. Keys: keys.py (pattern 25)."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.table import ConditionFailed, Table, Write, entity_fields
from chalicelib.domain import changes
from chalicelib.domain.errors import NotFound, ValidationFailed
from chalicelib.domain.notifications import Notification
from chalicelib.domain.paging import decode_cursor, encode_cursor

# Kinds written before the follow-through alerts, read under their present names.
_RENAMED_KINDS = {"assignment": "assigned", "coalesced": "customer_replied", "stale": "customer_replied",
                  "escalation": "mention"}


def _notification(item: dict[str, Any]) -> Notification:
    data = entity_fields(item)
    data["kind"] = _RENAMED_KINDS.get(data.get("kind", ""), data.get("kind"))
    data.setdefault("title", data.get("text", ""))
    return Notification.model_validate(data)


def _item(notification: Notification, ttl: int) -> dict[str, Any]:
    return {**keys.notification_key(notification.user_id, notification.notification_id), "type": "notification",
            **notification.model_dump(mode="json", exclude_none=True), "ttl": ttl}


class NotificationRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def add(self, notification: Notification, ttl: int) -> None:
        self.table.put(_item(notification, ttl))

    def added(self, notification: Notification, ttl: int) -> changes.Write:
        """`add` as a write of the caller's transaction (the notification lands with what it tells of)."""
        return Write({"Put": {"Item": _item(notification, ttl)}})

    def page(self, user_id: str, limit: int, cursor: str | None,
             unread_only: bool = False) -> tuple[list[Notification], str | None]:
        start = decode_cursor(cursor) if cursor else None
        if start is not None and not (isinstance(start, dict) and str(start.get("SK", "")).startswith("NOTIFICATION#")):
            # DynamoDB refuses a start key outside the key condition (a 500 if it got that far).
            raise ValidationFailed.field("cursor", "is not a cursor of this list")
        items, last = self.table.query_page(
            f"USER#{user_id}", sk_condition="begins_with(#sk, :n)", sk_values={":n": "NOTIFICATION#"},
            ascending=False, limit=limit, start_key=start,
            filter_expression="#read = :false" if unread_only else None,
            names={"#read": "read"} if unread_only else None, values={":false": False} if unread_only else None)
        return [_notification(i) for i in items], (encode_cursor(last) if last else None)

    def delivered(self, notification_id: str, channel: str) -> bool:
        key = keys.dedup_key("notification", f"{notification_id}#{channel}")
        return self.table.get(key, consistent=True) is not None

    def mark_delivered(self, notification_id: str, channel: str, ttl: int) -> None:
        self.table.put({**keys.dedup_key("notification", f"{notification_id}#{channel}"), "type": "dedup", "ttl": ttl})

    def mark_read(self, user_id: str, notification_id: str) -> Notification:
        try:
            item = self.table.update(keys.notification_key(user_id, notification_id), "SET #read = :true",
                                     condition="attribute_exists(PK)", names={"#read": "read"},
                                     values={":true": True})
        except ConditionFailed as exc:
            raise NotFound("notification not found") from exc
        return _notification(item)
