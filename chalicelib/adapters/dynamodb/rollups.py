"""Report rollups in DynamoDB: each lead's report ledger and each store's rollup days
(keys.py: patterns 32-34). Both are compact JSON compressed with zlib in one binary
attribute; both are written conditionally on the `version` they were read at, and a lost
race is `LedgerChanged` / `RollupDayChanged`.

Sizes (what keeps a year of a store to one or two Query pages): a day item holds, per lead
that arrived that day, its facts as offsets from the arrival (a few bytes each) and user ids
once per fact — compressed, about 60-100 bytes a lead (bench/report_scaling.py measures it)."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from datetime import date
from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.table import ConditionFailed, Item, Table, TransactionCancelled
from chalicelib.domain.reports.ledger import Dated, DayShare, Fact, LeadLedger, LeadSummary, to_ms
from chalicelib.domain.reports.rollup import DayRollup, LedgerChanged, RollupDayChanged

LEDGER_TYPE, DAY_TYPE = "report_ledger", "report_rollup"
_FIRST_WRITE = "attribute_not_exists(PK)"
_SAME_VERSION = "version = :seen"


def _pack(value: Any) -> bytes:
    return zlib.compress(json.dumps(value, separators=(",", ":")).encode(), 6)


def _unpack(raw: Any) -> Any:
    data = raw.value if hasattr(raw, "value") else raw
    return json.loads(zlib.decompress(bytes(data)))


def _day_start(day: str) -> int:
    return to_ms(f"{day}T00:00:00.000Z")


# -- the JSON shapes -------------------------------------------------------------------------------

def _encode_summary(s: LeadSummary, base: int) -> list[Any]:
    return [s.arrival - base, s.arrival - s.sent, s.source, s.source_group, s.channel, int(s.has_email),
            int(s.has_phone), [list(fact) for fact in s.facts]]


def _decode_summary(lead_id: str, raw: list[Any], base: int) -> LeadSummary:
    # The facts stay the decoded [offset, code, user, extra] lists: a report decodes every lead of its
    # period, and building tuples would double its CPU time.
    arrival = base + raw[0]
    return LeadSummary(lead_id, arrival, arrival - raw[1], raw[2], raw[3], raw[4], bool(raw[5]), bool(raw[6]), raw[7])


def _encode_share(share: DayShare, base: int) -> list[Any]:
    return [None if share.summary is None else _encode_summary(share.summary, base),
            [[r.at - base, r.extra] for r in share.requests],
            [[s.at - base, s.user, s.extra] for s in share.scores]]


def _decode_share(lead_id: str, raw: list[Any], base: int) -> DayShare:
    summary = None if raw[0] is None else _decode_summary(lead_id, raw[0], base)
    return DayShare(summary, [Dated(base + r[0], None, r[1]) for r in raw[1]],
                    [Dated(base + s[0], s[1], s[2]) for s in raw[2]])


def day_from_item(item: Item) -> DayRollup:
    day = str(item["day"])
    base = _day_start(day)
    entries = {lead_id: (int(version), _decode_share(lead_id, share, base))
               for lead_id, (version, share) in _unpack(item["entries"]).items()}
    return DayRollup(str(item["account_id"]), day, entries, int(item["version"]))


def day_item(rollup: DayRollup) -> Item:
    base = _day_start(rollup.day)
    entries = {lead_id: [version, _encode_share(share, base)] for lead_id, (version, share) in rollup.entries.items()}
    return {**keys.rollup_day_key(rollup.account_id, rollup.day), "type": DAY_TYPE, "account_id": rollup.account_id,
            "day": rollup.day, "version": rollup.version, "leads": sum(1 for _ in rollup.summaries()),
            "entries": _pack(entries)}


def ledger_from_item(item: Item) -> LeadLedger:
    facts: list[Fact] = [(f[0], f[1], f[2], f[3], f[4]) for f in _unpack(item["facts"])]
    return LeadLedger(str(item["lead_id"]), str(item["account_id"]), facts, int(item["version"]))


def ledger_item(ledger: LeadLedger) -> Item:
    return {**keys.report_ledger_key(ledger.lead_id), "type": LEDGER_TYPE, "lead_id": ledger.lead_id,
            "account_id": ledger.account_id, "version": ledger.version,
            "facts": _pack([list(f) for f in ledger.facts])}


class RollupRepository:
    """Report ledgers (one per lead) and rollup days (one per store and UTC day)."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def ledgers(self, lead_ids: Iterable[str]) -> dict[str, LeadLedger]:
        """The saved ledgers of these leads (absent ones are left out)."""
        wanted = sorted(set(lead_ids))
        found = self.table.batch_get([keys.report_ledger_key(lead_id) for lead_id in wanted]) if wanted else []
        return {str(i["lead_id"]): ledger_from_item(i) for i in found}

    def ledgers_and_days(self, lead_ids: Iterable[str], wanted: Iterable[tuple[str, str]],
                         ) -> tuple[dict[str, LeadLedger], dict[tuple[str, str], DayRollup]]:
        """`ledgers` and `days` in one BatchGetItem (patterns 35 and 36 together)."""
        leads, pairs = sorted(set(lead_ids)), sorted(set(wanted))
        items = self.table.batch_get([*(keys.report_ledger_key(i) for i in leads),
                                      *(keys.rollup_day_key(a, d) for a, d in pairs)]) if leads or pairs else []
        ledgers = {str(i["lead_id"]): ledger_from_item(i) for i in items if i.get("type") == LEDGER_TYPE}
        found = {(str(i["account_id"]), str(i["day"])): day_from_item(i) for i in items if i.get("type") == DAY_TYPE}
        return ledgers, {pair: found.get(pair) or DayRollup(pair[0], pair[1]) for pair in pairs}

    def ledger(self, lead_id: str) -> LeadLedger | None:
        item = self.table.get(keys.report_ledger_key(lead_id), consistent=True)
        return ledger_from_item(item) if item else None

    def save_ledger(self, ledger: LeadLedger) -> None:
        """Write the ledger as version + 1 if nobody wrote it since it was read; raises LedgerChanged."""
        saved = LeadLedger(ledger.lead_id, ledger.account_id, ledger.facts, ledger.version + 1)
        self._put(ledger_item(saved), ledger.version, LedgerChanged, f"ledger of {ledger.lead_id}")
        ledger.version = saved.version

    def days(self, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], DayRollup]:
        """(account_id, day) -> its rollup day (an empty, unsaved one when there is none yet)."""
        pairs = sorted(set(wanted))
        found = {(str(i["account_id"]), str(i["day"])): day_from_item(i)
                 for i in self.table.batch_get([keys.rollup_day_key(a, d) for a, d in pairs])} if pairs else {}
        return {pair: found.get(pair) or DayRollup(pair[0], pair[1]) for pair in pairs}

    def day(self, account_id: str, day: str) -> DayRollup:
        item = self.table.get(keys.rollup_day_key(account_id, day), consistent=True)
        return day_from_item(item) if item else DayRollup(account_id, day)

    def save_day(self, rollup: DayRollup) -> None:
        """Write the day as version + 1 if nobody wrote it since it was read; raises RollupDayChanged."""
        saved = DayRollup(rollup.account_id, rollup.day, rollup.entries, rollup.version + 1)
        self._put(day_item(saved), rollup.version, RollupDayChanged, f"rollup {rollup.account_id} {rollup.day}")
        rollup.version = saved.version

    def read_days(self, account_id: str, first: date, last: date) -> list[DayRollup]:
        """A store's rollup days from `first` to `last` (UTC days): one Query, paged past 1 MB."""
        items = self.table.query(keys.rollup_pk(account_id), sk_condition="#sk BETWEEN :lo AND :hi",
                                 sk_values={":lo": f"DAY#{first.isoformat()}", ":hi": f"DAY#{last.isoformat()}"})
        return [day_from_item(i) for i in items]

    def save_together(self, ledgers: Iterable[LeadLedger], days: Iterable[DayRollup]) -> None:
        """`save_ledger` and `save_day` of them all in one TransactWriteItems: all written (each as
        version + 1, the objects' versions move on) or none. A lost race is the named conflict of the
        first item whose version moved (LedgerChanged / RollupDayChanged; LedgerChanged when the
        cancellation names none: a conflicting transaction in flight)."""
        ledgers, days = list(ledgers), list(days)
        saved = [LeadLedger(x.lead_id, x.account_id, x.facts, x.version + 1) for x in ledgers]
        rolled = [DayRollup(x.account_id, x.day, x.entries, x.version + 1) for x in days]
        ops = [*(_put_op(ledger_item(s), x.version) for s, x in zip(saved, ledgers, strict=True)),
               *(_put_op(day_item(s), x.version) for s, x in zip(rolled, days, strict=True))]
        try:
            self.table.transact(ops)
        except TransactionCancelled as exc:
            for index, ledger in enumerate(ledgers):
                if exc.failed(index):
                    raise LedgerChanged(f"the ledger of {ledger.lead_id} changed meanwhile") from exc
            for index, rollup in enumerate(days, start=len(ledgers)):
                if exc.failed(index):
                    raise RollupDayChanged(f"the rollup {rollup.account_id} {rollup.day} changed meanwhile") from exc
            raise LedgerChanged("the rollups lost a race with another transaction") from exc
        for ledger in ledgers:
            ledger.version += 1
        for rollup in days:
            rollup.version += 1

    def _put(self, item: Item, seen: int, conflict: type[LedgerChanged | RollupDayChanged], what: str) -> None:
        try:
            if seen == 0:
                self.table.put(item, condition=_FIRST_WRITE)
            else:
                self.table.put(item, condition=_SAME_VERSION, values={":seen": seen})
        except ConditionFailed as exc:
            raise conflict(f"the {what} changed meanwhile") from exc


def _put_op(item: Item, seen: int) -> dict[str, object]:
    if seen == 0:
        return {"Put": {"Item": item, "ConditionExpression": _FIRST_WRITE}}
    return {"Put": {"Item": item, "ConditionExpression": _SAME_VERSION, "ExpressionAttributeValues": {":seen": seen}}}
