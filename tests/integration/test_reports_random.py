"""A random history of a few hundred leads, written as ReportEvents and ScoreEvents through
the lead repository under moto; every dashboard figure is recomputed here from the raw
records, by a plain per-lead reading written independently of the report's fold, and
compared with GET /reports/dashboard."""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.clock import iso
from chalicelib.domain.scoring import POINTS, ScoreEvent
from tests.integration.reports_support import reading, store_events, store_scores
from tests.support import World
from tests.unit.reports_history import History

FIRST, LAST = "2026-10-20", "2026-10-24"
# New York in late October is EDT (UTC-4): the window in UTC
START, END = "2026-10-20T04:00:00.000Z", "2026-10-25T04:00:00.000Z"
AS_OF = "2026-10-28T12:00:00.000Z"
# moto answers each Query by walking the whole table: a few hundred leads keep the test under a minute
NEW_YORK = ZoneInfo("America/New_York")
STATUSES = ("contacted", "not_contacted", "in_progress", "closed_won", "closed_lost")


@pytest.fixture(autouse=True, params=["rollups", "events"])
def report_source(request: pytest.FixtureRequest, world: World) -> Iterator[str]:
    """Every test here twice: reports from the rollups, and recomputed from the report events."""
    with reading(world, request.param):
        yield request.param


def _at(base: datetime, rng: random.Random, max_minutes: int) -> datetime:
    # whole seconds most of the time, and sometimes the very same instant (ties are broken by event id)
    return base if rng.random() < 0.05 else base + timedelta(seconds=rng.randrange(1, max_minutes * 60))


def random_history(rng: random.Random, account_id: str, group_id: str, agents: list[str], catchall: str,
                   leads: int, origin: datetime = datetime(2026, 10, 19, 12, tzinfo=UTC),
                   days: int = 7, prefix: str = "lead") -> tuple[History, list[ScoreEvent]]:
    """`leads` leads arriving over `days` from `origin` (by default a day before the window, so
    some fall outside), with offers, takes, replies, feedback and notes, some after the period."""
    h = History(account_id=account_id, group_id=group_id)
    scores: list[ScoreEvent] = []

    def score(user: str, at: datetime, reason: str, lead_id: str) -> None:
        scores.append(ScoreEvent(event_id=f"scr_{prefix}_{len(scores):06d}", user_id=user, account_id=account_id,
                                 lead_id=lead_id, at=iso(at), reason=reason, points=POINTS[reason]))  # type: ignore[arg-type]

    for n in range(leads):
        lead_id = f"{prefix}_{n:04d}"
        arrival = origin + timedelta(seconds=rng.randrange(0, days * 86400))   # by default until 10-26
        if rng.random() < 0.1 and n > 0:
            target = f"{prefix}_{rng.randrange(0, n):04d}"
            h.add("lead_coalesced", iso(arrival), target, source=rng.choice(["Website", "CarSite"]),
                  coalesced_into=target, has_email=rng.random() < 0.5, has_phone=True, channel="web")
            continue
        h.lead(lead_id, iso(arrival), rng.choice(["Website", "CarSite", "Referral"]), email=rng.random() < 0.8,
               phone=rng.random() < 0.8)
        t = arrival
        owner: str | None = None
        pool = rng.sample(agents, rng.randrange(1, len(agents) + 1))
        for agent in pool:
            t = _at(t, rng, 30)
            h.add("offer_made", iso(t), lead_id, agent, offer_id=f"o{n}{agent}", catchall=False)
            outcome = rng.choice(["accepted", "declined", "timed_out", "timed_out", "pending"])
            if outcome == "pending":
                break
            t = _at(t, rng, 30)
            h.add(f"offer_{outcome}", iso(t), lead_id, agent, offer_id=f"o{n}{agent}", catchall=False)
            score(agent, t, {"accepted": "accept", "declined": "decline", "timed_out": "timeout"}[outcome], lead_id)
            if outcome == "accepted":
                owner = agent
                break
        else:
            t = _at(t, rng, 30)
            h.add("offer_made", iso(t), lead_id, catchall, offer_id=f"o{n}c", catchall=True)
            if rng.random() < 0.5:
                t = _at(t, rng, 30)
                h.add("offer_accepted", iso(t), lead_id, catchall, offer_id=f"o{n}c", catchall=True)
                score(catchall, t, "accept", lead_id)
                owner = catchall
            else:
                t = _at(t, rng, 30)
                h.add("offer_timed_out", iso(t), lead_id, catchall, offer_id=f"o{n}c", catchall=True)
                h.add("lead_delinquent", iso(t), lead_id)
                if rng.random() < 0.6:
                    claimer = rng.choice(agents)
                    t = _at(t, rng, 60 * 30)
                    h.add("lead_requeued", iso(t), lead_id, claimer)
                    score(claimer, t, "requeue", lead_id)
                    owner = claimer
        if rng.random() < 0.15:       # a manager reassigns (or assigns a lead still routing)
            t = _at(t, rng, 60 * 48)
            owner = rng.choice(agents)
            h.add("lead_assigned", iso(t), lead_id, owner, by=catchall)
            score(owner, t, "assigned", lead_id)
        if rng.random() < 0.5:
            h.respond(lead_id, iso(_at(arrival, rng, 5)), None, automated=True)
        if owner and rng.random() < 0.8:
            h.respond(lead_id, iso(_at(t, rng, 60 * 40)), owner, activity=rng.choice(["message", "call", "email"]))
        for _ in range(rng.randrange(0, 3) if owner else 0):   # deadlines decided, some after as_of
            h.target(lead_id, iso(_at(t, rng, 60 * 24 * 8)), rng.choice([str(owner), *agents]),
                     met=rng.random() < 0.6, deadline_kind=rng.choice(["first_response", "reply"]))
        for _ in range(rng.randrange(0, 4)):
            author = owner if owner and rng.random() < 0.8 else rng.choice(agents)
            when = _at(t, rng, 60 * 24 * 8)               # some after `to`, some after as_of
            if rng.random() < 0.6:
                comment = rng.choice([0, 0, 12, 95])
                h.add("feedback", iso(when), lead_id, author, contact_status=rng.choice(STATUSES),
                      comment_chars=comment)
                score(author, when, "feedback_status", lead_id)
            else:
                h.add("note_added", iso(when), lead_id, author)
        if rng.random() < 0.3:
            h.add("status_changed", iso(_at(t, rng, 600)), lead_id, owner, to=rng.choice(["hot", "sold", "warm"]))
    return h, scores


