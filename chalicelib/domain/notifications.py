"""Staff notifications: offers, assignments, mentions, coalesced leads."""

from __future__ import annotations

from typing import Literal

from chalicelib.model import BaseModel

NotificationKind = Literal["offer", "assignment", "mention", "coalesced", "escalation", "delinquent", "stale"]


class Notification(BaseModel):
    notification_id: str
    user_id: str
    kind: NotificationKind
    text: str
    at: str
    lead_id: str | None = None
    account_id: str | None = None
    read: bool = False
