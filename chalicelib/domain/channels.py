"""Which channel a message to a lead goes by, and to which address. Pure.

The contract's default: the lead's own channel, else SMS, Messenger, email (`channel: auto` of a
cadence step picks the same way). A lead that unsubscribed from email is not reachable by email,
and opting out of messages closes every channel (a call is not a message: services/calls.py)."""

from __future__ import annotations

from typing import Literal

from chalicelib.domain.accounts import Account
from chalicelib.domain.errors import Conflict
from chalicelib.domain.leads import Lead

Channel = Literal["sms", "messenger", "email"]
ORDER: tuple[Channel, ...] = ("sms", "messenger", "email")


def address(lead: Lead, channel: str) -> str | None:
    """The customer's address on a channel, when the lead can get messages there."""
    if channel == "sms":
        return lead.phone
    if channel == "messenger":
        return lead.messenger_psid
    if channel == "email":
        return lead.email if not lead.email_opted_out else None
    return None


def reachable_channels(lead: Lead) -> list[Channel]:
    """Every channel the lead can receive on, in the order a message picks them."""
    own = lead.channel if lead.channel in ORDER else None
    ordered = [c for c in (own, *ORDER) if c is not None]
    return [c for c in dict.fromkeys(ordered) if address(lead, c)]


def store_address(account: Account, channel: str) -> str | None:
    """Where the store writes from (email: None means the stage's sender; services/email_out)."""
    return {"sms": account.sms_number, "messenger": account.messenger_page_id, "email": account.email_from}.get(channel)


def choose_channel(lead: Lead, account: Account, requested: str | None = None) -> tuple[Channel, str, str | None]:
    """(channel, the customer's address, the store's) for a message; 409 when there is none."""
    if requested is not None:
        to = address(lead, requested)
        if to is None:
            if requested == "email" and lead.email and lead.email_opted_out:
                raise Conflict("the customer unsubscribed from email", code="opted_out")
            what = {"sms": "phone number", "messenger": "Messenger conversation", "email": "email address"}
            raise Conflict(f"the lead has no {what.get(requested, requested)} to write to", code="no_contact")
        return requested, to, store_address(account, requested)  # type: ignore[return-value]
    for channel in reachable_channels(lead):
        return channel, str(address(lead, channel)), store_address(account, channel)
    if lead.email and lead.email_opted_out:
        raise Conflict("the customer unsubscribed from email and has no other way to be written to",
                       code="opted_out")
    raise Conflict("the lead has no phone number, Messenger id or email address to write to", code="no_contact")
