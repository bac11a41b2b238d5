"""Golden tests: hand-built histories, every expected figure worked out by hand below.

Store "Main" (America/New_York): Mon-Fri 09:00-12:00 and 13:00-18:00 (closed for lunch),
Sat 10:00-14:00, Sun closed; holiday 2026-11-26 (Thanksgiving).
US DST ended on Sun 2026-11-01 02:00: Fri 10-30 and Sat 10-31 are EDT (UTC-4),
Mon 11-02 onwards EST (UTC-5).

Period 2026-10-30 (Fri) .. 2026-11-02 (Mon) in New York: the window is
2026-10-30T04:00Z (midnight EDT) to 2026-11-03T05:00Z (midnight EST), as_of 2026-11-05T00:00Z.
People: agents A, B, C (C never touched a lead), manager M (the catch-all)."""

from __future__ import annotations

import random
from datetime import date

import pytest

from chalicelib.domain.business_hours import BusinessHours
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.reports import csv_files, figures
from chalicelib.domain.reports.calendar import OpeningCalendar
from chalicelib.domain.reports.fold import fold_events
from chalicelib.domain.reports.ledger import to_ms
from chalicelib.domain.reports.periods import window
from chalicelib.domain.reports.response import response_leads
from chalicelib.domain.reports.stats import parse_buckets
from tests.unit.reports_history import History

NY = "America/New_York"
MAIN_HOURS = {"mon": [["09:00", "12:00"], ["13:00", "18:00"]], "tue": [["09:00", "12:00"], ["13:00", "18:00"]],
              "wed": [["09:00", "12:00"], ["13:00", "18:00"]], "thu": [["09:00", "12:00"], ["13:00", "18:00"]],
              "fri": [["09:00", "12:00"], ["13:00", "18:00"]], "sat": [["10:00", "14:00"]], "sun": []}
MAIN = BusinessHours(NY, MAIN_HOURS, frozenset({"2026-11-26"}))
A, B, C, M = "usr_a", "usr_b", "usr_c", "usr_m"
NAMES = {A: "Ann", B: "Bob", C: "Cat", M: "Max"}
AS_OF = "2026-11-05T00:00:00.000Z"


