from __future__ import annotations

from pydantic import Field

from chalicelib.model import BaseModel


class NotificationResponse(BaseModel):
    notification_id: str
    kind: str = Field(description="offer, assigned, customer_replied, target_warning, target_missed, mention, "
                                  "reoffered, delinquent")
    title: str = Field(description="what happened, in one line")
    body: str = Field(default="", description="the lead's details: customer, vehicle, source, message, time left, link")
    text: str = Field(description="the one-line form (the title)")
    at: str
    lead_id: str | None = None
    account_id: str | None = None
    read: bool


class NotificationPage(BaseModel):
    items: list[NotificationResponse]
    next_cursor: str | None = None
