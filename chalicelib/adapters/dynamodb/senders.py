"""SMS sender pointers: the item that says which lead a customer's number last wrote to on a store's
SMS number (keys.py, "SMS sender pointers"; patterns 39, 40). Read by tenancy.py with the number's
lookup, written by leads.py inside a lead's transaction."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.table import Write
from chalicelib.domain.inbound import SenderHint


def hint_of(item: dict[str, Any]) -> SenderHint:
    return SenderHint(account_id=str(item["account_id"]), lead_id=str(item["lead_id"]),
                      owner_id=str(item["owner_id"]) if item.get("owner_id") else None)


def point(e164: str, sender: str, hint: SenderHint, ttl: int) -> Write:
    """A Put with no condition, on purpose: a hint verified on every read (see keys.py)."""
    item = {**keys.sms_sender_key(e164, sender), "type": "sms_sender", "account_id": hint.account_id,
            "lead_id": hint.lead_id, "ttl": ttl, **({"owner_id": hint.owner_id} if hint.owner_id else {})}
    return Write({"Put": {"Item": item}})
