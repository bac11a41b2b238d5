"""The report ports' contract, run against the fakes of tests/fakes.py and the DynamoDB
repositories under moto: ledgers and rollup days saved once per version (named conflicts),
read back as saved, a store's days by range; the raw report record by store, time and person."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.clock import parse_time
from chalicelib.deps import Deps
from chalicelib.domain.accounts import Account
from chalicelib.domain.leads import Lead
from chalicelib.domain.records import report_event
from chalicelib.domain.reports.fold import fold
from chalicelib.domain.reports.ledger import DayShare, LeadLedger, ledgers_from
from chalicelib.domain.reports.rollup import LedgerChanged, RollupDayChanged, store_slice
from chalicelib.domain.scoring import ScoreEvent
from tests.unit.test_reports_golden import AS_OF, main_history, main_window

NOW = "2026-11-05T00:00:00.000Z"


@pytest.fixture
def contract_now() -> str:
    return NOW


def test_a_ledger_is_saved_once_per_version(deps: Deps) -> None:
    ledger = ledgers_from(main_history().events)["L1"]
    assert deps.rollups.ledger("L1") is None and deps.rollups.ledgers(["L1"]) == {}
    deps.rollups.save_ledger(ledger)
    assert ledger.version == 1
    stale = deps.rollups.ledger("L1")
    assert stale is not None and stale.facts == ledger.facts and stale.version == 1
    fresh = deps.rollups.ledgers(["L1", "L2"])["L1"]
    deps.rollups.save_ledger(fresh)
    with pytest.raises(LedgerChanged):
        deps.rollups.save_ledger(stale)
    with pytest.raises(LedgerChanged):
        deps.rollups.save_ledger(LeadLedger("L1", "acc_main"))      # a first write over a saved one
    ledgers, days = deps.rollups.ledgers_and_days(["L1", "L2"], [("acc_main", "2026-10-30")])
    assert list(ledgers) == ["L1"] and ledgers["L1"].version == 2 and ledgers["L1"].facts == ledger.facts
    assert days[("acc_main", "2026-10-30")].version == 0  # none saved: an empty, unsaved day


def test_a_day_is_saved_once_per_version_and_read_back_by_range(deps: Deps) -> None:
    ledgers = ledgers_from(main_history().events)
    wanted = {("acc_main", d) for ledger in ledgers.values() for d in ledger.shares()}
    days = deps.rollups.days(wanted)
    assert all(d.version == 0 and not d.entries for d in days.values())
    for ledger in ledgers.values():
        for day, share in ledger.shares().items():
            days[("acc_main", day)].take(ledger.lead_id, 1, share)
    for day in days.values():
        deps.rollups.save_day(day)
    stale = deps.rollups.day("acc_main", "2026-10-30")
    again = deps.rollups.days([("acc_main", "2026-10-30")])[("acc_main", "2026-10-30")]
    again.take("L1", 2, DayShare())
    deps.rollups.save_day(again)
    with pytest.raises(RollupDayChanged):
        deps.rollups.save_day(stale)
    both_ledgers, both_days = deps.rollups.ledgers_and_days(["L1", "L9"], [("acc_main", "2026-10-30"),
                                                                           ("acc_main", "1999-01-01")])
    assert both_ledgers == {}  # none saved in this test
    assert both_days[("acc_main", "2026-10-30")].version == again.version
    assert both_days[("acc_main", "2026-10-30")].entries == again.entries
    assert (both_days[("acc_main", "1999-01-01")].version, both_days[("acc_main", "1999-01-01")].entries) == (0, {})
    read = deps.rollups.read_days("acc_main", date(2026, 10, 29), date(2026, 11, 3))
    assert [d.day for d in read] == sorted(d for _a, d in wanted if "2026-10-29" <= d <= "2026-11-03")
    assert deps.rollups.read_days("acc_other", date(2026, 10, 29), date(2026, 11, 3)) == []
    # what was saved folds as the ledgers do (L1 now holds an empty share on 10-30: gone from the cohort)
    folded = fold([store_slice("acc_main", read)], main_window(), AS_OF)
    assert sorted(folded.leads) == ["L2", "L3", "L4", "L5", "L6", "L7"]


def test_ledgers_and_days_are_saved_together_or_not_at_all(deps: Deps) -> None:
    ledger = ledgers_from(main_history().events)["L1"]
    day = deps.rollups.day("acc_main", "2026-10-30")
    for name, share in ledger.shares().items():
        if name == "2026-10-30":
            day.take("L1", 1, share)
    deps.rollups.save_together([ledger], [day])
    assert (ledger.version, day.version) == (1, 1)
    saved_ledgers, saved_days = deps.rollups.ledgers_and_days(["L1"], [("acc_main", "2026-10-30")])
    assert saved_ledgers["L1"].facts == ledger.facts and saved_ledgers["L1"].version == 1
    saved_day = saved_days[("acc_main", "2026-10-30")]
    assert list(saved_day.entries) == ["L1"] and saved_day.entries["L1"][0] == 1 and saved_day.version == 1
    stale_day = deps.rollups.day("acc_main", "2026-10-30")
    fresh = deps.rollups.ledger("L1")
    assert fresh is not None
    deps.rollups.save_day(deps.rollups.day("acc_main", "2026-10-30"))       # someone else moves the day
    with pytest.raises(RollupDayChanged):
        deps.rollups.save_together([fresh], [stale_day])
    kept = deps.rollups.ledger("L1")
    assert kept is not None and kept.version == 1                         # the ledger was not written either
    with pytest.raises(LedgerChanged):
        deps.rollups.save_together([LeadLedger("L1", "acc_main")], [])     # a first write over a saved one


def _stored_events(deps: Deps) -> None:
    lead = Lead(lead_id="L1", account_id="acc_1", group_id="grp_1", created_at=NOW, received_at=NOW,
                last_activity_at=NOW, awaiting_since="2026-11-04T10:00:00.000Z")
    writes = list(deps.leads.create(lead))
    for n, (kind, at) in enumerate([("lead_received", "2026-11-04T10:00:00Z"), ("offer_made", "2026-11-04T10:00:01Z"),
                                    ("note_added", "2026-11-05T00:00:00Z")]):
        writes.append(deps.leads.add_report(report_event(lead, kind, parse_time(at), user_id="usr_a" if n else None)))
    writes.append(deps.leads.add_score(ScoreEvent(event_id="scr_1", user_id="usr_a", account_id="acc_1",
                                                  lead_id="L1", at="2026-11-04T10:00:01.000Z", reason="decline",
                                                  points=1)))
    deps.transactions.commit(writes)


def test_the_report_record_by_store_time_and_person(deps: Deps) -> None:
    _stored_events(deps)
    found = deps.report_records.events_between("acc_1", parse_time("2026-11-04T00:00:00Z"),
                                               parse_time("2026-11-04T23:59:59Z"))
    assert [e["kind"] for e in found] == ["lead_received", "offer_made"]
    assert {k for k in found[1] if k != "data"} == {"event_id", "account_id", "kind", "at", "lead_id", "user_id"}
    assert deps.report_records.events_between("acc_2", parse_time("2026-11-04T00:00:00Z"),
                                              parse_time("2026-11-05T00:00:00Z")) == []
    items = deps.report_records.score_items("usr_a", "2026-11-04T00:00:00.000Z", "2026-11-04T10:00:01.000Z")
    assert [(i["type"], i["points"], i["lead_id"]) for i in items] == [("score", 1, "L1")]
    assert deps.report_records.score_entries("usr_a", "2026-11-04T00:00:00.000Z", "2026-11-04T10:00:01.000Z") == []
    assert [entry.points for entry in deps.report_records.score_entries(
        "usr_a", "2026-11-04T00:00:00.000Z", "2026-11-05T00:00:00.000Z")] == [1]
    waiting = deps.report_records.awaiting("acc_1", "2026-11-04T12:00:00.000Z", None, 10)
    assert [lead.lead_id for _p, lead in waiting] == ["L1"]
    assert deps.report_records.awaiting("acc_1", "2026-11-04T12:00:00.000Z", waiting[0][0], 10) == []


def test_every_store_is_listed_for_the_nightly_fan_out(deps: Deps) -> None:
    for n in (2, 1):
        deps.accounts.create(Account(account_id=f"acc_{n}", group_id="grp_1", name=f"Store {n}",
                                     timezone="America/New_York", created_at=NOW, updated_at=NOW, api_key=f"k{n}"))
    assert deps.report_records.all_account_ids() == ["acc_1", "acc_2"]
