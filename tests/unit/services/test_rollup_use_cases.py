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
from chalicelib.domain.reports.rollup import DayRollup, RollupDayChanged, store_slice
from chalicelib.services.report_check import verify
from chalicelib.services.rollup_rebuild import rebuild
from chalicelib.services.rollups import apply_items
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


def _counting(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    calls = {"save_together": 0, "save_ledger": 0, "save_day": 0}
    for name in calls:
        real = getattr(FakeRollupStore, name)

        def counted(self: FakeRollupStore, *args: Any, _name: str = name, _real: Any = real) -> Any:
            calls[_name] += 1
            return _real(self, *args)

        monkeypatch.setattr(FakeRollupStore, name, counted)
    return calls


def test_a_lead_per_batch_is_written_in_one_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    deps = fake_deps()
    calls = _counting(monkeypatch)
    records = _records()
    leads = sorted({r["lead_id"] for r in records})
    for lead_id in leads:
        applied = apply_items(deps, [r for r in records if r["lead_id"] == lead_id])
        assert applied.ledgers_changed == 1 and applied.days_written >= 1 and not applied.failed_leads
    assert calls == {"save_together": len(leads), "save_ledger": 0, "save_day": 0}
    assert _dashboard_from_rollups(deps) == _expected()
    assert apply_items(deps, records[:5]).days_written == 0          # again: nothing to write
    assert calls["save_together"] == len(leads)


def test_a_batch_too_big_for_one_transaction_is_saved_item_by_item(monkeypatch: pytest.MonkeyPatch) -> None:
    deps = fake_deps()
    calls = _counting(monkeypatch)
    assert not apply_items(deps, _records()).failed_leads           # nine leads: more than TOGETHER_MAX items
    assert calls["save_together"] == 0 and calls["save_ledger"] == 9 and calls["save_day"] >= 1
    assert _dashboard_from_rollups(deps) == _expected()


def test_a_transaction_that_loses_a_race_is_saved_item_by_item(monkeypatch: pytest.MonkeyPatch) -> None:
    deps = fake_deps()
    records = _records()
    apply_items(deps, [r for r in records if r["lead_id"] == "L0"])
    real = FakeRollupStore.save_together

    def raced(self: FakeRollupStore, ledgers: Any, days: Any) -> None:
        for day in days:                                # another consumer wrote each of its days meanwhile
            held = self.state.rollup_days.get((day.account_id, day.day))
            self.state.rollup_days[(day.account_id, day.day)] = DayRollup(
                day.account_id, day.day, dict(held.entries) if held else {}, day.version + 1)
        real(self, ledgers, days)

    monkeypatch.setattr(FakeRollupStore, "save_together", raced)
    calls = _counting(monkeypatch)
    applied = apply_items(deps, [r for r in records if r["lead_id"] == "L1"])
    assert calls["save_together"] == 1 and calls["save_ledger"] == 1 and calls["save_day"] >= 1
    assert applied.ledgers_changed == 1 and applied.days_written >= 1 and not applied.failed_leads
    assert deps.state.ledgers["L1"].version == 1                  # the failed transaction wrote nothing
    monkeypatch.undo()
    for lead_id in sorted({r["lead_id"] for r in records} - {"L0", "L1"}):
        apply_items(deps, [r for r in records if r["lead_id"] == lead_id])
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
