"""The nightly report files: per store and day, the dashboard, agents, response-time (and its
detail: a row per lead) and lead-sources CSVs and a JSON manifest, under reports/{group}/{account}/{yyyy}/{mm}/{dd}/.

A night's files are the API's answers for that store with `from = to = day` and
`as_of` = the end of that day in the store's timezone (or now, if that is still ahead):
a snapshot at close of business. Nothing in them depends on when the job runs, so
re-running a night rewrites the same keys with identical bytes.

Fan-out: an hourly schedule enqueues one message per store whose local time has just
passed 01:00, for the local day that ended an hour before; the reports-queue consumer
runs one store per message, far from Lambda's 15-minute limit."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib import fanout
from chalicelib.adapters.blobs import PRESIGN_SECONDS
from chalicelib.deps import Deps
from chalicelib.domain.accounts import Account
from chalicelib.domain.reports import csv_files, figures
from chalicelib.domain.reports.fold import Fold
from chalicelib.domain.reports.periods import local_midnight, local_today
from chalicelib.domain.reports.stats import parse_buckets
from chalicelib.domain.tenancy import Principal
from chalicelib.observability import logger
from chalicelib.services import report_leads, reports
from chalicelib.services.reports import Scope

PREFIX = "reports"
DASHBOARD, AGENTS, RESPONSE_TIME, RESPONSE_LEADS, LEAD_SOURCES, MANIFEST = (
    "dashboard.csv", "agents.csv", "response-time.csv", "response-time-leads.csv", "lead-sources.csv",
    "manifest.json")
# The schedule fires every hour; a store is due when its local clock reads 01:xx.
DUE_LOCAL_HOUR = 1


def day_prefix(account: Account, day: date) -> str:
    return f"{PREFIX}/{account.group_id}/{account.account_id}/{day:%Y}/{day:%m}/{day:%d}/"


def snapshot_time(deps: Deps, account: Account, day: date) -> datetime:
    """The end of `day` in the store's timezone, or now if the day is not over yet."""
    return min(deps.clock.now(), local_midnight(day + timedelta(days=1), account.timezone))


def night_scope(deps: Deps, account: Account, day: date) -> Scope:
    return reports.store_scope(deps, [account], day, day, snapshot_time(deps, account, day))


def night_reports(deps: Deps, scope: Scope, fold: Fold) -> dict[str, Any]:
    """The JSON answers the night's files are made of (the same as the API's for that day)."""
    return {
        "dashboard": reports.dashboard(deps, scope, fold),
        "response_time": reports.response_time(deps, scope, "agent", parse_buckets(None), fold),
        "lead_sources": reports.lead_sources(deps, scope, fold),
    }


def night_files(deps: Deps, account: Account, day: date) -> dict[str, bytes]:
    scope = night_scope(deps, account, day)
    fold = reports.fold_scope(deps, scope)
    answers = night_reports(deps, scope, fold)
    first = last = day.isoformat()
    board = answers["dashboard"]
    files = {
        DASHBOARD: csv_files.dashboard_csv(board, first, last),
        AGENTS: csv_files.agents_csv(board, figures.agent_totals(board["agents"]), first, last),
        RESPONSE_TIME: csv_files.response_time_csv(answers["response_time"], first, last),
        RESPONSE_LEADS: report_leads.as_csv(deps, scope, fold=fold)[1],
        LEAD_SOURCES: csv_files.lead_sources_csv(answers["lead_sources"], first, last),
    }
    prefix = day_prefix(account, day)
    manifest = {
        "group_id": account.group_id, "account_id": account.account_id, "account_name": account.name,
        "date": first, "timezone": account.timezone, "as_of": board["period"]["as_of"],
        "files": [{"name": name, "key": prefix + name, "bytes": len(body),
                   "sha256": hashlib.sha256(body).hexdigest()} for name, body in files.items()],
        "reports": answers,
    }
    files[MANIFEST] = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return files


_CONTENT_TYPES = {".csv": "text/csv; charset=utf-8", ".json": "application/json"}


def write_night(deps: Deps, account: Account, day: date) -> list[str]:
    prefix = day_prefix(account, day)
    written = []
    for name, body in night_files(deps, account, day).items():
        key = prefix + name
        deps.reports_store.put(key, body, _CONTENT_TYPES[name[name.rindex("."):]])
        written.append(key)
    logger.info("nightly report files written", extra={"account_id": account.account_id, "date": day.isoformat(),
                                                        "files": len(written)})
    return written


def run_nightly(deps: Deps, day: date, account_ids: list[str] | None = None) -> list[str]:
    """Write `day`'s files for the given stores (default: every store); returns the S3 keys written.
    Unknown store ids are skipped (a store closed since the message was queued)."""
    ids = account_ids if account_ids is not None else deps.report_records.all_account_ids()
    written: list[str] = []
    for account_id in ids:
        account = deps.accounts.get(account_id)
        if account is None:
            logger.warning("nightly report for an unknown store skipped", extra={"account_id": account_id})
            continue
        written.extend(write_night(deps, account, day))
    return written


def due_jobs(deps: Deps, now: datetime | None = None) -> list[dict[str, Any]]:
    """One job per store whose local time is now 01:xx: write the local day that just ended."""
    now = now or deps.clock.now()
    jobs = []
    for account_id in deps.report_records.all_account_ids():
        account = deps.accounts.get(account_id)
        if account is None:
            continue
        local = now.astimezone(ZoneInfo(account.timezone))
        if local.hour == DUE_LOCAL_HOUR:
            jobs.append({"kind": "nightly", "account_id": account_id,
                         "date": (local.date() - timedelta(days=1)).isoformat()})
    return jobs


def fan_out(deps: Deps) -> int:
    jobs = due_jobs(deps)
    if jobs:
        deps.queues.send_batch("reports", jobs)
    return len(jobs)


def list_files(deps: Deps, principal: Principal, account_id: str | None, day: date | None) -> list[dict[str, Any]]:
    """The night's files of the caller's stores (default: yesterday in each store's timezone),
    each with a download link that expires within 15 minutes; the stores are listed side by side."""

    def night_of(account: Account) -> list[dict[str, Any]]:
        night = day or local_today(deps.clock.now(), account.timezone) - timedelta(days=1)
        return [{"key": stored.key, "account_id": account.account_id, "date": night.isoformat(),
                 "url": deps.reports_store.presigned_url(stored.key, PRESIGN_SECONDS), "bytes": stored.bytes}
                for stored in sorted(deps.reports_store.list(day_prefix(account, night)), key=lambda f: f.key)]

    return [item for items in fanout.fan_out(night_of, reports.visible_accounts(deps, principal, account_id))
            for item in items]
