"""What the reports read: report events per store and UTC day, score-ledger entries,
the awaiting folder, and the list of every store. Keys: keys.py (patterns 12, 26, 29, 31).

Which partitions a report reads: the leads of a period are the `lead_received` events of
the period's days, but a lead received on the period's last evening may be accepted or
answered days later. So a report reads every day partition from the period's first
instant until `as_of` (default now), bounded to 30 days after the period's end
(`periods.OUTCOME_HORIZON_DAYS`): an old period costs at most (days + 30) Queries per
store, and its figures stop moving once the horizon has passed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.leads import lead_from_item
from chalicelib.adapters.dynamodb.table import Table
from chalicelib.clock import iso
from chalicelib.domain.leads import Lead
from chalicelib.domain.reports.figures import ScoreEntry
from chalicelib.domain.reports.ledger import to_ms
from chalicelib.domain.reports.periods import utc_days

_EVENT_FIELDS = ("event_id", "account_id", "kind", "at", "lead_id", "user_id", "data")
# '$' sorts right after '#', so "{at}$" is above every "{at}#{event_id}" of that millisecond.
_AFTER_MS = "$"


class ReportRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def events_between(self, account_id: str, start: datetime, until: datetime) -> list[dict[str, Any]]:
        """Report events of a store with start <= at <= until, oldest first, as plain dicts."""
        if until < start:
            return []
        low, high = iso(start), iso(until) + _AFTER_MS
        found: list[dict[str, Any]] = []
        for day in utc_days(start, until):
            for item in self.table.query(keys.report_day_pk(account_id, day), sk_condition="#sk BETWEEN :lo AND :hi",
                                         sk_values={":lo": low, ":hi": high}):
                found.append({name: item[name] for name in _EVENT_FIELDS if name in item})
        return found

    def score_entries(self, user_id: str, start: str, end: str) -> list[ScoreEntry]:
        """Ledger entries of a user dated start <= at < end (iso strings)."""
        return [ScoreEntry(user_id=i["user_id"], account_id=i["account_id"], at=to_ms(i["at"]), points=int(i["points"]))
                for i in self.score_items(user_id, start, end) if i["at"] < end]

    def score_items(self, user_id: str, start: str, until: str) -> list[dict[str, Any]]:
        """Ledger entries of a user dated start <= at <= until (iso strings), as stored."""
        return list(self.table.query(keys.score_event_key(user_id, "", "")["PK"],
                                     sk_condition="#sk BETWEEN :lo AND :hi",
                                     sk_values={":lo": f"SCORE#{start}", ":hi": f"SCORE#{until}{_AFTER_MS}"}))

    def awaiting(self, account_id: str, waiting_since_before: str, after: str | None,
                 limit: int) -> list[tuple[str, Lead]]:
        """Up to `limit` leads of a store awaiting a reply since before `waiting_since_before`,
        longest waiting first, as (position, lead); `after` is the position of the last lead of
        the previous page (positions are comparable across stores: awaiting_since#lead_id)."""
        if after:
            items, _ = self.table.query_page(
                keys.account_awaiting_pk(account_id), index=3, sk_condition="#sk BETWEEN :lo AND :hi",
                sk_values={":lo": after, ":hi": waiting_since_before}, limit=limit + 1)
            items = [i for i in items if i["GSI3SK"] != after]
        else:
            items, _ = self.table.query_page(
                keys.account_awaiting_pk(account_id), index=3, sk_condition="#sk < :hi",
                sk_values={":hi": waiting_since_before}, limit=limit)
        return [(str(i["GSI3SK"]), lead_from_item(i)) for i in items[:limit]]

    def all_account_ids(self) -> list[str]:
        return [str(i["account_id"]) for i in self.table.query(keys.all_accounts_pk(), index=2)]