def main_history() -> History:
    h = History()
    # L0 arrived the day before the period: neither it nor its outcomes inside the period count.
    h.lead("L0", "2026-10-29T15:00:00Z")
    h.offer("L0", "2026-10-29T15:00:00Z", A, "accepted", "2026-10-30T14:01:00Z")
    h.add("status_changed", "2026-10-30T14:02:00Z", "L0", A, **{"from": "new", "to": "hot"})
    h.respond("L0", "2026-10-30T14:03:00Z", A)
    h.target("L0", "2026-10-30T14:03:00Z", A, met=True)

    # L1 Fri 10:00 EDT (14:00Z), open. A accepts after 300 s, answers 20 min after arrival (1200 s).
    h.lead("L1", "2026-10-30T14:00:00Z", "Website")
    h.offer("L1", "2026-10-30T14:00:00Z", A, "accepted", "2026-10-30T14:05:00Z")
    h.respond("L1", "2026-10-30T14:20:00Z", A)
    h.target("L1", "2026-10-30T14:20:00Z", A, met=True)        # A's first-response deadline: met
    h.add("status_changed", "2026-10-30T14:30:00Z", "L1", A, **{"from": "new", "to": "hot"})
    h.add("feedback", "2026-10-30T15:00:00Z", "L1", A, contact_status="contacted", comment_chars=90)
    h.add("note_added", "2026-10-30T15:10:00Z", "L1", M)  # M's note on A's lead: not A's comment
    h.add("appointment_created", "2026-10-31T15:00:00Z", "L1", A)
    h.add("appointment_showed", "2026-11-02T15:00:00Z", "L1", A)
    h.add("feedback", "2026-11-02T16:00:00Z", "L1", A, contact_status="closed_won", comment_chars=0)
    h.add("status_changed", "2026-11-02T17:00:00Z", "L1", A, **{"from": "hot", "to": "sold"})

    # L2 Fri 12:30 EDT (16:30Z): closed for lunch, the clock starts at 13:00 EDT (17:00Z).
    # A declines, B times out, the catch-all M accepts at 16:40Z (600 s). M answers 17:30Z: 1800 s.
    h.lead("L2", "2026-10-30T16:30:00Z", "Website", phone=False)
    h.offer("L2", "2026-10-30T16:30:00Z", A, "declined", "2026-10-30T16:31:00Z")
    h.offer("L2", "2026-10-30T16:31:00Z", B, "timed_out", "2026-10-30T16:36:00Z")
    h.offer("L2", "2026-10-30T16:36:00Z", M, "accepted", "2026-10-30T16:40:00Z", catchall=True)
    h.respond("L2", "2026-10-30T17:30:00Z", M, activity="call")
    h.target("L2", "2026-10-30T17:30:00Z", M, met=True)
    h.add("feedback", "2026-10-30T18:00:00Z", "L2", M, contact_status="closed_lost", comment_chars=10)

    # L3 Fri 19:00 EDT (23:00Z), after closing: clock starts Sat 10:00 EDT (10-31 14:00Z).
    # The automated reply 5 s after arrival does not count. B accepts Sat 13:00Z (14 h = 50400 s),
    # answers Sat 14:30Z: 1800 s after the opening.
    h.lead("L3", "2026-10-30T23:00:00Z", "CarSite")
    h.respond("L3", "2026-10-30T23:00:05Z", None, automated=True)
    h.offer("L3", "2026-10-30T23:00:00Z", B, "accepted", "2026-10-31T13:00:00Z")
    h.target("L3", "2026-10-31T14:15:00Z", B, met=False)       # missed at 14:15Z, answered late at 14:30Z
    h.respond("L3", "2026-10-31T14:30:00Z", B)
    h.add("appointment_created", "2026-10-31T16:00:00Z", "L3", B)
    h.add("appointment_no_show", "2026-11-02T16:00:00Z", "L3", B)
    h.add("feedback", "2026-11-02T16:30:00Z", "L3", B, contact_status="not_contacted", comment_chars=0)

    # L4 Sat 15:00 EDT (19:00Z), after Saturday's 14:00 closing; Sunday closed; DST ends overnight:
    # the clock starts Mon 09:00 EST = 11-02 14:00Z (not 13:00Z). B answers 14:10Z: 600 s.
    # A times out, B accepts at 19:10Z (600 s).
    h.lead("L4", "2026-10-31T19:00:00Z", "CarSite", email=False)
    h.offer("L4", "2026-10-31T19:00:00Z", A, "timed_out", "2026-10-31T19:05:00Z")
    h.offer("L4", "2026-10-31T19:05:00Z", B, "accepted", "2026-10-31T19:10:00Z")
    h.add("status_changed", "2026-10-31T19:20:00Z", "L4", B, **{"from": "new", "to": "hot"})
    h.respond("L4", "2026-11-02T14:10:00Z", B)
    h.target("L4", "2026-11-02T14:10:00Z", B, met=True)
    h.target("L4", "2026-11-02T18:00:00Z", B, met=False, deadline_kind="reply")  # the customer wrote again
    h.add("feedback", "2026-11-02T14:20:00Z", "L4", B, contact_status="in_progress", comment_chars=0)

    # L5 Sun 11:00 EST (16:00Z): nobody takes it, it goes delinquent; A claims it Mon 15:00Z
    # (23 h = 82800 s to accept). Never answered: not responded, counted on its owner A.
    h.lead("L5", "2026-11-01T16:00:00Z", "Website")
    h.offer("L5", "2026-11-01T16:00:00Z", A, "timed_out", "2026-11-01T16:05:00Z")
    h.offer("L5", "2026-11-01T16:05:00Z", B, "declined", "2026-11-01T16:06:00Z")
    h.offer("L5", "2026-11-01T16:06:00Z", M, "timed_out", "2026-11-01T16:11:00Z", catchall=True)
    h.add("lead_delinquent", "2026-11-01T16:11:00Z", "L5")
    h.add("lead_requeued", "2026-11-02T15:00:00Z", "L5", A)
    h.add("note_added", "2026-11-02T15:05:00Z", "L5", A)
    h.target("L5", "2026-11-02T15:30:00Z", A, met=False)

    # L6 Mon 10:00 EST (15:00Z): offered to A, still pending. A repeat request from the same
    # person (CarSite, no email) joins L1 at 15:30Z: a duplicate, not a lead.
    h.lead("L6", "2026-11-02T15:00:00Z", "Website")
    h.add("offer_made", "2026-11-02T15:00:00Z", "L6", A, offer_id="ofr_L6", catchall=False)
    h.add("lead_coalesced", "2026-11-02T15:30:00Z", "L1", None, source="CarSite", source_group=None, campaign=None,
          channel="web", has_email=False, has_phone=True, received_at="2026-11-02T15:30:00Z", coalesced_into="L1")

    # L7 Mon 15:00 EST (20:00Z): M assigns it to B at 20:10Z (600 s). B calls on 11-03 at 21:00Z,
    # after the period but before as_of: 25 h = 90000 s, not within 24 h.
    h.lead("L7", "2026-11-02T20:00:00Z", "Referral", email=False, phone=False)
    h.add("lead_assigned", "2026-11-02T20:10:00Z", "L7", B, by=M)
    h.target("L7", "2026-11-02T20:40:00Z", B, met=False)
    h.respond("L7", "2026-11-03T21:00:00Z", B, activity="call")
    h.target("L7", "2026-11-05T00:01:00Z", B, met=False, deadline_kind="reply")  # after as_of: not counted

    # L8 arrives after the period (Tue 11-03 09:00 EST).
    h.lead("L8", "2026-11-03T14:00:00Z", "Website")
    h.offer("L8", "2026-11-03T14:00:00Z", A, "accepted", "2026-11-03T14:01:00Z")
    return h


