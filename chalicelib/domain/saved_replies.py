"""A store's saved replies: message templates with smart fields."""

from __future__ import annotations

from chalicelib.model import BaseModel


class SavedReply(BaseModel):
    saved_reply_id: str
    account_id: str
    group_id: str
    title: str
    body: str
    created_by: str | None = None
    created_at: str
    updated_at: str
