"""A store's saved replies, by title. Keys: keys.py (pattern 28)."""

from __future__ import annotations

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.table import ConditionFailed, Table, entity_fields
from chalicelib.domain.errors import NotFound
from chalicelib.domain.paging import decode_cursor, encode_cursor
from chalicelib.domain.saved_replies import SavedReply

_NEW = "attribute_not_exists(PK)"


class SavedReplyRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def put(self, reply: SavedReply, new: bool) -> None:
        """Add a reply (`new`) or replace an existing one; a Conflict when that is not so."""
        item = {**keys.saved_reply_key(reply.saved_reply_id), "type": "saved_reply", **reply.model_dump(),
                "GSI1PK": keys.account_saved_replies_pk(reply.account_id),
                "GSI1SK": f"{reply.title.lower()}#{reply.saved_reply_id}"}
        self.table.put(item, condition=_NEW if new else "attribute_exists(PK)")

    def get(self, saved_reply_id: str) -> SavedReply | None:
        item = self.table.get(keys.saved_reply_key(saved_reply_id))
        return SavedReply.model_validate(entity_fields(item)) if item else None

    def page(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[SavedReply], str | None]:
        start = decode_cursor(cursor) if cursor else None
        items, last = self.table.query_page(keys.account_saved_replies_pk(account_id), index=1, limit=limit,
                                            start_key=start)
        return [SavedReply.model_validate(entity_fields(i)) for i in items], encode_cursor(last) if last else None

    def delete(self, saved_reply_id: str) -> None:
        try:
            self.table.delete(keys.saved_reply_key(saved_reply_id), condition="attribute_exists(PK)")
        except ConditionFailed as exc:
            raise NotFound("saved reply not found") from exc