def main_window():  # type: ignore[no-untyped-def]
    return {"acc_main": window("acc_main", NY, date(2026, 10, 30), date(2026, 11, 2))}


def main_scores() -> list[figures.ScoreEntry]:
    def e(user: str, at: str, points: int) -> figures.ScoreEntry:
        return figures.ScoreEntry(user, "acc_main", to_ms(at), points)

    return [
        e(A, "2026-10-29T15:10:00.000Z", 2),   # before the window: not counted
        # A: accept +2, decline +1, timeout -5, timeout -5, requeue +4, accept +2, feedback 1+1+1, closed +1
        e(A, "2026-10-30T14:05:00.000Z", 2), e(A, "2026-10-30T16:31:00.000Z", 1),
        e(A, "2026-10-31T19:05:00.000Z", -5), e(A, "2026-11-01T16:05:00.000Z", -5),
        e(A, "2026-11-02T15:00:00.000Z", 4), e(A, "2026-11-02T15:00:00.000Z", 2),
        e(A, "2026-10-30T15:00:00.000Z", 1), e(A, "2026-10-30T15:00:00.000Z", 1),
        e(A, "2026-10-30T15:00:00.000Z", 1), e(A, "2026-11-02T16:00:00.000Z", 1),
        e(A, "2026-11-03T14:01:00.000Z", 2),   # after the window (11-03 05:00Z): not counted
        # B: timeout -5, accept +2, accept +2, decline +1, assigned +1, feedback +1, +1
        e(B, "2026-10-30T16:36:00.000Z", -5), e(B, "2026-10-31T13:00:00.000Z", 2),
        e(B, "2026-10-31T19:10:00.000Z", 2), e(B, "2026-11-01T16:06:00.000Z", 1),
        e(B, "2026-11-02T20:10:00.000Z", 1), e(B, "2026-11-02T14:20:00.000Z", 1),
        e(B, "2026-11-02T16:30:00.000Z", 1),
        # M: accept +2, timeout -5, feedback status +1, comment +1, closed +1
        e(M, "2026-10-30T16:40:00.000Z", 2), e(M, "2026-11-01T16:11:00.000Z", -5),
        e(M, "2026-10-30T18:00:00.000Z", 1), e(M, "2026-10-30T18:00:00.000Z", 1),
        e(M, "2026-10-30T18:00:00.000Z", 1),
    ]


def test_window_spans_the_dst_weekend_in_local_midnights() -> None:
    win = main_window()["acc_main"]
    assert (win.start, win.end) == ("2026-10-30T04:00:00.000Z", "2026-11-03T05:00:00.000Z")


def test_dashboard_headline_figures() -> None:
    report = figures.dashboard(fold_events(main_history().events, main_window(), AS_OF), main_scores(), NAMES,
                               roster=[A, B, C])
    # L1..L7 (L0 before, L8 after, the coalesced request is not a lead)
    assert report["leads"] == 7
    # L1 offer (A), L2 catch-all offer (M), L3, L4 offers (B), L5 claim (A), L7 assignment (B); L6 pending
    assert report["accepted"] == 6
    assert report["acceptance_rate"] == 0.8571        # 6 / 7
    assert report["catchall_accepted"] == 1           # L2
    assert report["catchall_acceptance_rate"] == 0.1429
    assert report["delinquent"] == 1                  # L5 (even though A claimed it later)
    # 300, 600, 600, 600, 50400, 82800 -> median (600 + 600) / 2; mean 135300 / 6
    assert report["time_to_accept"] == {"median_s": 600.0, "mean_s": 22550.0}
    # deadlines decided by as_of for L1..L7: met L1 (A), L2 (M), L4 (B); missed L3, L4's reply, L7 (B), L5 (A).
    # L0's (before the period) and L7's second (after as_of) are not counted. 3 of 7 = 42.9 %
    assert (report["targets_met"], report["targets_missed"], report["targets_met_pct"]) == (3, 4, 42.9)


