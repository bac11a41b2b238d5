"""What providers' ids point at: a sent message's provider id (delivery callbacks), and the
dedup keys that make a repeated webhook, inbound message or ADF delivery land once.
Keys: keys.py (patterns 19, 21)."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.table import ConditionFailed, Table, Write, entity_fields
from chalicelib.domain.errors import DuplicateDelivery
from chalicelib.domain.outbox import ProviderMessage

_NEW = "attribute_not_exists(PK)"


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

    def record(self, source: str, dedup_id: str, ttl: int, **data: Any) -> Write:
        """A provider's id, written with what it made: a second delivery raises DuplicateDelivery."""
        return Write({"Put": {"Item": {**keys.dedup_key(source, dedup_id), "type": "dedup", "ttl": ttl, **data},
                              "ConditionExpression": _NEW}}, DuplicateDelivery)

    def seen(self, source: str, dedup_id: str) -> dict[str, Any] | None:
        """What an earlier delivery of this id recorded (a claim in progress has no message_id yet)."""
        item = self.table.get(keys.dedup_key(source, dedup_id), consistent=True)
        return entity_fields(item) if item else None

    def claim(self, source: str, dedup_id: str, ttl: int, now: str, stale_before: str) -> bool:
        """Claim a provider message id for slow processing (a new lead from an unknown sender).
        True when this caller holds it: new, or an earlier claim went stale without finishing."""
        try:
            self.table.put({**keys.dedup_key(source, dedup_id), "type": "dedup", "ttl": ttl, "claimed_at": now},
                           condition="attribute_not_exists(PK) OR (attribute_not_exists(message_id) "
                                     "AND claimed_at < :stale)",
                           values={":stale": stale_before})
        except ConditionFailed:
            return False
        return True

    def finish(self, source: str, dedup_id: str, lead_id: str, message_id: str) -> Write:
        """Complete a claim with what it made; DuplicateDelivery when another finished it first."""
        return Write({"Update": {"Key": keys.dedup_key(source, dedup_id),
                                 "UpdateExpression": "SET lead_id = :l, message_id = :m",
                                 "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(message_id)",
                                 "ExpressionAttributeValues": {":l": lead_id, ":m": message_id}}}, DuplicateDelivery)
