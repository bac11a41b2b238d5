"""Staff notifications: the alerts a person gets about a lead (domain/alerts.py builds their words)."""

from __future__ import annotations

from typing import Literal

from chalicelib.model import BaseModel

# offer: a lead is offered to you · assigned: a lead is yours · customer_replied: your lead's customer
# wrote (or sent another request) · target_warning: your response deadline is near · target_missed: a
# deadline was missed (managers) · reoffered: a lead was taken from you after a miss · mention: a note
# names you · delinquent: nobody took a lead (managers).
NotificationKind = Literal["offer", "assigned", "customer_replied", "target_warning", "target_missed", "mention",
                           "reoffered", "delinquent"]


class Notification(BaseModel):
    notification_id: str
    user_id: str
    kind: NotificationKind
    title: str
    body: str = ""
    # The one-line form (the title): what lists show.
    text: str
    at: str
    lead_id: str | None = None
    account_id: str | None = None
    read: bool = False
