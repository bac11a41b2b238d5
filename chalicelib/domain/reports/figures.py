"""Figures from a fold. Each function documents exactly what it counts.

The period's leads (the cohort) are the new leads whose arrival (`lead_received.at`)
falls in the store's window; coalesced requests never join the cohort. Outcomes are the
events of those leads up to `as_of` (see fold.py and periods.OUTCOME_HORIZON_DAYS)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.reports import assistant
from chalicelib.domain.reports.calendar import OpeningCalendar
from chalicelib.domain.reports.fold import CONTACT_STATUSES, Fold, LeadFacts
from chalicelib.domain.reports.response import agent_follow_through, response_key, response_seconds, targets_summary
from chalicelib.domain.reports.stats import Bucket, hours_label, mean, median, pct, rate, seconds
from chalicelib.domain.scoring import BASE_SCORE

DAY_S = 24 * 3600
GROUP_BYS = ("agent", "account", "source", "source_group")


@dataclass(frozen=True)
class ScoreEntry:
    """One score-ledger entry, as the reports need it (`at` in epoch ms)."""

    user_id: str
    account_id: str
    at: int
    points: int


def _time_to_accept(lead: LeadFacts) -> float:
    assert lead.accept_key is not None
    return max(0, lead.accept_key[0] - lead.arrival) / 1000


def lead_summary(leads: Iterable[LeadFacts]) -> dict[str, Any]:
    """The dashboard's headline figures over some leads of the cohort.

    - leads: new leads that arrived in the period (coalesced requests excluded);
    - accepted: of those, leads that got an owner by a person's decision: an offer accepted
      (catch-all offers included), a delinquent lead claimed (requeue), or a direct assignment
      by a manager or admin; each lead counts once, at its first such event;
    - catchall_accepted: leads whose first acceptance was a catch-all offer accepted;
    - delinquent: leads that ran out of agents (even if claimed later);
    - time_to_accept: from arrival to that first acceptance, wall-clock seconds, over the accepted leads."""
    count = accepted = catchall = delinquent = 0
    waits: list[float] = []
    for lead in leads:
        count += 1
        if lead.accept_key is not None:
            accepted += 1
            waits.append(_time_to_accept(lead))
            if lead.accepted_catchall:
                catchall += 1
        if lead.delinquent:
            delinquent += 1
    return {
        "leads": count, "accepted": accepted, "acceptance_rate": rate(accepted, count),
        "catchall_accepted": catchall, "catchall_acceptance_rate": rate(catchall, count),
        "delinquent": delinquent,
        "time_to_accept": {"median_s": seconds(median(waits)), "mean_s": seconds(mean(waits))},
    }


def scores_by_user(entries: Iterable[ScoreEntry], fold: Fold) -> dict[str, int]:
    """Score over the period: 100 plus every ledger entry of the period's stores dated inside
    the store's window (and not after `as_of`)."""
    totals: dict[str, int] = {}
    for entry in entries:
        bounds = fold.bounds.get(entry.account_id)
        if bounds is None or not (bounds.start <= entry.at < bounds.end) or entry.at > fold.as_of:
            continue
        totals[entry.user_id] = totals.get(entry.user_id, 0) + entry.points
    return {user: BASE_SCORE + points for user, points in totals.items()}