def _rows(report):  # type: ignore[no-untyped-def]
    return {r["user_id"]: r for r in report["agents"]}


def main_calendars() -> dict[str, OpeningCalendar]:
    win = main_window()["acc_main"]
    return {"acc_main": OpeningCalendar(MAIN, win.start_at, win.end_at)}


def test_dashboard_agent_rows() -> None:
    report = figures.dashboard(fold_events(main_history().events, main_window(), AS_OF), main_scores(), NAMES,
                               roster=[A, B, C], calendars=main_calendars())
    rows = _rows(report)
    assert [r["name"] for r in report["agents"]] == ["Ann", "Bob", "Cat", "Max"]
    # A: offered L1 L2 L4 L5 L6; declined L2; timed out L4 L5; accepted L1 (offer) + L5 (claim);
    # owns L1 (latest feedback closed_won) and L5 (none); comments: L1 feedback (90 chars) + L5 note = 2 / 2 leads.
    # score 100 + 2 + 1 - 5 - 5 + 4 + 2 + 1 + 1 + 1 + 1 = 103
    assert rows[A] == {"user_id": A, "name": "Ann", "score": 103, "offered": 5, "accepted": 2, "declined": 1,
                       "timed_out": 2, "assigned": 0, "claimed": 1, "owned": 2, "contacted": 0, "not_contacted": 0,
                       "in_progress": 0, "closed_won": 1, "closed_lost": 0, "comments": 2,
                       "avg_comments_per_lead": 1.0,
                       # L1 answered in 1200 s (L5 never); L1's deadline met, L5's missed
                       "first_response_median_s": 1200.0, "targets_met": 1, "targets_missed": 1}
    # B: offered L2 L3 L4 L5; timed out L2; declined L5; accepted L3 L4; assigned L7; owns L3 L4 L7;
    # feedback L3 not_contacted, L4 in_progress; score 100 - 5 + 2 + 2 + 1 + 1 + 1 + 1 = 103
    assert rows[B] == {"user_id": B, "name": "Bob", "score": 103, "offered": 4, "accepted": 2, "declined": 1,
                       "timed_out": 1, "assigned": 1, "claimed": 0, "owned": 3, "contacted": 0, "not_contacted": 1,
                       "in_progress": 1, "closed_won": 0, "closed_lost": 0, "comments": 0,
                       "avg_comments_per_lead": 0.0,
                       # L3 1800, L4 600, L7 90000 s (business hours) -> median 1800; met L4; missed L3,
                       # L4's reply deadline, L7
                       "first_response_median_s": 1800.0, "targets_met": 1, "targets_missed": 3}
    # M (catch-all): offered L2 L5; timed out L5; accepted L2; owns L2 (closed_lost, one comment);
    # the note on A's L1 is not a comment on M's own lead. Score 100 + 2 - 5 + 1 + 1 + 1 = 100
    assert rows[M] == {"user_id": M, "name": "Max", "score": 100, "offered": 2, "accepted": 1, "declined": 0,
                       "timed_out": 1, "assigned": 0, "claimed": 0, "owned": 1, "contacted": 0, "not_contacted": 0,
                       "in_progress": 0, "closed_won": 0, "closed_lost": 1, "comments": 1,
                       "avg_comments_per_lead": 1.0,
                       "first_response_median_s": 1800.0, "targets_met": 1, "targets_missed": 0}
    assert rows[C]["score"] == 100 and rows[C]["offered"] == 0 and rows[C]["owned"] == 0
    assert (rows[C]["first_response_median_s"], rows[C]["targets_met"], rows[C]["targets_missed"]) == (None, 0, 0)
    totals = figures.agent_totals(report["agents"])
    assert totals["offered"] == 11 and totals["owned"] == 6 and totals["comments"] == 3
    assert totals["avg_comments_per_lead"] == 0.5     # 3 comments / 6 owned leads
    assert (totals["targets_met"], totals["targets_missed"]) == (3, 4)


