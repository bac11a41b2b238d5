"""The rollup consumer and the rebuild on fakes: records applied twice, in any order, by racing
consumers or by one that dies half-way fold to what the raw events fold to; the rebuild makes
the same rollup from the events, and a second rebuild changes nothing."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest

from chalicelib.domain.accounts import Account
from chalicelib.domain.report_events import ReportEvent
from chalicelib.domain.reports import figures
from chalicelib.domain.reports.fold import fold, fold_events
from chalicelib.domain.reports.rollup import RollupDayChanged, store_slice
from chalicelib.services.report_check import verify
from chalicelib.services.rollups import apply_items, rebuild
from tests.fakes import FakeDeps, FakeRollupStore, fake_deps
from tests.unit.test_reports_golden import AS_OF, NAMES, A, B, C, main_history, main_window


def _records() -> list[dict[str, Any]]:
    return [{**e, "type": "report_event"} for e in main_history().events]


def _dashboard_from_rollups(deps: FakeDeps) -> dict[str, Any]:
    days = deps.rollups.read_days("acc_main", date(2026, 10, 1), date(2026, 11, 30))
    return figures.dashboard(fold([store_slice("acc_main", days)], main_window(), AS_OF), [], NAMES, [A, B, C])


def _expected() -> dict[str, Any]:
    return figures.dashboard(fold_events(main_history().events, main_window(), AS_OF), [], NAMES, [A, B, C])


def test_records_twice_and_out_of_order_fold_to_the_recomputation() -> None:
    deps = fake_deps()
    records = _records()
    rng = random.Random(4)
    for _ in range(3):
        batch = records + rng.sample(records, 20)
        rng.shuffle(batch)
        for start in range(0, len(batch), 7):
            applied = apply_items(deps, batch[start:start + 7])
            assert not applied.failed_leads
    assert _dashboard_from_rollups(deps) == _expected()
    versions = {k: d.version for k, d in deps.state.rollup_days.items()}
    assert apply_items(deps, records).ledgers_changed == 0
    assert {k: d.version for k, d in deps.state.rollup_days.items()} == versions   # nothing rewritten


def test_a_consumer_dying_between_ledgers_and_days_is_healed_by_the_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    deps = fake_deps()
    real = FakeRollupStore.save_day

    def dying(self: FakeRollupStore, rollup: Any) -> None:
        raise ConnectionError("timed out")

    monkeypatch.setattr(FakeRollupStore, "save_day", dying)
    failed = apply_items(deps, _records()).failed_leads
    assert failed and deps.state.ledgers and not deps.state.rollup_days
    monkeypatch.setattr(FakeRollupStore, "save_day", real)
    assert not apply_items(deps, _records()).failed_leads       # the same records again
    assert _dashboard_from_rollups(deps) == _expected()


def test_a_day_written_by_another_consumer_meanwhile_is_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    deps = fake_deps()
    records = _records()
    apply_items(deps, records[:10])
    real = FakeRollupStore.save_day
    raced = {"n": 0}

    def racing(self: FakeRollupStore, rollup: Any) -> None:
        if raced["n"] < 2:
            raced["n"] += 1
            held = self.state.rollup_days.get((rollup.account_id, rollup.day))
            if held is not None and held.version == rollup.version:
                held.version += 1                       # someone else wrote the day
                raise RollupDayChanged("raced")
        real(self, rollup)

    monkeypatch.setattr(FakeRollupStore, "save_day", racing)
    assert not apply_items(deps, records[10:]).failed_leads
    assert raced["n"] >= 1
    assert _dashboard_from_rollups(deps) == _expected()


def test_the_rebuild_makes_the_same_rollup_and_again_changes_nothing() -> None:
    deps = fake_deps()
    deps.fixed_clock.set(AS_OF)
    deps.state.accounts["acc_main"] = Account(account_id="acc_main", group_id="grp_1", name="Main",
                                              timezone="America/New_York", created_at=AS_OF, updated_at=AS_OF)
    deps.state.reports.extend(ReportEvent.model_validate(e) for e in main_history().events)
    done = rebuild(deps, "acc_main", date(2026, 10, 29))
    assert done.failed_leads == [] and done.leads == 9 and done.events == len(main_history().events)
    assert _dashboard_from_rollups(deps) == _expected()
    again = rebuild(deps, "acc_main", date(2026, 10, 29))
    assert (again.ledgers_changed, again.days_written, again.stale_entries_dropped) == (0, 0, 0)


def test_verify_finds_what_the_consumer_never_applied() -> None:
    deps = fake_deps()
    deps.fixed_clock.set(AS_OF)
    deps.state.accounts["acc_main"] = Account(account_id="acc_main", group_id="grp_1", name="Main",
                                              timezone="America/New_York", created_at=AS_OF, updated_at=AS_OF)
    events = main_history().events
    deps.state.reports.extend(ReportEvent.model_validate(e) for e in events)
    first, last = date(2026, 10, 30), date(2026, 11, 2)
    assert not apply_items(deps, _records()).failed_leads
    assert verify(deps, "acc_main", first, last) == []

    # A stream record the consumer never applied (a lost record): an acceptance within the window.
    lost = next(e for e in events if e["kind"] == "offer_accepted" and "2026-10-31" <= e["at"] < "2026-11-02")
    deps.state.ledgers.clear()
    deps.state.rollup_days.clear()
    assert not apply_items(deps, [r for r in _records() if r["event_id"] != lost["event_id"]]).failed_leads
    found = verify(deps, "acc_main", first, last)
    assert any(d.startswith("dashboard.accepted: 5 ") for d in found), found
    rebuild(deps, "acc_main", first)
    assert verify(deps, "acc_main", first, last) == []
