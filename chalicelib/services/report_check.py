"""Do a store's rollups say what its raw report events say? `leadline report verify` asks.

The same reports (the dashboard and the lead sources, for the store's last 30 days or the days
asked for) are read twice at the same cutoff: from the rollups as the stream consumer left them
(no live tail, so nothing the stream has not applied is made up for) and from the raw events
(the recomputation). A difference means records the consumer never applied: a lost stream
record, a failure destination not drained; `leadline report rebuild` repairs it."""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any

from chalicelib.clock import FixedClock
from chalicelib.deps import Deps
from chalicelib.domain.errors import NotFound
from chalicelib.services import reports

MAX_LISTED = 20


def _reading(deps: Deps, at: datetime, **settings: Any) -> Deps:
    # The same repositories; one instant for both readings; only where the reports read from differs.
    other = copy.copy(deps)
    other.clock = FixedClock(at)
    other._settings = deps.settings.model_copy(update=settings)
    return other


def _reports(deps: Deps, account_id: str, first: date | None, last: date | None) -> dict[str, Any]:
    account = deps.accounts.get(account_id)
    if account is None:
        raise NotFound("account not found")
    scope = reports.store_scope(deps, [account], first, last)
    fold = reports.fold_scope(deps, scope)
    return {"dashboard": reports.dashboard(deps, scope, fold), "lead_sources": reports.lead_sources(deps, scope, fold)}


def differences(expected: Any, found: Any, path: str = "") -> list[str]:
    """Where `found` differs from `expected` (JSON-like values), as paths such as `dashboard.totals.new`."""
    if isinstance(expected, dict) and isinstance(found, dict):
        return [d for key in sorted(expected.keys() | found.keys(), key=str)
                for d in differences(expected.get(key), found.get(key), f"{path}.{key}" if path else str(key))]
    if isinstance(expected, list) and isinstance(found, list) and len(expected) == len(found):
        return [d for i, (e, f) in enumerate(zip(expected, found, strict=True))
                for d in differences(e, f, f"{path}[{i}]")]
    return [] if expected == found else [f"{path}: {found!r} (the events say {expected!r})"]


def verify(deps: Deps, account_id: str, first: date | None = None, last: date | None = None) -> list[str]:
    """The figures where the store's rollups differ from the recomputation (none: they agree)."""
    now = deps.clock.now()
    from_events = _reports(_reading(deps, now, report_source="events"), account_id, first, last)
    from_rollups = _reports(_reading(deps, now, report_source="rollups", report_tail_seconds=0),
                            account_id, first, last)
    return differences(from_events, from_rollups)[:MAX_LISTED]
