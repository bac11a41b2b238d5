"""SMS sender pointers (keys.py, "SMS sender pointers"): which lead a customer's number last wrote to
on a store's SMS number, and that lead's owner — so the SMS webhook reads the lead, its store and its
owner together. A hint: the webhook checks it (domain/inbound.verified). It is written inside the
lead's own transaction by the changes that make it wrong otherwise: a message recorded on the lead
(services/inbound.attach), a new lead with a phone (intake), a new owner (routing's transitions)."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.deps import Deps
from chalicelib.domain.accounts import Account
from chalicelib.domain.changes import Write
from chalicelib.domain.inbound import SenderHint
from chalicelib.domain.leads import Lead

# A pointer nobody rewrote for this long goes (DynamoDB's TTL); the next message writes it again.
POINTER_DAYS = 365


def pointer_write(deps: Deps, number: str, sender: str, hint: SenderHint) -> Write:
    ttl = int((deps.clock.now() + timedelta(days=POINTER_DAYS)).timestamp())
    return deps.leads.point_sender(number, sender, hint, ttl)


def owner_pointer(deps: Deps, lead: Lead, owner: str | None, store: Account | None) -> list[Write]:
    """The pointer of the lead's phone on its store's number once `owner` holds the lead (None: nobody),
    when the caller has the store's record (without it the webhook reads the owner itself: one read more)."""
    if store is None or store.account_id != lead.account_id or not store.sms_number or not lead.phone:
        return []
    return [pointer_write(deps, store.sms_number, lead.phone, SenderHint(lead.account_id, lead.lead_id, owner))]
