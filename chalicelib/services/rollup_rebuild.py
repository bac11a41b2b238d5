"""Rebuilding a store's report rollups from its report events and score entries (`leadline report
rebuild`): the same application as the stream consumer's (services/rollups.apply_facts), with each
arriving lead's ledger replaced by exactly what its events say."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain.errors import NotFound, ValidationFailed
from chalicelib.domain.reports.ledger import RECEIVED, to_ms
from chalicelib.domain.reports.rollup import RollupDayChanged
from chalicelib.domain.tenancy import Role
from chalicelib.observability import logger
from chalicelib.ports import RollupStore
from chalicelib.services.rollups import ATTEMPTS, REPORT_EVENT, apply_facts, group_by_lead

# Facts a rebuild cannot have read (written after its read began) are at most this old when it
# writes: a ledger keeps what it holds from this long before the rebuild started.
REBUILD_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class Rebuilt:
    account_id: str
    first_day: date
    events: int
    scores: int
    leads: int
    ledgers_changed: int
    days_written: int
    stale_entries_dropped: int
    failed_leads: list[str]


def rebuild(deps: Deps, account_id: str, first_day: date) -> Rebuilt:
    """Recompute a store's rollup from its report events and score entries dated from `first_day`
    (UTC) on. Leads that arrived since then get ledgers made of exactly their events; older
    leads gain what happened since; every rollup day since then is rewritten from the ledgers.
    Running it again changes nothing; running it beside the live consumer loses nothing."""
    account = deps.accounts.get(account_id)
    if account is None:
        raise NotFound("account not found")
    started = deps.clock.now()
    start = datetime.combine(first_day, time(0), UTC)
    if start > started:
        raise ValidationFailed.field("from", "is in the future")
    reports = deps.report_records
    events = reports.events_between(account_id, start, started + REBUILD_MARGIN)
    for e in events:
        e["type"] = REPORT_EVENT
    # Who can have scored here: everyone named on the store's events, and its people (a repeat
    # request scores for the owner, who may have taken the lead before `first_day`).
    people = {str(e["user_id"]) for e in events if e.get("user_id")} | \
        {u.user_id for u in deps.users.list_for_group(account.group_id)
         if account_id in u.account_ids or u.role is Role.GROUP_ADMIN}
    since, until = iso(start), iso(started + REBUILD_MARGIN)
    scores = [s for user_id in sorted(people) for s in reports.score_items(user_id, since, until)
              if s.get("account_id") == account_id]
    by_lead = group_by_lead([*events, *scores])
    keep_from = to_ms(iso(started - REBUILD_MARGIN))
    start_ms = to_ms(since)
    arrived = {lead_id: keep_from for lead_id, given in by_lead.items()
               if any(f[2] == RECEIVED and f[0] >= start_ms for f in given.facts)}
    repo = deps.rollups
    applied = apply_facts(repo, by_lead, replace=arrived)
    dropped = _drop_stale(repo, account_id, first_day, started.date(), set(by_lead), keep_from)
    logger.info("report rollup rebuilt", extra={"account_id": account_id, "from": first_day.isoformat(),
                                                "leads": len(by_lead), "days_written": applied.days_written})
    return Rebuilt(account_id, first_day, len(events), len(scores), len(by_lead), applied.ledgers_changed,
                   applied.days_written, dropped, sorted(applied.failed_leads))


def _drop_stale(repo: RollupStore, account_id: str, first: date, last: date, known: set[str],
                keep_from: int) -> int:
    """Entries of leads the events no longer name (they were read, so they are not new), on the
    rebuilt days: what a past mistake left behind."""
    dropped = 0
    for rollup in repo.read_days(account_id, first, last):
        day = rollup
        for _ in range(ATTEMPTS):
            gone = day.drop_unknown(known, keep_from)
            if not gone:
                break
            try:
                repo.save_day(day)
                dropped += gone
                break
            except RollupDayChanged:
                day = repo.day(day.account_id, day.day)
    return dropped
