"""What providers' ids point at: a sent message's provider id (delivery callbacks), and the
dedup keys that make a repeated webhook, inbound message or ADF delivery land once.
Keys: keys.py (patterns 19, 21)."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.table import Table, Write, entity_fields
from chalicelib.domain.errors import DuplicateDelivery
from chalicelib.domain.outbox import ProviderMessage

_UNRECORDED = "attribute_not_exists(lead_id)"


class DeliveryRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    # -- provider message ids ------------------------------------------------------------

    def record_provider_id(self, provider: str, sid: str, lead_id: str, message_id: str, *,
                           account_id: str | None = None, provider_account: str | None = None) -> Write:
        """`provider_account`: the Twilio subaccount the message was sent through (absent: the stage's
        account) — the account whose auth token signs the message's status callbacks."""
        item = {**keys.provider_message_key(provider, sid), "type": "provider_message", "lead_id": lead_id,
                "message_id": message_id}
        if account_id:
            item["account_id"] = account_id
        if provider_account:
            item["provider_account"] = provider_account
        return Write({"Put": {"Item": item}})

    def provider_message(self, provider: str, sid: str) -> ProviderMessage | None:
        item = self.table.get(keys.provider_message_key(provider, sid))
        if not item:
            return None
        return ProviderMessage(lead_id=item["lead_id"], message_id=item["message_id"],
                               account_id=item.get("account_id"), provider_account=item.get("provider_account"))

    # -- dedup keys ----------------------------------------------------------------------

    def record(self, source: str, dedup_id: str, ttl: int, *, lead_id: str, **data: Any) -> Write:
        """A provider's id, written with the lead it made or joined: a second delivery raises
        DuplicateDelivery. An item without a lead is a claim a release before 2026-11-27 took and
        never finished (its consumer crashed): the message was not stored, so it is taken over."""
        item = {**keys.dedup_key(source, dedup_id), "type": "dedup", "ttl": ttl, "lead_id": lead_id, **data}
        return Write({"Put": {"Item": item, "ConditionExpression": _UNRECORDED}}, DuplicateDelivery)

    def seen(self, source: str, dedup_id: str) -> dict[str, Any] | None:
        """What an earlier delivery of this id recorded."""
        item = self.table.get(keys.dedup_key(source, dedup_id), consistent=True)
        return entity_fields(item) if item else None
