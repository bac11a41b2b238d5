"""The assistant figures (domain/reports/assistant.py) of a hand-worked history: from the raw
events (the recomputation) and from rollups applied out of order and twice, for random periods
and cutoffs, the two agree; and for the history's own period they are what was worked out by hand."""

from __future__ import annotations

import random
from datetime import date, timedelta

from chalicelib.domain.reports import assistant
from chalicelib.domain.reports.fold import fold, fold_events
from chalicelib.domain.reports.ledger import from_ms, to_ms
from chalicelib.domain.reports.periods import window
from chalicelib.domain.reports.rollup import store_slice
from tests.unit.assistant_history import BY_CADENCE, TIMEZONE, TOTALS, history
from tests.unit.test_reports_ledger import _rollup


def test_the_hand_worked_figures_from_the_events_and_from_a_rollup() -> None:
    events = history().events
    wins = {"acc_main": window("acc_main", TIMEZONE, date(2026, 11, 2), date(2026, 11, 3))}
    as_of = "2026-11-05T00:00:00.000Z"
    expected = {**TOTALS, "by_cadence": BY_CADENCE}
    assert assistant.figures(fold_events(events, wins, as_of).leads.values()) == expected
    days = _rollup(events, random.Random(5))
    assert assistant.figures(fold([store_slice("acc_main", days.values())], wins, as_of).leads.values()) == expected


def test_rollups_and_the_recomputation_agree_for_any_period_and_cutoff() -> None:
    events = history().events
    rng = random.Random(14)
    for trial in range(12):
        days = _rollup(events, rng)
        first = date(2026, 11, 1) + timedelta(days=rng.randrange(0, 3))
        last = first + timedelta(days=rng.randrange(0, 3))
        wins = {"acc_main": window("acc_main", TIMEZONE, first, last)}
        as_of = from_ms(to_ms("2026-11-01T15:00:00.000Z") + rng.randrange(0, 4 * 86400) * 1000)
        expected = assistant.figures(fold_events(events, wins, as_of).leads.values())
        got = assistant.figures(fold([store_slice("acc_main", days.values())], wins, as_of).leads.values())
        assert got == expected, (trial, first, last, as_of)


def test_a_later_enrolment_names_the_cadence() -> None:
    events = history().events
    renamed = [dict(e, data={**e["data"], "name": "Speed to lead v2"})
               if e["lead_id"] == "L5" and e["kind"] == "cadence_enrolled" and e["data"]["cadence_id"] == "cad_speed"
               else e for e in events]
    wins = {"acc_main": window("acc_main", TIMEZONE, date(2026, 11, 2), date(2026, 11, 3))}
    rows = assistant.figures(fold_events(renamed, wins, "2026-11-05T00:00:00.000Z").leads.values())["by_cadence"]
    assert [(r["cadence_id"], r["name"], r["enrolled"]) for r in rows] == [
        ("cad_service", "Service follow-up", 1), ("cad_speed", "Speed to lead v2", 5)]