def test_an_agents_median_is_the_median_of_their_response_time_row() -> None:
    fold = fold_events(main_history().events, main_window(), AS_OF)
    board = figures.dashboard(fold, main_scores(), NAMES, [A, B, C], calendars=main_calendars())
    by_agent = figures.response_time(fold, "agent", parse_buckets(None), main_calendars(), NAMES)
    medians = {r["key"]: r["median_s"] for r in by_agent["items"] if r["key"] in NAMES}
    assert {r["user_id"]: r["first_response_median_s"] for r in board["agents"] if r["user_id"] in medians} == medians
    # on wall-clock time (no calendar) B's median is L7's 90000 s: L3 waited 55800 s, L4 144600 s
    wall = figures.dashboard(fold, main_scores(), NAMES, [A, B, C])
    assert {r["user_id"]: r["first_response_median_s"] for r in wall["agents"]}[B] == 90000.0


def test_response_time_detail_rows() -> None:
    fold = fold_events(main_history().events, main_window(), AS_OF)
    rows = response_leads(fold, main_calendars())
    # oldest first; the rows are the report's leads, L1..L7
    assert [r["lead_id"] for r in rows] == ["L1", "L2", "L3", "L4", "L5", "L6", "L7"]
    by_id = {r["lead_id"]: r for r in rows}
    assert by_id["L2"] == {
        "lead_id": "L2", "account_id": "acc_main", "source": "Website", "assigned_to": M, "responded_by": M,
        "received_at": "2026-10-30T16:30:00.000Z", "clock_started_at": "2026-10-30T17:00:00.000Z",  # after lunch
        "first_response_at": "2026-10-30T17:30:00.000Z", "first_response_kind": "call", "response_s": 1800.0,
        "within_target": True}
    # L3: the clock started at Saturday's opening; the deadline was missed, the late answer 1800 s in
    assert (by_id["L3"]["clock_started_at"], by_id["L3"]["response_s"], by_id["L3"]["within_target"]) == (
        "2026-10-31T14:00:00.000Z", 1800.0, False)
    # L4: first response met, its later reply deadline missed: the lead's first response was within target
    assert (by_id["L4"]["clock_started_at"], by_id["L4"]["within_target"]) == ("2026-11-02T14:00:00.000Z", True)
    # L5 claimed by A, never answered; L6 pending: nobody owns it, no target
    assert (by_id["L5"]["assigned_to"], by_id["L5"]["first_response_at"], by_id["L5"]["response_s"],
            by_id["L5"]["within_target"]) == (A, None, None, False)
    assert (by_id["L6"]["assigned_to"], by_id["L6"]["first_response_kind"], by_id["L6"]["within_target"]) == (
        None, None, None)
    # the filters: an agent's rows are the leads of their row in the report by agent; a source's too
    by_agent = figures.response_time(fold, "agent", parse_buckets(None), main_calendars(), NAMES)
    for row in by_agent["items"]:
        mine = response_leads(fold, main_calendars(), agent=row["key"])
        assert len(mine) == row["leads"] and sum(r["response_s"] is not None for r in mine) == row["responded"]
    assert [r["lead_id"] for r in response_leads(fold, main_calendars(), agent=B)] == ["L3", "L4", "L7"]
    assert [r["lead_id"] for r in response_leads(fold, main_calendars(), source="CarSite")] == ["L3", "L4"]
    assert [r["lead_id"] for r in response_leads(fold, main_calendars(), agent="unassigned")] == ["L6"]


