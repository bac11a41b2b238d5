from __future__ import annotations

from chalicelib.model import BaseModel


class NotificationResponse(BaseModel):
    notification_id: str
    kind: str
    text: str
    at: str
    lead_id: str | None = None
    account_id: str | None = None
    read: bool


class NotificationPage(BaseModel):
    items: list[NotificationResponse]
    next_cursor: str | None = None
