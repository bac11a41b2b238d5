"""Report use cases: who may see which stores, which period, read the rollups, fold, shape.

Every report reads each store's rollup (one Query per store, side by side; see
services/report_sources.py), and domain/reports says what each figure means."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain.accounts import Account
from chalicelib.domain.errors import NotFound, ValidationFailed
from chalicelib.domain.paging import decode_cursor, encode_cursor
from chalicelib.domain.reports import assistant as assistant_figures
from chalicelib.domain.reports import csv_files, figures
from chalicelib.domain.reports.calendar import OpeningCalendar
from chalicelib.domain.reports.fold import Fold
from chalicelib.domain.reports.periods import (
    MAX_DAYS,
    Window,
    default_days,
    instant_window,
    local_today,
    window,
)
from chalicelib.domain.reports.stats import Bucket
from chalicelib.domain.tenancy import Principal, Role
from chalicelib.domain.users import User
from chalicelib.fanout import fan_out
from chalicelib.schemas.reports import OverviewQuery, ReportQuery
from chalicelib.services.access import may_be_visible_store
from chalicelib.services.report_sources import source_for

INTERNET_WINDOW = timedelta(hours=12)


@dataclass
class Scope:
    """The stores and period of one report."""

    group_id: str
    accounts: list[Account]
    windows: dict[str, Window]
    as_of: datetime

    @property
    def account_ids(self) -> list[str]:
        return [a.account_id for a in self.accounts]

    def period(self) -> dict[str, Any]:
        wins = list(self.windows.values())
        return {"from": min(w.first_day for w in wins).isoformat() if wins else None,
                "to": max(w.last_day for w in wins).isoformat() if wins else None,
                "as_of": iso(self.as_of)}


# -- who and when --------------------------------------------------------------------------

def visible_accounts(deps: Deps, principal: Principal, account_id: str | None) -> list[Account]:
    """Managers and up; one store (404 when the caller cannot see it) or every store they see
    (one Query of the group's stores), by id."""
    principal.require_role(Role.MANAGER)
    if account_id:
        account = deps.accounts.get(account_id) if may_be_visible_store(principal, account_id) else None
        if account is None:
            raise NotFound("account not found")
        principal.require_account(account.group_id, account.account_id)
        return [account]
    visible = principal.visible_account_ids
    return sorted((a for a in deps.accounts.list_for_group(principal.group_id) if a.account_id in visible),
                  key=lambda a: a.account_id)


def store_scope(deps: Deps, accounts: list[Account], first: date | None, last: date | None,
                as_of: datetime | None = None) -> Scope:
    """Each store's window from the given dates, or the last 30 days in its own timezone."""
    now = deps.clock.now()
    reading = min(as_of, now) if as_of is not None else now
    if first is not None and last is not None and first > last:
        raise ValidationFailed.field("from", "must not be after `to`")
    windows = {}
    for account in accounts:
        default_first, default_last = default_days(now, account.timezone)
        day_to = last or (default_last if first is None else max(first, local_today(now, account.timezone)))
        day_from = first or day_to - (default_last - default_first)
        if (day_to - day_from).days + 1 > MAX_DAYS:
            raise ValidationFailed.field("from", f"the period is longer than {MAX_DAYS} days")
        windows[account.account_id] = window(account.account_id, account.timezone, day_from, day_to)
    group_id = accounts[0].group_id if accounts else ""
    return Scope(group_id=group_id, accounts=accounts, windows=windows, as_of=reading)


def query_scope(deps: Deps, principal: Principal, query: ReportQuery) -> Scope:
    accounts = visible_accounts(deps, principal, query.account_id)
    return store_scope(deps, accounts, query.from_, query.to, query.as_of)


# -- reading ---------------------------------------------------------------------------------

def fold_scope(deps: Deps, scope: Scope, scores: bool = True) -> Fold:
    """The scope's figures; `scores=False` for a report that shows none (report_sources.live_tail)."""
    return source_for(deps).fold(deps, scope, scores)


def calendars(scope: Scope) -> dict[str, OpeningCalendar]:
    return {a.account_id: OpeningCalendar(a.hours, scope.windows[a.account_id].start_at,
                                          scope.windows[a.account_id].end_at) for a in scope.accounts}


def _named(deps: Deps, users: list[User], mentioned: set[str]) -> dict[str, str]:
    names = {u.user_id: u.name for u in users}
    for user_id in sorted(mentioned - set(names)):
        user: User | None = deps.users.get(user_id)  # someone since deleted keeps their name in reports
        if user is not None:
            names[user_id] = user.name
    return names


def names_of(deps: Deps, scope: Scope, user_ids: set[str]) -> dict[str, str]:
    """Names of the scope's group's people, and of anyone else in `user_ids`."""
    return _named(deps, deps.users.list_for_group(scope.group_id) if scope.group_id else [], user_ids)


def _people(deps: Deps, scope: Scope, fold: Fold) -> tuple[dict[str, str], list[str]]:
    """Names of everyone who may appear, and the roster: active agents of the scope's stores."""
    users = deps.users.list_for_group(scope.group_id) if scope.group_id else []
    stores = set(scope.account_ids)
    roster = [u.user_id for u in users if u.role is Role.AGENT and not u.deleted and stores & set(u.account_ids)]
    mentioned = set(fold.agents) | {x.owner for x in fold.leads.values() if x.owner} \
        | {u for x in fold.leads.values() for u in (x.acceptors or ())} \
        | {x.responder for x in fold.leads.values() if x.responder}
    return _named(deps, users, mentioned), roster


# -- reports -----------------------------------------------------------------------------------

def dashboard(deps: Deps, scope: Scope, fold: Fold | None = None) -> dict[str, Any]:
    fold = fold or fold_scope(deps, scope)
    names, roster = _people(deps, scope, fold)
    people = set(roster) | set(fold.agents) | {x.owner for x in fold.leads.values() if x.owner} \
        | {u for x in fold.leads.values() for u in (x.acceptors or ())} \
        | {x.responder for x in fold.leads.values() if x.responder}
    entries = source_for(deps).scores(deps, scope, fold, people)
    report = figures.dashboard(fold, entries, names, roster, calendars(scope))
    return {"period": scope.period(), "account_ids": scope.account_ids, **report}


def dashboard_csv(report: dict[str, Any]) -> str:
    body = csv_files.agents_csv(report, figures.agent_totals(report["agents"]),
                                report["period"]["from"], report["period"]["to"])
    return body.decode("utf-8")


def response_time(deps: Deps, scope: Scope, group_by: str, buckets: list[Bucket],
                  fold: Fold | None = None) -> dict[str, Any]:
    fold = fold or fold_scope(deps, scope)
    if group_by == "agent":
        labels, _ = _people(deps, scope, fold)
    elif group_by == "account":
        labels = {a.account_id: a.name for a in scope.accounts}
    else:
        labels = {}
    report = figures.response_time(fold, group_by, buckets, calendars(scope), labels)
    return {"period": scope.period(), "account_ids": scope.account_ids, **report}


def lead_sources(deps: Deps, scope: Scope, fold: Fold | None = None) -> dict[str, Any]:
    fold = fold or fold_scope(deps, scope)
    return {"period": scope.period(), "account_ids": scope.account_ids, **figures.lead_sources(fold)}


def assistant(deps: Deps, scope: Scope) -> dict[str, Any]:
    """What the cadences did with the period's leads (the same figures as the overview's `assistant`)."""
    fold = fold_scope(deps, scope)
    return {"period": scope.period(), "account_ids": scope.account_ids,
            **assistant_figures.figures(fold.leads.values())}


def overview(deps: Deps, principal: Principal, query: OverviewQuery) -> dict[str, Any]:
    """Every store of the kind the caller can see (or the one named), a row each, and totals."""
    accounts = [a for a in visible_accounts(deps, principal, query.account_id) if a.kind == query.kind]
    scope = store_scope(deps, accounts, query.from_, query.to, query.as_of)
    fold = fold_scope(deps, scope, scores=False)
    stores = [{"account_id": a.account_id, "name": a.name} for a in accounts]
    return {"period": scope.period(), **figures.overview(fold, stores, calendars(scope), query.kind)}


def internet_response(deps: Deps, principal: Principal, account_id: str | None) -> dict[str, Any]:
    """New leads of the last 12 hours and how they were answered (so far)."""
    accounts = visible_accounts(deps, principal, account_id)
    now = deps.clock.now()
    since = now - INTERNET_WINDOW
    windows = {a.account_id: instant_window(a.account_id, a.timezone, since, now) for a in accounts}
    scope = Scope(group_id=principal.group_id, accounts=accounts, windows=windows, as_of=now)
    fold = fold_scope(deps, scope)
    return {"account_ids": scope.account_ids, "since": iso(since), "until": iso(now),
            **figures.internet_response(fold, calendars(scope))}


def stale_leads(deps: Deps, principal: Principal, account_id: str | None, hours: float, limit: int,
                cursor: str | None) -> dict[str, Any]:
    """Leads awaiting a reply for longer than `hours`, longest waiting first, with their agent."""
    accounts = visible_accounts(deps, principal, account_id)
    after = None
    if cursor:
        state = decode_cursor(cursor)
        if not isinstance(state, dict) or not isinstance(state.get("after"), str):
            raise ValidationFailed.field("cursor", "is not a cursor this API gave out")
        after = state["after"]
    now = deps.clock.now()
    cutoff = iso(now - timedelta(hours=hours))
    repo = deps.report_records
    found = [pair for batch in fan_out(lambda a: repo.awaiting(a.account_id, cutoff, after, limit + 1), accounts)
             for pair in batch]
    found.sort(key=lambda pair: pair[0])
    page = found[:limit]
    names = {u.user_id: u.name for u in deps.users.list_for_group(principal.group_id)}
    items = []
    for _, lead in page:
        if lead.awaiting_since is None:
            continue
        waited = now - datetime.fromisoformat(lead.awaiting_since)
        items.append({"lead_id": lead.lead_id, "account_id": lead.account_id, "name": lead.name,
                      "status": lead.status, "source": lead.source, "awaiting_since": lead.awaiting_since,
                      "waiting_s": int(waited.total_seconds()), "assigned_to": lead.assigned_to,
                      "agent_name": names.get(lead.assigned_to) if lead.assigned_to else None})
    next_cursor = encode_cursor({"after": page[-1][0]}) if len(found) > limit and page else None
    return {"items": items, "next_cursor": next_cursor}