def test_response_time_by_agent_with_business_hours() -> None:
    fold = fold_events(main_history().events, main_window(), AS_OF)
    cal = {"acc_main": OpeningCalendar(MAIN, main_window()["acc_main"].start_at, main_window()["acc_main"].end_at)}
    report = figures.response_time(fold, "agent", parse_buckets("0-1,1-6,6-24"), cal, NAMES)
    rows = {r["key"]: r for r in report["items"]}
    assert [r["key"] for r in report["items"]] == [A, B, M, "unassigned"]
    # A: L1 answered in 1200 s; L5 never answered (counted on its owner A)
    assert rows[A] | {"buckets": None} == {
        "key": A, "label": "Ann", "leads": 2, "responded": 1, "not_responded": 1, "mean_s": 1200.0,
        "median_s": 1200.0, "within_24h": 1, "within_24h_pct": 50.0, "buckets": None}
    assert rows[A]["buckets"] == [{"from_h": 0, "to_h": 1, "count": 1, "pct": 50.0},
                                  {"from_h": 1, "to_h": 6, "count": 0, "pct": 0.0},
                                  {"from_h": 6, "to_h": 24, "count": 0, "pct": 0.0}]
    # B: L3 1800 s (from Saturday's opening), L4 600 s (from Monday's opening after DST), L7 90000 s
    # mean 92400 / 3 = 30800, median 1800, within 24 h 2 of 3 = 66.7 %
    assert (rows[B]["leads"], rows[B]["responded"], rows[B]["mean_s"], rows[B]["median_s"]) == (3, 3, 30800.0, 1800.0)
    assert (rows[B]["within_24h"], rows[B]["within_24h_pct"]) == (2, 66.7)
    assert [b["count"] for b in rows[B]["buckets"]] == [2, 0, 0]
    # M: L2 answered 30 min after the lunch break ended (the raw wait was an hour)
    assert (rows[M]["mean_s"], rows[M]["median_s"], rows[M]["within_24h_pct"]) == (1800.0, 1800.0, 100.0)
    # L6: pending offer, nobody owns it, not answered
    assert rows["unassigned"] | {"buckets": None} == {
        "key": "unassigned", "label": "unassigned", "leads": 1, "responded": 0, "not_responded": 1, "mean_s": None,
        "median_s": None, "within_24h": 0, "within_24h_pct": 0.0, "buckets": None}
    # all: 600, 1200, 1800, 1800, 90000 -> mean 95400 / 5, median 1800; 4 of 7 within 24 h
    totals = report["totals"]
    assert (totals["leads"], totals["responded"], totals["mean_s"], totals["median_s"]) == (7, 5, 19080.0, 1800.0)
    assert (totals["within_24h"], totals["within_24h_pct"]) == (4, 57.1)
    assert [b["count"] for b in totals["buckets"]] == [4, 0, 0]


def test_response_time_by_source_and_source_group() -> None:
    fold = fold_events(main_history().events, main_window(), AS_OF)
    cal = {"acc_main": OpeningCalendar(MAIN, main_window()["acc_main"].start_at, main_window()["acc_main"].end_at)}
    by_source = {r["key"]: r for r in figures.response_time(fold, "source", parse_buckets(None), cal, {})["items"]}
    # Website: L1 1200, L2 1800, L5 -, L6 -; CarSite: L3 1800, L4 600; Referral: L7 90000
    assert {k: (r["leads"], r["responded"], r["mean_s"]) for k, r in by_source.items()} == {
        "Website": (4, 2, 1500.0), "CarSite": (2, 2, 1200.0), "Referral": (1, 1, 90000.0)}
    by_group = figures.response_time(fold, "source_group", parse_buckets(None), cal, {})["items"]
    assert [(r["key"], r["leads"]) for r in by_group] == [("(none)", 7)]


def test_outcomes_after_as_of_are_not_counted() -> None:
    # As of 11-03 12:00Z, L7's call (11-03 21:00Z) has not happened: B answered 2 of 3.
    fold = fold_events(main_history().events, main_window(), "2026-11-03T12:00:00.000Z")
    cal = {"acc_main": OpeningCalendar(MAIN, main_window()["acc_main"].start_at, main_window()["acc_main"].end_at)}
    rows = {r["key"]: r for r in figures.response_time(fold, "agent", parse_buckets(None), cal, NAMES)["items"]}
    assert (rows[B]["leads"], rows[B]["responded"], rows[B]["mean_s"]) == (3, 2, 1200.0)


def test_lead_sources() -> None:
    report = figures.lead_sources(fold_events(main_history().events, main_window(), AS_OF))
    rows = {r["source"]: r for r in report["items"]}
    # Website: L1 L2 L5 L6 (L2 has no phone); L1 was hot, had an appointment, showed and was sold
    assert rows["Website"] == {"source": "Website", "leads": 4, "hot": 1, "duplicates": 0, "no_email": 0,
                               "no_phone": 1, "appointments": 1, "showed": 1, "sold": 1}
    # CarSite: L3, L4 and the duplicate request (no email); L4 hot; L3 had a no-show appointment
    assert rows["CarSite"] == {"source": "CarSite", "leads": 3, "hot": 1, "duplicates": 1, "no_email": 2,
                               "no_phone": 0, "appointments": 1, "showed": 0, "sold": 0}
    assert rows["Referral"] == {"source": "Referral", "leads": 1, "hot": 0, "duplicates": 0, "no_email": 1,
                                "no_phone": 1, "appointments": 0, "showed": 0, "sold": 0}
    assert [r["source"] for r in report["items"]] == ["Website", "CarSite", "Referral"]
    assert report["totals"] == {"source": "All", "leads": 8, "hot": 2, "duplicates": 1, "no_email": 3,
                                "no_phone": 2, "appointments": 2, "showed": 1, "sold": 1}


