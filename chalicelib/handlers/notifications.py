"""The caller's notifications: /me/notifications."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.handlers.http import Call, api
from chalicelib.lazy import lazy_module
from chalicelib.schemas.notifications import NotificationPage, NotificationResponse

if TYPE_CHECKING:
    from chalicelib.services import notifications as service
else:
    service = lazy_module("chalicelib.services.notifications")

bp = Blueprint(__name__)


@api(bp, "/me/notifications", "GET", response=NotificationPage, query={"unread": "true: unread only"},
     summary="The caller's notifications, newest first")
def list_notifications(call: Call) -> Any:
    limit, cursor = call.paging()
    items, next_cursor = service.my_notifications(call.deps, call.principal, limit, cursor,
                                                  unread_only=call.query.get("unread") == "true")
    return {"items": [NotificationResponse.model_validate(n.model_dump()) for n in items], "next_cursor": next_cursor}


@api(bp, "/me/notifications/{notification_id}/read", "POST", response=NotificationResponse,
     summary="Mark a notification read")
def read_notification(call: Call, notification_id: str) -> Any:
    note = service.mark_read(call.deps, call.principal, notification_id)
    return NotificationResponse.model_validate(note.model_dump())