def agent_rows(fold: Fold, scores: Mapping[str, int], names: Mapping[str, str],
               roster: Iterable[str] = (), calendars: Mapping[str, OpeningCalendar] | None = None,
               ) -> list[dict[str, Any]]:
    """One row per person who is on the stores' roster or did anything with the period's leads.

    - offered / declined / timed_out: offers of the period's leads made to / declined by /
      expired on the agent (each offer counts; coalesced requests are never offered);
    - accepted: period leads whose offer the agent accepted or that they claimed (each lead once);
      assigned: direct assignments to them; claimed: delinquent leads they claimed;
    - owned: period leads whose owner (as of `as_of`) is the agent; contacted ... closed_lost
      split the owned leads by their latest feedback status (leads without feedback in none);
    - avg_comments_per_lead: feedback comments and notes the agent wrote on owned leads / owned;
    - first_response_median_s, targets_met, targets_missed: see response.agent_follow_through (the
      response clock runs on each store's `calendars`; a store without one runs on wall-clock time)."""
    accepted: dict[str, int] = {}
    owned: dict[str, int] = {}
    comments: dict[str, int] = {}
    statuses: dict[str, dict[str, int]] = {}
    for lead in fold.leads.values():
        for user in lead.acceptors or ():
            accepted[user] = accepted.get(user, 0) + 1
        if lead.owner is None:
            continue
        owner = lead.owner
        owned[owner] = owned.get(owner, 0) + 1
        if lead.comments:
            comments[owner] = comments.get(owner, 0) + lead.comments.get(owner, 0)
        if lead.contact_status is not None:
            per = statuses.setdefault(owner, {})
            per[lead.contact_status] = per.get(lead.contact_status, 0) + 1
    responders = {x.responder for x in fold.leads.values() if x.responder}
    people = set(roster) | set(fold.agents) | set(accepted) | set(owned) | set(scores) | responders
    follow = agent_follow_through(fold, calendars or {}, people)
    rows = []
    for user in people:
        actions = fold.agents.get(user)
        own = owned.get(user, 0)
        row: dict[str, Any] = {
            "user_id": user, "name": names.get(user, user), "score": scores.get(user, BASE_SCORE),
            "offered": actions.offered if actions else 0, "accepted": accepted.get(user, 0),
            "declined": actions.declined if actions else 0, "timed_out": actions.timed_out if actions else 0,
            "assigned": actions.assigned if actions else 0, "claimed": actions.claimed if actions else 0,
            "owned": own,
        }
        per = statuses.get(user, {})
        for status in CONTACT_STATUSES:
            row[status] = per.get(status, 0)
        row["comments"] = comments.get(user, 0)
        row["avg_comments_per_lead"] = round(comments.get(user, 0) / own, 2) if own else 0.0
        row.update(follow[user])
        rows.append(row)
    rows.sort(key=lambda r: (str(r["name"]).lower(), r["user_id"]))
    return rows


AGENT_COUNTS = ("offered", "accepted", "declined", "timed_out", "assigned", "claimed", "owned",
                *CONTACT_STATUSES, "comments", "targets_met", "targets_missed")


