"""Reply tokens (keys.py: MAILTOKEN#): the unguessable part of a lead's reply address
(`sales+<token>@dealer.com`) and the lead it routes to. A lead gets its token with its first
email, in the lead change that writes the message; the token never moves to another lead."""

from __future__ import annotations

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.table import Table, Write
from chalicelib.domain.errors import LostRace


class MailboxRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def claim_token(self, token: str, lead_id: str, account_id: str) -> Write:
        item = {**keys.reply_token_key(token), "type": "reply_token", "lead_id": lead_id, "account_id": account_id}
        return Write({"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}, LostRace)

    def token_owner(self, token: str) -> tuple[str, str] | None:
        """(lead_id, account_id) of a reply token, or None."""
        item = self.table.get(keys.reply_token_key(token))
        return (str(item["lead_id"]), str(item["account_id"])) if item else None
