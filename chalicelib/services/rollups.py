"""Keeping report rollups: apply report events and score entries to their leads' ledgers and
the stores' rollup days (the DynamoDB stream consumer), and rebuild them from the events.

Applying is idempotent and order-free. A lead's ledger is a set of facts keyed by event id,
saved conditionally on the version it was read at; every rollup day the lead contributes to
is then rewritten from the ledger, and a day keeps a lead's share only from a newer ledger
version than the one it holds. So a record delivered twice changes nothing, one delivered
late lands where it belongs, two consumers racing on a lead or a day retry on the named
conflict, and a consumer that dies between the ledger and the days is healed by the retry
of the same records (the ledger already holds them; the days are rewritten from it).

A batch that fits is written in one TransactWriteItems (its ledgers and days together, each on
its version); one that does not, or loses a race, is saved ledger by ledger and day by day."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.adapters.dynamodb.table import deserialize
from chalicelib.deps import Deps
from chalicelib.domain.reports.ledger import (
    DayShare,
    Fact,
    LeadLedger,
    report_fact,
    score_fact,
    utc_day,
)
from chalicelib.domain.reports.rollup import DayRollup, LedgerChanged, RollupDayChanged, shares_to_write
from chalicelib.observability import logger
from chalicelib.ports import RollupStore

# Item types on the stream that feed rollups (the stream's filter in the package says the same).
REPORT_EVENT, SCORE = "report_event", "score"
ROLLED_UP_TYPES = (REPORT_EVENT, SCORE)
ATTEMPTS = 6
# A batch's ledgers and days are written in one transaction when they are at most this many: each
# item is under DynamoDB's 400 KB, so 8 stay under a transaction's 4 MB whatever a day weighs.
TOGETHER_MAX = 8


@dataclass
class Applied:
    """What one application decided."""

    ledgers_changed: int = 0
    facts_kept: int = 0
    days_written: int = 0
    failed_leads: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class LeadFacts:
    account_id: str
    facts: list[Fact]


def fact_of(item: Mapping[str, Any]) -> Fact | None:
    """The fact a stored report event or score entry contributes (None: nothing reports read)."""
    if item.get("type") == SCORE:
        return score_fact(item)
    if item.get("type") == REPORT_EVENT:
        return report_fact(item)
    return None


def group_by_lead(items: Iterable[Mapping[str, Any]]) -> dict[str, LeadFacts]:
    found: dict[str, LeadFacts] = {}
    for item in items:
        fact = fact_of(item)
        if fact is None:
            continue
        lead_id = str(item["lead_id"])
        if lead_id not in found:
            found[lead_id] = LeadFacts(str(item["account_id"]), [])
        found[lead_id].facts.append(fact)
    return found


def apply_items(deps: Deps, items: Iterable[Mapping[str, Any]]) -> Applied:
    """Apply stored report events / score entries (plain dicts, any order, duplicates allowed)."""
    return apply_facts(deps.rollups, group_by_lead(items))


def apply_facts(repo: RollupStore, by_lead: Mapping[str, LeadFacts],
                replace: Mapping[str, int] | None = None) -> Applied:
    """Add each lead's facts to its ledger, then bring every rollup day of those leads up to
    their ledgers. `replace` (the rebuild): lead -> an instant (epoch ms); that lead's ledger
    becomes exactly the given facts plus those it holds from that instant on (what a concurrent
    consumer added after the rebuild read the events)."""
    # The days a batch's facts fall on are read with the ledgers: a new lead's batch (its arrival, its
    # first offer) touches only its arrival day, so that is the whole read. Days a ledger needs beyond
    # them (an older lead's arrival day) are read after.
    guessed = {(given.account_id, utc_day(fact[0])) for given in by_lead.values() for fact in given.facts}
    saved, read_days = repo.ledgers_and_days(by_lead, guessed)
    together = _together(repo, saved, read_days, by_lead, replace or {})
    if together is not None:
        return together
    outcome = Applied()
    shares: dict[tuple[str, str], list[tuple[str, int, DayShare]]] = {}
    for lead_id, given in by_lead.items():
        try:
            ledger, writes = _save_ledger(repo, saved.get(lead_id), lead_id, given, (replace or {}).get(lead_id),
                                          outcome)
        except Exception:
            logger.exception("report ledger not saved", extra={"lead_id": lead_id})
            outcome.failed_leads.add(lead_id)
            continue
        _add_shares(shares, ledger.account_id, lead_id, ledger.version, writes)
    missing = set(shares) - set(read_days)
    days = {**read_days, **(repo.days(missing) if missing else {})}
    for key, wanted in shares.items():
        try:
            outcome.days_written += _save_day(repo, days[key], wanted)
        except Exception:
            logger.exception("rollup day not saved", extra={"account_id": key[0], "day": key[1]})
            outcome.failed_leads.update(lead_id for lead_id, _v, _s in wanted)
    return outcome


def _together(repo: RollupStore, saved: Mapping[str, LeadLedger], read_days: Mapping[tuple[str, str], DayRollup],
              by_lead: Mapping[str, LeadFacts], replace: Mapping[str, int]) -> Applied | None:
    """The batch's ledgers and days in one transaction (save_together), from copies of what was
    read. None, with nothing written, when it does not fit (a day beyond those read, more than
    TOGETHER_MAX items) or lost a race: the caller then saves each ledger and day on its own,
    retrying each on its named conflict and failing only the leads that keep failing."""
    if len(by_lead) > TOGETHER_MAX:  # a batch this big seldom fits: not worth copying it to find out
        return None
    outcome = Applied()
    ledgers: list[LeadLedger] = []
    shares: dict[tuple[str, str], list[tuple[str, int, DayShare]]] = {}
    for lead_id, given in by_lead.items():
        held = saved.get(lead_id)
        copied = LeadLedger(lead_id, held.account_id, list(held.facts), held.version) if held else None
        current, added, changed, writes = _updated(copied, lead_id, given, replace.get(lead_id))
        if changed:
            ledgers.append(current)
            outcome.ledgers_changed += 1
            outcome.facts_kept += added
        version = current.version + 1 if changed else current.version  # the version it is saved as
        _add_shares(shares, current.account_id, lead_id, version, writes)
    if not set(shares) <= set(read_days):
        return None
    days: list[DayRollup] = []
    for key, wanted in shares.items():
        rollup = DayRollup(key[0], key[1], dict(read_days[key].entries), read_days[key].version)
        if any([rollup.take(lead_id, version, share) for lead_id, version, share in wanted]):
            days.append(rollup)
    if len(ledgers) + len(days) > TOGETHER_MAX:
        return None
    if ledgers or days:
        try:
            repo.save_together(ledgers, days)
        except (LedgerChanged, RollupDayChanged):
            return None
    outcome.days_written = len(days)
    return outcome


def _updated(ledger: LeadLedger | None, lead_id: str, given: LeadFacts,
             keep_from: int | None) -> tuple[LeadLedger, int, bool, dict[str, DayShare]]:
    """`_with_facts` on the ledger as held (None: the lead has none yet), with the shares its days
    must hold after it."""
    current = ledger or LeadLedger(lead_id, given.account_id)
    before = current.shares()
    current, added, changed = _with_facts(current, given, keep_from)
    return current, added, changed, shares_to_write(before, current)


def _add_shares(shares: dict[tuple[str, str], list[tuple[str, int, DayShare]]], account_id: str, lead_id: str,
                version: int, writes: Mapping[str, DayShare]) -> None:
    for day, share in writes.items():
        shares.setdefault((account_id, day), []).append((lead_id, version, share))


def _with_facts(current: LeadLedger, given: LeadFacts, keep_from: int | None) -> tuple[LeadLedger, int, bool]:
    """The ledger with the batch's facts added (a rebuild's `keep_from`: made of them and what it
    holds from then on), how many it kept, and whether it changed."""
    if keep_from is not None:
        rebuilt = LeadLedger(current.lead_id, current.account_id, list(given.facts), current.version)
        rebuilt.add_all(f for f in current.facts if f[0] >= keep_from)
        return rebuilt, len(rebuilt.facts), rebuilt.facts != current.facts
    added = sum(current.add(fact) for fact in given.facts)
    return current, added, added > 0


def _save_ledger(repo: RollupStore, ledger: LeadLedger | None, lead_id: str, given: LeadFacts,
                 keep_from: int | None, outcome: Applied) -> tuple[LeadLedger, dict[str, DayShare]]:
    """The saved ledger and the shares its days must hold. Unchanged (every fact already kept),
    nothing is written and the days are brought up to the ledger as it is."""
    for _ in range(ATTEMPTS):
        current, added, changed, writes = _updated(ledger, lead_id, given, keep_from)
        if not changed:
            return current, writes
        try:
            repo.save_ledger(current)
        except LedgerChanged:
            ledger = repo.ledger(lead_id)
            continue
        outcome.ledgers_changed += 1
        outcome.facts_kept += added
        return current, writes
    raise LedgerChanged(f"the report ledger of {lead_id} kept changing")


def _save_day(repo: RollupStore, day: DayRollup, wanted: list[tuple[str, int, DayShare]]) -> int:
    for _ in range(ATTEMPTS):
        changed = [day.take(lead_id, version, share) for lead_id, version, share in wanted]
        if not any(changed):
            return 0
        try:
            repo.save_day(day)
            return 1
        except RollupDayChanged:
            day = repo.day(day.account_id, day.day)
    raise RollupDayChanged(f"the rollup of {day.account_id} on {day.day} kept changing")


# -- the stream ----------------------------------------------------------------------------------

def apply_stream_records(deps: Deps, records: list[dict[str, Any]]) -> list[str]:
    """A DynamoDB stream batch (Lambda's record shape): apply the report events and score entries
    it inserted; returns the sequence numbers of the records to retry (their leads failed)."""
    items: list[tuple[str, dict[str, Any]]] = []
    for record in records:
        image = (record.get("dynamodb") or {}).get("NewImage")
        if record.get("eventName") not in ("INSERT", "MODIFY") or not image:
            continue
        if (image.get("type") or {}).get("S") not in ROLLED_UP_TYPES:
            continue
        items.append((str(record["dynamodb"]["SequenceNumber"]), deserialize(image)))
    if not items:
        return []
    applied = apply_items(deps, [item for _seq, item in items])
    if applied.ledgers_changed or applied.failed_leads:
        logger.info("report rollups applied", extra={
            "records": len(items), "ledgers_changed": applied.ledgers_changed, "facts": applied.facts_kept,
            "days_written": applied.days_written, "failed_leads": len(applied.failed_leads)})
    return [seq for seq, item in items if str(item.get("lead_id")) in applied.failed_leads]