def test_order_of_events_does_not_matter() -> None:
    events = main_history().events
    expected = figures.dashboard(fold_events(events, main_window(), AS_OF), main_scores(), NAMES, [A, B, C])
    shuffled = list(events)
    random.Random(7).shuffle(shuffled)
    assert figures.dashboard(fold_events(shuffled, main_window(), AS_OF), main_scores(), NAMES, [A, B, C]) == expected


def test_holiday_moves_the_clock_to_the_next_working_day() -> None:
    # Wed 11-25 19:00 EST (00:00Z on 11-26) after closing; Thu 11-26 is a holiday; the clock starts
    # Fri 11-27 09:00 EST = 14:00Z. The answer at 14:45Z took 2700 s (not 38 h 45 min).
    h = History()
    h.lead("H1", "2026-11-26T00:00:00Z")
    h.respond("H1", "2026-11-27T14:45:00Z", A)
    wins = {"acc_main": window("acc_main", NY, date(2026, 11, 25), date(2026, 11, 25))}
    cal = {"acc_main": OpeningCalendar(MAIN, wins["acc_main"].start_at, wins["acc_main"].end_at)}
    report = figures.response_time(fold_events(h.events, wins, "2026-11-30T00:00:00.000Z"), "agent",
                                   parse_buckets(None), cal, NAMES)
    assert report["totals"]["mean_s"] == 2700.0


def test_the_clock_starts_when_the_customer_sent_the_lead() -> None:
    # Sent Sun 11-22 15:00 EST with the store closed on Sundays, stored Mon 10:00 EST (a provider's
    # delay), answered 10:30: the clock ran from Monday's 09:00 opening, 5400 s (not 1800 s).
    # Time to accept still counts from when Leadline had the lead: routing could not start before.
    closed_sunday = BusinessHours(NY, {**{d: [["09:00", "18:00"]] for d in MAIN_HOURS}, "sun": []}, frozenset())
    h = History(account_id="acc_sun")
    h.lead("S1", "2026-11-23T15:00:00Z", received_at="2026-11-22T20:00:00Z")
    h.offer("S1", "2026-11-23T15:00:00Z", A, "accepted", "2026-11-23T15:02:00Z")
    h.respond("S1", "2026-11-23T15:30:00Z", A)
    h.lead("S2", "2026-11-23T16:00:00Z", received_at="2026-11-24T16:00:00Z")  # a clock ahead: never later
    h.respond("S2", "2026-11-23T16:10:00Z", A)
    wins = {"acc_sun": window("acc_sun", NY, date(2026, 11, 23), date(2026, 11, 23))}
    cal = OpeningCalendar(closed_sunday, wins["acc_sun"].start_at, wins["acc_sun"].end_at)
    fold = fold_events(h.events, wins, "2026-11-24T00:00:00.000Z")

    assert figures.response_seconds(fold.leads["S1"], cal) == 5400.0
    assert figures.response_seconds(fold.leads["S2"], cal) == 600.0
    assert figures.lead_summary(fold.leads.values())["time_to_accept"]["median_s"] == 120.0


def test_overnight_shift() -> None:
    # "Night desk": every day 20:00-04:00 in New York (EST in November).
    night = BusinessHours(NY, {d: [["20:00", "04:00"]] for d in MAIN_HOURS}, frozenset())
    h = History(account_id="acc_night")
    h.lead("N1", "2026-11-10T08:00:00Z")       # Tue 03:00 EST: inside Monday's 20:00-04:00 shift
    h.respond("N1", "2026-11-10T08:10:00Z", A)  # 600 s
    h.lead("N2", "2026-11-10T10:00:00Z")       # Tue 05:00 EST: closed until 20:00 EST = 11-11 01:00Z
    h.respond("N2", "2026-11-11T01:05:00Z", A)  # 300 s
    h.lead("N3", "2026-11-10T11:00:00Z")       # 06:00 EST, answered at 07:00 EST before the opening: 0 s
    h.respond("N3", "2026-11-10T12:00:00Z", A)
    wins = {"acc_night": window("acc_night", NY, date(2026, 11, 10), date(2026, 11, 10))}
    cal = {"acc_night": OpeningCalendar(night, wins["acc_night"].start_at, wins["acc_night"].end_at)}
    fold = fold_events(h.events, wins, "2026-11-12T00:00:00.000Z")
    times = sorted(figures.response_seconds(x, cal["acc_night"]) or 0 for x in fold.leads.values())
    assert times == [0.0, 300.0, 600.0]


