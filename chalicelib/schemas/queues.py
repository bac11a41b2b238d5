"""What crosses the queues: one pydantic model per message kind, and per queue the union of its
kinds. The consumers' batch processor parses each SQS record's body into its queue's union
(handlers/queues.py); a record whose body is none of them fails alone (it goes back to the queue,
then to the DLQ).

Producers build these models and send `model_dump(mode="json", exclude_none=True)`, so the
wire shape is the one the consumers always read."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from chalicelib.domain.inbound import InboundMessage
from chalicelib.model import BaseModel

# -- timers: decided by the clock; each carries the version it was set for --------------------


class TimerBase(BaseModel):
    due_at: str | None = None  # ISO time; an earlier arrival goes back on the queue for the rest


class OfferExpiry(TimerBase):
    kind: Literal["offer_expiry"] = "offer_expiry"
    offer_id: str
    routing_version: int | None = None


class Opening(TimerBase):
    """A lead that waits for its store to open."""

    kind: Literal["opening"] = "opening"
    lead_id: str
    routing_version: int | None = None


class RouteLead(TimerBase):
    """Routing of a new lead that failed in the request: try again."""

    kind: Literal["route"] = "route"
    lead_id: str


class CadenceStep(TimerBase):
    """A lead's cadence step, for the enrolment `version` it was set for (domain/enrolment.py)."""

    kind: Literal["cadence_step"] = "cadence_step"
    lead_id: str
    version: int
    step: int


class ResponseDeadline(TimerBase):
    """A lead's response deadline (domain/targets.py): its warning, then the deadline itself. Decided by
    the lead as it is when the timer comes: a deadline answered, replaced or decided since (another
    `response_version`) makes it a no-op."""

    kind: Literal["response_deadline"] = "response_deadline"
    lead_id: str
    response_version: int
    step: Literal["warning", "deadline"]


class OfferAgain(TimerBase):
    """Offer a store's delinquent leads again, oldest first: an agent of the store became available,
    or the store opened (`opens_at`: the opening whose marker this answers). `after` resumes a long
    list where the previous message stopped."""

    kind: Literal["offer_again"] = "offer_again"
    account_id: str
    reason: Literal["agent_available", "store_opened"]
    opens_at: str | None = None
    after: str | None = None


Timer = Annotated[OfferExpiry | Opening | RouteLead | CadenceStep | ResponseDeadline | OfferAgain,
                  Field(discriminator="kind")]


# -- the outbox: customer messages to send, staff notifications to deliver --------------------

class SendMessage(BaseModel):
    kind: Literal["message"] = "message"
    message_id: str


class DeliverNotification(BaseModel):
    """A staff notification by email or SMS (in-app ones are written at once). `forward_email` is an
    email to the user's personal forwarding address (delivered once per notification and channel)."""

    kind: Literal["notification"] = "notification"
    channel: Literal["email", "sms", "forward_email"]
    to: str
    text: str
    subject: str | None = None
    html: str | None = None
    notification_id: str | None = None
    account_id: str | None = None


OutboxJob = Annotated[SendMessage | DeliverNotification, Field(discriminator="kind")]


# -- the inbound queue: the slow half of a customer's message -----------------------------------

class MediaItem(BaseModel):
    attachment_id: str
    url: str
    content_type: str | None = None


class CopyMedia(BaseModel):
    """A customer's MMS pictures or Messenger attachments to copy into the media bucket."""

    kind: Literal["media"] = "media"
    account_id: str
    lead_id: str
    message_id: str
    items: list[MediaItem]


class NewContact(BaseModel):
    """A message from a sender no lead of the store knows, queued by a release before 2026-11-27 (the
    webhook makes the lead now): the consumer makes it the same way (services/new_contact.py)."""

    kind: Literal["new_lead"] = "new_lead"
    account_id: str
    message: InboundMessage


InboundJob = Annotated[NewContact | CopyMedia, Field(discriminator="kind")]


# -- deployed inbound email: SES's receipt notification (its S3 action's SNS topic, raw delivery) --------------

class SesVerdict(BaseModel):
    status: str = "GRAY"


class SesS3Action(BaseModel):
    type: Literal["S3"]
    bucketName: str
    objectKey: str


class SesReceipt(BaseModel):
    recipients: list[str]
    action: SesS3Action
    spamVerdict: SesVerdict = Field(default_factory=SesVerdict)
    virusVerdict: SesVerdict = Field(default_factory=SesVerdict)


class SesMail(BaseModel):
    messageId: str


class SesMailReceived(BaseModel):
    """What SES publishes when its receipt rule stored a mail in the media bucket."""

    notificationType: Literal["Received"]
    mail: SesMail
    receipt: SesReceipt


# What the inbound queue carries: our jobs (by `kind`), and SES's notifications of received mail.
InboundBody = InboundJob | SesMailReceived
