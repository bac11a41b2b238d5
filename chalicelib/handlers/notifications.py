"""The caller's notifications: /me/notifications."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.adapters.dynamodb.notifications import NotificationRepository
from chalicelib.handlers.http import Call, api
from chalicelib.schemas.notifications import NotificationPage, NotificationResponse

bp = Blueprint(__name__)


@api(bp, "/me/notifications", "GET", response=NotificationPage, query={"unread": "true: unread only"},
     summary="The caller's notifications, newest first")
def list_notifications(call: Call) -> Any:
    limit, cursor = call.paging()
    items, next_cursor = NotificationRepository(call.deps.table).page(
        call.principal.user_id, limit, cursor, unread_only=call.query.get("unread") == "true")
    return {"items": [NotificationResponse.model_validate(n.model_dump()) for n in items], "next_cursor": next_cursor}


@api(bp, "/me/notifications/{notification_id}/read", "POST", response=NotificationResponse,
     summary="Mark a notification read")
def read_notification(call: Call, notification_id: str) -> Any:
    note = NotificationRepository(call.deps.table).mark_read(call.principal.user_id, notification_id)
    return NotificationResponse.model_validate(note.model_dump())
