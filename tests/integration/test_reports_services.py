"""A small history driven through the real services over HTTP (intake, routing, conversations,
feedback, notes, assignment); every dashboard figure is recomputed from the leads' raw
timelines (GET /leads/{id}/timeline) and the score route, and compared with the report."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from tests.integration.reports_support import reading
from tests.support import World

ALWAYS_OPEN = {d: [["00:00", "23:59"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
STATUSES = ("contacted", "not_contacted", "in_progress", "closed_won", "closed_lost")


@pytest.fixture(autouse=True, params=["rollups", "events"])
def report_source(request: pytest.FixtureRequest, world: World) -> Iterator[str]:
    """Every test here twice: reports from the rollups, and recomputed from the report events."""
    with reading(world, request.param):
        yield request.param


class Store:
    def __init__(self, world: World) -> None:
        self.world = world
        world.clock.set("2026-11-03T15:00:00Z")     # Tue 10:00 in New York
        self.tenant = world.tenant(hours=ALWAYS_OPEN)
        self.account_id = self.tenant.accounts[0]["account_id"]
        self.agents = [world.user(self.tenant, f"agent{i}@acme.com")[0]["user_id"] for i in range(3)]
        self.boss = world.user(self.tenant, "boss@acme.com", role="manager")[0]["user_id"]
        reply = world.put(f"/accounts/{self.account_id}/routing", self.tenant.token,
                          {"offer_timeout_seconds": 3600, "catchall_user_ids": [self.boss]})
        assert reply.status == 200, reply.json

    def token(self, user_id: str) -> str:
        return self.world.token(user_id)

    def lead(self, phone: str, source: str) -> dict[str, Any]:
        reply = self.world.post(f"/accounts/{self.account_id}/leads", self.tenant.token,
                                {"first_name": "Pat", "phone": phone, "source": source, "message": "Is it available?"})
        assert reply.status == 201, reply.json
        return dict(reply.json)

    def pending(self) -> tuple[str, dict[str, Any]]:
        found = [(u, o) for u in [*self.agents, self.boss]
                 for o in self.world.get("/me/offers", self.token(u)).json["items"]]
        assert len(found) == 1, found
        return found[0]

    def act(self, seconds: int, method: str, path: str, user_id: str, body: Any = None) -> Any:
        self.world.clock.advance(seconds)
        reply = self.world.call(method, path, self.token(user_id), body if body is not None else {})
        assert reply.status in (200, 201, 202), (path, reply.status, reply.json)
        return reply.json


def drive_history(s: Store) -> list[str]:
    leads = []
    # 1: accepted after 30 s, answered by message, feedback "contacted" with a long comment
    l1 = s.lead("+12125550101", "Website")
    leads.append(l1["lead_id"])
    agent, offer = s.pending()
    s.act(30, "POST", f"/offers/{offer['offer_id']}/accept", agent)
    s.act(120, "POST", f"/leads/{l1['lead_id']}/messages", agent, {"body": "Yes, it is. When can you visit?"})
    s.act(60, "POST", f"/leads/{l1['lead_id']}/feedback", agent,
          {"contact_status": "contacted", "comment": "Called back, wants a test drive on Saturday morning with "
                                                     "his wife; trade-in is a 2019 Civic."})
    # 2: declined once, accepted by the next after 60 s; closed won; a note
    l2 = s.lead("+12125550102", "CarSite")
    leads.append(l2["lead_id"])
    agent, offer = s.pending()
    s.act(20, "POST", f"/offers/{offer['offer_id']}/decline", agent, {"reason": "with a customer"})
    agent, offer = s.pending()
    s.act(40, "POST", f"/offers/{offer['offer_id']}/accept", agent)
    s.act(30, "POST", f"/leads/{l2['lead_id']}/notes", agent, {"text": "Prefers texts"})
    s.act(30, "POST", f"/leads/{l2['lead_id']}/feedback", agent, {"contact_status": "closed_won", "comment": "Sold"})
    # 3: every agent and the catch-all decline: delinquent; an agent claims it 10 minutes later
    l3 = s.lead("+12125550103", "Website")
    leads.append(l3["lead_id"])
    for _ in range(4):
        agent, offer = s.pending()
        s.act(10, "POST", f"/offers/{offer['offer_id']}/decline", agent, {"reason": "busy"})
    s.act(600, "POST", f"/leads/{l3['lead_id']}/requeue", s.agents[2])
    # 4: the catch-all accepts after the agents decline
    l4 = s.lead("+12125550104", "Referral")
    leads.append(l4["lead_id"])
    for _ in range(3):
        agent, offer = s.pending()
        s.act(5, "POST", f"/offers/{offer['offer_id']}/decline", agent, {"reason": "busy"})
    agent, offer = s.pending()
    assert agent == s.boss
    s.act(50, "POST", f"/offers/{offer['offer_id']}/accept", agent)
    # 5: the manager assigns a lead that is still being offered
    l5 = s.lead("+12125550105", "Website")
    leads.append(l5["lead_id"])
    s.act(90, "POST", f"/leads/{l5['lead_id']}/assign", s.boss, {"user_id": s.agents[1]})
    # 6: a repeat request from lead 1's phone joins lead 1 (not a new lead)
    s.world.clock.advance(5)
    again = s.lead("+12125550101", "CarSite")
    assert again.get("coalesced_into") == l1["lead_id"]
    # 7: offered, nobody has answered yet
    l7 = s.lead("+12125550107", "Website")
    leads.append(l7["lead_id"])
    return leads


def _t(at: str) -> datetime:
    return datetime.fromisoformat(at.replace("Z", "+00:00"))


def _assignee(event: dict[str, Any]) -> str:
    return str(event.get("assigned_to") or event["user_id"])


def from_timelines(s: Store, lead_ids: list[str]) -> dict[str, Any]:
    """The dashboard as a reader of the timelines would count it."""
    token = s.tenant.token
    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    waits, catchall, delinquent = [], 0, 0
    for lead_id in lead_ids:
        timeline = s.world.get(f"/leads/{lead_id}/timeline", token).json["items"]
        created = next(e for e in timeline if e["type"] == "created")["at"]
        offers = [e for e in timeline if e["type"] == "offer"]
        for e in offers:
            column = {"made": "offered", "declined": "declined", "timed_out": "timed_out"}.get(e["action"])
            if column:
                rows[e["agent"]][column] += 1
        takes = [e for e in timeline if e["type"] == "assignment"]
        acceptors = {_assignee(e) for e in takes if e.get("via") in ("offer", "requeue")}
        for user in acceptors:
            rows[user]["accepted"] += 1
        for e in takes:
            if e.get("via") == "requeue":
                rows[_assignee(e)]["claimed"] += 1
            elif e.get("via") is None:
                rows[_assignee(e)]["assigned"] += 1
        delinquent += any(e["type"] == "routing" and e.get("action") == "delinquent" for e in timeline)
        if not takes:
            continue
        first = takes[0]
        waits.append((_t(first["at"]) - _t(created)).total_seconds())
        if first.get("via") == "offer":
            accepted_offer = next(e for e in offers if e["action"] == "accepted")
            catchall += bool(accepted_offer.get("catchall"))
        owner = _assignee(takes[-1])
        rows[owner]["owned"] += 1
        feedback = [e for e in timeline if e["type"] == "feedback"]
        if feedback:
            rows[owner][feedback[-1]["contact_status"]] += 1
        rows[owner]["comments"] += sum(1 for e in timeline if e["by"] == owner and (
            e["type"] == "note" or (e["type"] == "feedback" and (e.get("comment") or "").strip())))
    return {"leads": len(lead_ids), "accepted": len(waits), "catchall_accepted": catchall, "delinquent": delinquent,
            "time_to_accept": {"median_s": round(statistics.median(waits), 1),
                               "mean_s": round(statistics.fmean(waits), 1)},
            "rows": rows}


def test_dashboard_equals_what_the_timelines_say(world: World) -> None:
    s = Store(world)
    lead_ids = drive_history(s)
    world.clock.advance(3600)
    report = world.get(f"/reports/dashboard?account_id={s.account_id}", s.tenant.token).json
    expected = from_timelines(s, lead_ids)
    assert (report["leads"], report["accepted"], report["catchall_accepted"], report["delinquent"]) == \
        (6, 5, 1, 1) == (expected["leads"], expected["accepted"], expected["catchall_accepted"],
                         expected["delinquent"])
    assert report["time_to_accept"] == expected["time_to_accept"]
    for row in report["agents"]:
        want = expected["rows"][row["user_id"]]
        for column in ("offered", "accepted", "declined", "timed_out", "assigned", "claimed", "owned", *STATUSES,
                       "comments"):
            assert row[column] == want[column], (row["name"], column)
        ledger = world.get(f"/users/{row['user_id']}/score?from=2026-11-03&to=2026-11-03", s.tenant.token).json
        assert row["score"] == ledger["score"], row["name"]
    # the response clock: lead 1 was answered by a person 150 s after it arrived; the others not yet
    rt = world.get(f"/reports/response-time?account_id={s.account_id}&group_by=account", s.tenant.token).json
    assert (rt["totals"]["leads"], rt["totals"]["responded"], rt["totals"]["mean_s"]) == (6, 1, 150.0)
    sources = world.get(f"/reports/lead-sources?account_id={s.account_id}", s.tenant.token).json
    assert {r["source"]: (r["leads"], r["duplicates"]) for r in sources["items"]} == {
        "Website": (4, 0), "CarSite": (2, 1), "Referral": (1, 0)}