def test_spring_forward_opening() -> None:
    # Sun 2026-03-08 clocks jump 02:00 -> 03:00 EST->EDT. A lead on Sat 03-07 at 15:00 EST (20:00Z)
    # waits for Mon 09:00 EDT = 13:00Z (it would be 14:00Z in EST).
    h = History()
    h.lead("S1", "2026-03-07T20:00:00Z")
    h.respond("S1", "2026-03-09T13:30:00Z", A)
    wins = {"acc_main": window("acc_main", NY, date(2026, 3, 7), date(2026, 3, 7))}
    cal = {"acc_main": OpeningCalendar(MAIN, wins["acc_main"].start_at, wins["acc_main"].end_at)}
    fold = fold_events(h.events, wins, "2026-03-10T00:00:00.000Z")
    assert figures.response_seconds(fold.leads["S1"], cal["acc_main"]) == 1800.0


def test_calendar_agrees_with_next_opening_everywhere() -> None:
    from datetime import UTC, datetime, timedelta

    night = BusinessHours(NY, {"fri": [["22:00", "02:00"]], "sat": [["10:00", "14:00"], ["20:00", "23:30"]]},
                          frozenset({"2026-11-07"}))
    rng = random.Random(3)
    start = datetime(2026, 10, 25, tzinfo=UTC)
    for hours in (MAIN, night):
        cal = OpeningCalendar(hours, start, start + timedelta(days=20))
        for _ in range(1500):
            at = start + timedelta(seconds=rng.randrange(0, 20 * 86400))
            expected = hours.next_opening(at)
            assert cal.clock_start(at.timestamp()) == (expected or at).timestamp(), at


def test_buckets_parsing() -> None:
    assert [(b.from_h, b.to_h) for b in parse_buckets("0-0.5, 0.5-2,2-48")] == [(0, 0.5), (0.5, 2), (2, 48)]
    assert len(parse_buckets(None)) == 3
    for bad in ("1-0", "0-1,0.5-2", "a-b", "0-1-2", "0-1,1-2,2-3,3-4,4-5,5-6", "-1-2", "1", "0-inf", "0-nan"):
        with pytest.raises(ValidationFailed) as caught:
            parse_buckets(bad)
        assert caught.value.details[0]["field"] == "buckets", bad


def test_csv_opens_in_excel() -> None:
    report = figures.dashboard(fold_events(main_history().events, main_window(), AS_OF), main_scores(),
                               {**NAMES, C: "=HYPERLINK(\"x\")", A: "Anaïs"}, roster=[A, B, C])
    body = csv_files.agents_csv(report, figures.agent_totals(report["agents"]), "2026-10-30", "2026-11-02")
    assert body.startswith("\ufeff".encode())
    assert b"\r\n" in body and b"\n" not in body.replace(b"\r\n", b"")
    rows = csv_files.read_csv(body)
    assert rows[0]["from"] == "2026-10-30" and rows[0]["to"] == "2026-11-02"
    assert {r["user_id"]: r["name"] for r in rows}[A] == "Anaïs"
    assert any(r["name"] == "'=HYPERLINK(\"x\")" for r in rows)   # never runs as a formula
    assert rows[-1]["name"] == "TOTAL" and rows[-1]["offered"] == "11" and rows[-1]["score"] == ""
    assert len(rows) == len(report["agents"]) + 1


def test_a_fall_back_day_is_25_hours_and_a_spring_forward_day_23() -> None:
    fall = window("a", NY, date(2026, 11, 1), date(2026, 11, 1))
    spring = window("a", NY, date(2026, 3, 8), date(2026, 3, 8))
    assert (fall.end_at - fall.start_at).total_seconds() == 25 * 3600
    assert (spring.end_at - spring.start_at).total_seconds() == 23 * 3600