def agent_totals(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The CSV's totals row: sums of every count; the comment average over all owned leads (medians do
    not add up: the response-time report's totals row has the median over every lead)."""
    totals: dict[str, Any] = {name: sum(int(r[name]) for r in rows) for name in AGENT_COUNTS}
    totals["avg_comments_per_lead"] = round(totals["comments"] / totals["owned"], 2) if totals["owned"] else 0.0
    return totals


def dashboard(fold: Fold, scores: Iterable[ScoreEntry], names: Mapping[str, str],
              roster: Iterable[str] = (), calendars: Mapping[str, OpeningCalendar] | None = None) -> dict[str, Any]:
    """The headline figures, the period's response targets met and missed (targets_met_pct), and a
    row per agent."""
    summary = lead_summary(fold.leads.values())
    summary.update(targets_summary(fold))
    summary["agents"] = agent_rows(fold, scores_by_user(scores, fold), names, roster, calendars)
    return summary


# -- response time ----------------------------------------------------------------------

def _response_row(key: str, label: str, times: list[float | None], buckets: Sequence[Bucket]) -> dict[str, Any]:
    answered = [t for t in times if t is not None]
    total = len(times)
    within = sum(1 for t in answered if t <= DAY_S)
    hours = [t / 3600 for t in answered]
    return {
        "key": key, "label": label, "leads": total, "responded": len(answered),
        "not_responded": total - len(answered),
        "mean_s": seconds(mean(answered)), "median_s": seconds(median(answered)),
        "within_24h": within, "within_24h_pct": pct(within, total),
        "buckets": [{"from_h": hours_label(b.from_h), "to_h": hours_label(b.to_h),
                     "count": (n := sum(1 for h in hours if b.holds(h))), "pct": pct(n, total)} for b in buckets],
    }


def response_time(fold: Fold, group_by: str, buckets: Sequence[Bucket],
                  calendars: Mapping[str, OpeningCalendar], labels: Mapping[str, str]) -> dict[str, Any]:
    """Rows by `group_by` plus a totals row over every lead. A row's percentages are of all its
    leads, answered or not: unanswered leads are counted as not responded, never dropped."""
    grouped: dict[str, list[float | None]] = {}
    every: list[float | None] = []
    for lead in fold.leads.values():
        took = response_seconds(lead, calendars.get(lead.account_id))
        grouped.setdefault(response_key(lead, group_by), []).append(took)
        every.append(took)
    rows = [_response_row(k, labels.get(k, k), v, buckets) for k, v in grouped.items()]
    rows.sort(key=lambda r: (str(r["label"]).lower(), r["key"]))
    return {"group_by": group_by, "items": rows, "totals": _response_row("all", "All", every, buckets)}


# -- lead sources -----------------------------------------------------------------------

SOURCE_COUNTS = ("leads", "hot", "duplicates", "no_email", "no_phone", "appointments", "showed", "sold")


def lead_sources(fold: Fold) -> dict[str, Any]:
    """Per source, over every store in the fold:
    - leads: requests received in the period, duplicates included (new leads + coalesced requests);
    - duplicates: the coalesced requests; no_email / no_phone: requests without one;
    - hot / appointments / showed / sold: new leads of the period from that source that were
      ever marked hot / got an appointment / showed / were marked sold (each lead once)."""
    rows: dict[str, dict[str, Any]] = {}

    def row(source: str) -> dict[str, Any]:
        found = rows.get(source)
        if found is None:
            found = rows[source] = {"source": source, **{name: 0 for name in SOURCE_COUNTS}}
        return found

    for (_account, source), tally in fold.requests.items():
        r = row(source)
        r["leads"] += tally.requests
        r["duplicates"] += tally.duplicates
        r["no_email"] += tally.no_email
        r["no_phone"] += tally.no_phone
    for lead in fold.leads.values():
        r = row(lead.source)
        r["hot"] += lead.hot
        r["appointments"] += lead.appointment
        r["showed"] += lead.showed
        r["sold"] += lead.sold
    items = sorted(rows.values(), key=lambda r: (-r["leads"], r["source"].lower(), r["source"]))
    totals = {"source": "All", **{name: sum(r[name] for r in items) for name in SOURCE_COUNTS}}
    return {"items": items, "totals": totals}


# -- group overview ------------------------------------------------------------------------

OVERVIEW_COUNTS = ("leads", "requests", "duplicates", "accepted", "catchall_accepted", "delinquent", "responded",
                   "within_24h", "appointments", "showed", "sold")


def _overview_row(leads: list[LeadFacts], fold: Fold, account_ids: set[str],
                  calendars: Mapping[str, OpeningCalendar]) -> tuple[dict[str, Any], list[float]]:
    summary = lead_summary(leads)
    times = [t for t in (response_seconds(x, calendars.get(x.account_id)) for x in leads) if t is not None]
    requests = [t for (a, _s), t in fold.requests.items() if a in account_ids]
    row = {
        "leads": summary["leads"], "requests": sum(t.requests for t in requests),
        "duplicates": sum(t.duplicates for t in requests),
        "accepted": summary["accepted"], "acceptance_rate": summary["acceptance_rate"],
        "catchall_accepted": summary["catchall_accepted"], "delinquent": summary["delinquent"],
        "responded": len(times), "within_24h": sum(1 for t in times if t <= DAY_S),
        "mean_response_s": seconds(mean(times)), "median_response_s": seconds(median(times)),
        "appointments": sum(x.appointment for x in leads), "showed": sum(x.showed for x in leads),
        "sold": sum(x.sold for x in leads), "assistant": assistant.figures(leads),
    }
    return row, times


def overview(fold: Fold, stores: Sequence[Mapping[str, str]], calendars: Mapping[str, OpeningCalendar],
             kind: str) -> dict[str, Any]:
    """A row per store (`stores`: account_id, name) and totals. Counts in `totals` are the sums
    of the rows; rates, means and medians in `totals` are recomputed over all the group's leads
    (never averages of averages)."""
    by_store: dict[str, list[LeadFacts]] = {s["account_id"]: [] for s in stores}
    for lead in fold.leads.values():
        if lead.account_id in by_store:
            by_store[lead.account_id].append(lead)
    rows = []
    all_leads: list[LeadFacts] = []
    for store in stores:
        leads = by_store[store["account_id"]]
        row, _ = _overview_row(leads, fold, {store["account_id"]}, calendars)
        rows.append({"account_id": store["account_id"], "name": store["name"], **row})
        all_leads.extend(leads)
    totals, _ = _overview_row(all_leads, fold, set(by_store), calendars)
    return {"kind": kind, "totals": totals, "accounts": rows}


def internet_response(fold: Fold, calendars: Mapping[str, OpeningCalendar]) -> dict[str, Any]:
    """New leads that arrived in the last 12 hours, how many got a human response so far,
    and the mean response time of those (business-hours clock, as in the response-time report)."""
    times = [response_seconds(x, calendars.get(x.account_id)) for x in fold.leads.values()]
    answered = [t for t in times if t is not None]
    return {"leads": len(times), "responded_12h": len(answered), "not_responded": len(times) - len(answered),
            "mean_s": seconds(mean(answered)), "median_s": seconds(median(answered))}
