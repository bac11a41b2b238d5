"""The rollup's pure parts: a lead's ledger is a set of facts (duplicates and order change
nothing), a day keeps the newest version of each lead's share, and folding stored summaries
gives what folding the raw events gives — for the golden history and any period of it."""

from __future__ import annotations

import random
from datetime import date, timedelta

from chalicelib.domain.reports import figures
from chalicelib.domain.reports.fold import StoreSlice, fold, fold_events
from chalicelib.domain.reports.ledger import (
    RESPONSE,
    DayShare,
    LeadLedger,
    from_ms,
    ledgers_from,
    report_fact,
    to_ms,
)
from chalicelib.domain.reports.periods import window
from chalicelib.domain.reports.rollup import DayRollup, shares_to_write, store_slice
from tests.unit.reports_history import History
from tests.unit.test_reports_golden import AS_OF, NAMES, NY, A, B, C, main_history, main_scores, main_window


def _rollup(events: list[dict[str, object]], rng: random.Random) -> dict[str, DayRollup]:
    """Apply the events one at a time, shuffled and some twice, as a consumer would: each change
    of a ledger is a new version whose shares go to their days, in a shuffled order of writes."""
    ledgers: dict[str, LeadLedger] = {}
    writes: list[tuple[str, str, int, DayShare]] = []
    delivered = list(events) + rng.sample(events, len(events) // 3)
    rng.shuffle(delivered)
    for e in delivered:
        fact = report_fact(e)
        if fact is None:
            continue
        ledger = ledgers.setdefault(str(e["lead_id"]), LeadLedger(str(e["lead_id"]), str(e["account_id"])))
        before = ledger.shares()
        if ledger.add(fact):
            ledger.version += 1
        for day, share in shares_to_write(before, ledger).items():
            writes.append((day, ledger.lead_id, ledger.version, share))
    rng.shuffle(writes)     # racing writers: an older version may land after a newer one
    days: dict[str, DayRollup] = {}
    for day, lead_id, version, share in writes:
        days.setdefault(day, DayRollup("acc_main", day)).take(lead_id, version, share)
    return days


def test_a_ledger_is_a_set_of_facts() -> None:
    events = main_history().events
    once = ledgers_from(events)
    shuffled = list(events) * 2
    random.Random(5).shuffle(shuffled)
    twice = ledgers_from(shuffled)
    assert {k: v.facts for k, v in once.items()} == {k: v.facts for k, v in twice.items()}
    assert {k: v.summary() for k, v in once.items()} == {k: v.summary() for k, v in twice.items()}


def test_a_day_keeps_the_newest_share_of_each_lead() -> None:
    day = DayRollup("acc", "2026-10-30")
    newer, older = DayShare(), DayShare()
    assert day.take("L1", 3, newer) is False          # nothing to hold yet, nothing held
    ledger = ledgers_from(main_history().events)["L1"]
    share = ledger.shares()["2026-10-30"]
    assert day.take("L1", 3, share) is True
    assert day.take("L1", 2, older) is False and day.entries["L1"] == (3, share)
    assert day.take("L1", 3, older) is False
    assert day.take("L1", 4, newer) is True and day.entries["L1"] == (4, newer)


def test_only_the_first_response_after_arrival_is_kept() -> None:
    h = History()
    h.lead("L", "2026-10-30T14:00:00Z")
    h.respond("L", "2026-10-30T13:00:00Z", A)   # before the lead's arrival (a clock ahead): kept
    h.respond("L", "2026-10-30T14:10:00Z", A)
    h.respond("L", "2026-10-30T14:20:00Z", B)
    h.respond("L", "2026-10-30T14:05:00Z", B, automated=True)
    summary = ledgers_from(h.events)["L"].summary()
    assert summary is not None
    assert [(off, user) for off, code, user, _ in summary.facts if code == RESPONSE] == [(-3600000, A), (600000, A)]


def test_stored_rollups_fold_to_the_recomputation_for_any_period_and_cutoff() -> None:
    events = main_history().events
    rng = random.Random(11)
    for trial in range(12):
        days = _rollup(events, rng)
        first = date(2026, 10, 28) + timedelta(days=rng.randrange(0, 5))
        last = date(2026, 11, rng.randrange(1, 4))
        wins = {"acc_main": window("acc_main", NY, first, last)}
        as_of = from_ms(to_ms("2026-10-30T15:00:00.000Z") + rng.randrange(0, 7 * 86400) * 1000)
        expected = fold_events(events, wins, as_of)
        got = fold([store_slice("acc_main", days.values())], wins, as_of)
        assert got.leads == expected.leads, (trial, first, last, as_of)
        assert got.agents == expected.agents and got.requests == expected.requests, trial
        assert figures.dashboard(got, [], NAMES, [A, B, C]) == figures.dashboard(expected, [], NAMES, [A, B, C])


def test_golden_dashboard_from_a_rollup_applied_out_of_order() -> None:
    days = _rollup(main_history().events, random.Random(3))
    report = figures.dashboard(fold([store_slice("acc_main", days.values())], main_window(), AS_OF), main_scores(),
                               NAMES, [A, B, C])
    assert (report["leads"], report["accepted"], report["delinquent"]) == (7, 6, 1)
    assert report["time_to_accept"] == {"median_s": 600.0, "mean_s": 22550.0}
    assert {r["name"]: r["score"] for r in report["agents"]} == {"Ann": 103, "Bob": 103, "Cat": 100, "Max": 100}


def test_a_slice_prefers_the_live_tail_for_a_lead() -> None:
    events = main_history().events
    days = _rollup(events, random.Random(1))
    tail = ledgers_from(events)["L6"]
    extra = dict(events[0], event_id="rev_tail", kind="offer_accepted", lead_id="L6", user_id=A,
                 at="2026-11-02T15:02:00.000Z", data={"catchall": False})
    fact = report_fact(extra)
    assert fact is not None and tail.add(fact)
    overrides = {"L6": tail.shares()}
    folded = fold([store_slice("acc_main", days.values(), overrides)], main_window(), AS_OF)
    assert folded.leads["L6"].owner == A
    assert sum(1 for _ in store_slice("acc_main", days.values(), overrides).leads) == 9   # L0..L8, each once


def test_a_store_slice_ignores_other_windows() -> None:
    got = fold([StoreSlice("acc_other", [])], main_window(), AS_OF)
    assert got.leads == {}