# -- the independent reading --------------------------------------------------------------

def _t(at: str) -> datetime:
    return datetime.fromisoformat(at.replace("Z", "+00:00"))


def _opening(at: datetime) -> datetime:
    """The store's hours (tests/support WEEKDAYS_9_TO_6: every day 09:00-18:00 in New York): `at` if open,
    else the next 09:00."""
    local = at.astimezone(NEW_YORK)
    if 9 <= local.hour < 18:
        return at
    day = local.date() if local.hour < 9 else local.date() + timedelta(days=1)
    return datetime.combine(day, time(9), NEW_YORK)


def expected_dashboard(events: list[dict[str, Any]], scores: list[ScoreEvent], names: dict[str, str],
                       roster: list[str]) -> dict[str, Any]:
    by_lead: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        by_lead[e["lead_id"]].append(e)
    cohort = [lead for lead, evs in by_lead.items()
              if any(e["kind"] == "lead_received" and START <= e["at"] < END for e in evs)]
    waits, catchall, delinquent = [], 0, 0
    rows: dict[str, dict[str, Any]] = defaultdict(lambda: dict.fromkeys(
        ("offered", "accepted", "declined", "timed_out", "assigned", "claimed", "owned", *STATUSES, "comments",
         "targets_met", "targets_missed"), 0))
    response_times: dict[str, list[float]] = defaultdict(list)
    for lead in cohort:
        evs = sorted((e for e in by_lead[lead] if e["at"] <= AS_OF), key=lambda e: (e["at"], e["event_id"]))
        arrival = next(e for e in evs if e["kind"] == "lead_received")["at"]
        taking = [e for e in evs if e["kind"] in ("offer_accepted", "lead_requeued", "lead_assigned")]
        if taking:
            waits.append((_t(taking[0]["at"]) - _t(arrival)).total_seconds())
            catchall += taking[0]["kind"] == "offer_accepted" and taking[0]["data"]["catchall"]
        delinquent += any(e["kind"] == "lead_delinquent" for e in evs)
        for kind, column in (("offer_made", "offered"), ("offer_declined", "declined"),
                             ("offer_timed_out", "timed_out"), ("lead_assigned", "assigned"),
                             ("lead_requeued", "claimed")):
            for e in evs:
                if e["kind"] == kind:
                    rows[e["user_id"]][column] += 1
        for user in {e["user_id"] for e in evs if e["kind"] in ("offer_accepted", "lead_requeued")}:
            rows[user]["accepted"] += 1
        for e in evs:
            if e["kind"] in ("target_met", "target_missed"):
                rows[e["user_id"]][e["kind"].replace("target_", "targets_")] += 1
        answers = [e for e in evs if e["kind"] == "human_response" and not e["data"]["automated"]]
        if answers:
            took = max(0.0, (_t(answers[0]["at"]) - _opening(_t(arrival))).total_seconds())
            on = answers[0].get("user_id") or (taking[-1]["user_id"] if taking else "unassigned")
            response_times[on].append(took)
        if taking:
            owner = taking[-1]["user_id"]
            rows[owner]["owned"] += 1
            feedback = [e for e in evs if e["kind"] == "feedback"]
            if feedback:
                rows[owner][feedback[-1]["data"]["contact_status"]] += 1
            rows[owner]["comments"] += sum(
                1 for e in evs if e.get("user_id") == owner and (
                    e["kind"] == "note_added" or (e["kind"] == "feedback" and e["data"]["comment_chars"] > 0)))
    points: dict[str, int] = defaultdict(int)
    for s in scores:
        if START <= s.at < END:
            points[s.user_id] += s.points
    agents = []
    for user in set(roster) | set(rows) | set(points):
        row = rows[user]
        times = response_times.get(user)
        agents.append({"user_id": user, "name": names[user], "score": 100 + points.get(user, 0), **row,
                       "avg_comments_per_lead": round(row["comments"] / row["owned"], 2) if row["owned"] else 0.0,
                       "first_response_median_s": round(statistics.median(times), 1) if times else None})
    agents.sort(key=lambda r: (r["name"].lower(), r["user_id"]))
    accepted = len(waits)
    met, missed = sum(r["targets_met"] for r in rows.values()), sum(r["targets_missed"] for r in rows.values())
    return {
        "leads": len(cohort), "accepted": accepted,
        "acceptance_rate": round(accepted / len(cohort), 4),
        "catchall_accepted": catchall, "catchall_acceptance_rate": round(catchall / len(cohort), 4),
        "delinquent": delinquent,
        "time_to_accept": {"median_s": round(statistics.median(waits), 1),
                           "mean_s": round(statistics.fmean(waits), 1)},
        "targets_met": met, "targets_missed": missed, "targets_met_pct": round(100 * met / (met + missed), 1),
        "agents": agents,
    }


