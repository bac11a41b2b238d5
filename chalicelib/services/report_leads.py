"""GET /reports/response-time/leads: the detail rows behind the response-time report, a page at a
time (or all of them as CSV), with each lead's customer name and its owner's name.

The rows come from the same fold as the report (rollups, or the recomputation), so they are
exactly the leads the report counts; only the names are read beside it: the customers' from
their leads (one BatchGetItem per 100 rows shown) and the people's from the group's users."""

from __future__ import annotations

from typing import Any

from chalicelib.deps import Deps
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.paging import decode_cursor, encode_cursor
from chalicelib.domain.reports import csv_files
from chalicelib.domain.reports.fold import Fold
from chalicelib.domain.reports.response import response_leads
from chalicelib.services import reports
from chalicelib.services.reports import Scope


def _rows(deps: Deps, scope: Scope, source: str | None, agent: str | None,
          fold: Fold | None = None) -> list[dict[str, Any]]:
    fold = fold or reports.fold_scope(deps, scope)
    return response_leads(fold, reports.calendars(scope), source, agent)


def _named(deps: Deps, scope: Scope, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with the customer's name and the owner's name."""
    if not rows:
        return []
    leads = deps.leads.many({r["lead_id"] for r in rows})
    people = reports.names_of(deps, scope, {r["assigned_to"] for r in rows if r["assigned_to"]})
    return [{**r, "name": leads[r["lead_id"]].name if r["lead_id"] in leads else None,
             "agent_name": people.get(r["assigned_to"]) if r["assigned_to"] else None} for r in rows]


def _after(cursor: str | None) -> tuple[str, str] | None:
    if not cursor:
        return None
    state = decode_cursor(cursor)
    after = state.get("after") if isinstance(state, dict) else None
    if not (isinstance(after, list) and len(after) == 2 and all(isinstance(x, str) for x in after)):
        raise ValidationFailed.field("cursor", "is not a cursor this API gave out")
    return after[0], after[1]


def page(deps: Deps, scope: Scope, source: str | None, agent: str | None, limit: int,
         cursor: str | None) -> dict[str, Any]:
    """`limit` rows after the cursor's (rows are ordered by received_at, then lead_id)."""
    after = _after(cursor)
    rows = _rows(deps, scope, source, agent)
    if after is not None:
        rows = [r for r in rows if (r["received_at"], r["lead_id"]) > after]
    shown = rows[:limit]
    next_cursor = encode_cursor({"after": [shown[-1]["received_at"], shown[-1]["lead_id"]]}) \
        if len(rows) > limit else None
    return {"period": scope.period(), "account_ids": scope.account_ids, "items": _named(deps, scope, shown),
            "next_cursor": next_cursor}


def as_csv(deps: Deps, scope: Scope, source: str | None = None, agent: str | None = None,
           fold: Fold | None = None) -> tuple[str, bytes]:
    """Every row of the period as CSV, and the file's name."""
    period = scope.period()
    rows = _named(deps, scope, _rows(deps, scope, source, agent, fold))
    name = f"response-time-leads-{period['from']}-{period['to']}.csv"
    return name, csv_files.response_leads_csv(rows, period["from"], period["to"])