def test_every_dashboard_figure_recomputed_from_the_raw_records(world: World) -> None:
    world.clock.set(AS_OF)
    tenant = world.tenant()
    account_id = tenant.accounts[0]["account_id"]
    people = [world.user(tenant, f"agent{i}@acme.com")[0] for i in range(5)]
    manager, manager_token = world.user(tenant, "lead.manager@acme.com", role="manager")
    agents = [p["user_id"] for p in people]
    history, scores = random_history(random.Random(20261104), account_id, tenant.group_id, agents,
                                     manager["user_id"], leads=220)
    store_events(world, history.events)
    store_scores(world, scores)

    reply = world.get(f"/reports/dashboard?account_id={account_id}&from={FIRST}&to={LAST}&as_of={AS_OF}",
                      manager_token)
    assert reply.status == 200, reply.json
    report = reply.json
    names = {p["user_id"]: p["name"] for p in [*people, manager]}
    expected = expected_dashboard(history.events, scores, names, agents)
    assert report["leads"] > 100 and report["delinquent"] > 0 and report["catchall_accepted"] > 0
    assert report["targets_met"] > 10 and report["targets_missed"] > 10
    assert sum(r["first_response_median_s"] is not None for r in report["agents"]) >= 4
    for name in ("leads", "accepted", "acceptance_rate", "catchall_accepted", "catchall_acceptance_rate",
                 "delinquent", "time_to_accept", "targets_met", "targets_missed", "targets_met_pct"):
        assert report[name] == expected[name], name
    for got, want in zip(report["agents"], expected["agents"], strict=True):
        assert got == want, {k: (got.get(k), want.get(k)) for k in got.keys() | want.keys()
                             if got.get(k) != want.get(k)}
