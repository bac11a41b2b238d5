"""The response clock of a lead and what the follow-through adds beside it: each agent's median
first response and the response targets they met or missed, and the detail rows behind the
response-time report (one per lead of the period).

One clock for every response figure: it starts when the customer sent the lead if the store was
open, else at the store's next opening, and stops at the first human response (automated replies
never count). The response-time report, the dashboard's `first_response_median_s` and the detail
rows' `response_s` are all `response_seconds`, so an agent's dashboard median is the median of
the response-time report's row for them and of their detail rows.

Targets are the deadlines follow-through decided (domain/targets.py: one `target_met` or
`target_missed` per deadline, for the owner it ran for): a figure counts those of the period's
leads decided up to the cutoff, like every other outcome. The performance score is not touched:
targets are reported beside it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.domain.reports.calendar import OpeningCalendar
from chalicelib.domain.reports.fold import Fold, LeadFacts
from chalicelib.domain.reports.ledger import from_ms
from chalicelib.domain.reports.stats import median, pct, seconds

UNASSIGNED = "unassigned"
NO_SOURCE_GROUP = "(none)"


def clock_start(lead: LeadFacts, calendar: OpeningCalendar | None) -> int:
    """Epoch ms the lead's response clock started: when the customer sent it, or the store's next
    opening after that (no calendar: wall-clock time, the clock starts when it was sent)."""
    if calendar is None:
        return lead.received
    return round(calendar.clock_start(lead.received / 1000) * 1000)


def response_seconds(lead: LeadFacts, calendar: OpeningCalendar | None) -> float | None:
    """Seconds from the clock start to the first human response; None when not answered. A reply
    sent before the store's opening counts as 0 s."""
    if lead.response_key is None:
        return None
    return max(0, lead.response_key[0] - clock_start(lead, calendar)) / 1000


def response_key(lead: LeadFacts, group_by: str) -> str:
    if group_by == "agent":
        # who answered first; an unanswered lead stays on its owner so silence shows against them
        return lead.responder or lead.owner or UNASSIGNED
    if group_by == "account":
        return lead.account_id
    if group_by == "source":
        return lead.source
    return lead.source_group or NO_SOURCE_GROUP


# -- the dashboard's follow-through figures ---------------------------------------------------------

def agent_follow_through(fold: Fold, calendars: Mapping[str, OpeningCalendar],
                         user_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Per person:
    - first_response_median_s: the median response time of the period's answered leads that the
      response-time report puts on them (they answered first; null when none);
    - targets_met / targets_missed: response deadlines of the period's leads decided for them as
      the owner (each deadline once: first response and reply deadlines alike)."""
    times: dict[str, list[float]] = {}
    for lead in fold.leads.values():
        took = response_seconds(lead, calendars.get(lead.account_id))
        if took is not None:
            times.setdefault(response_key(lead, "agent"), []).append(took)
    found = {}
    for user in user_ids:
        actions = fold.agents.get(user)
        found[user] = {"first_response_median_s": seconds(median(times.get(user, []))),
                       "targets_met": actions.targets_met if actions else 0,
                       "targets_missed": actions.targets_missed if actions else 0}
    return found


def targets_summary(fold: Fold) -> dict[str, Any]:
    """The period's deadlines decided (met, missed) and the share met, 0..100 with one decimal;
    `targets_met_pct` is null when no deadline was decided (no targets, or none due yet)."""
    met = sum(a.targets_met for a in fold.agents.values())
    missed = sum(a.targets_missed for a in fold.agents.values())
    return {"targets_met": met, "targets_missed": missed,
            "targets_met_pct": pct(met, met + missed) if met + missed else None}


# -- the detail rows behind the response-time report --------------------------------------------------

def response_leads(fold: Fold, calendars: Mapping[str, OpeningCalendar], source: str | None = None,
                   agent: str | None = None) -> list[dict[str, Any]]:
    """One row per lead of the period, oldest first (by when the customer sent it, then lead id).
    `source` keeps one source's leads; `agent` the leads the response-time report puts on that
    agent (who answered first, else the owner, else `unassigned`), so an agent's rows are exactly
    the leads of their row in the report grouped by agent.

    - assigned_to: the owner as of the cutoff; responded_by: who answered first;
    - received_at: when the customer sent the lead; clock_started_at: when the response clock
      started (the next opening if the store was closed); first_response_at / _kind: the first
      human response and what it was (message, email, call, activity, appointment, responded);
    - response_s: from the clock start to that response (null: not answered yet);
    - within_target: whether the lead's first first-response deadline was met (null: no target,
      or none decided by the cutoff)."""
    chosen = [lead for lead in fold.leads.values()
              if (source is None or lead.source == source)
              and (agent is None or response_key(lead, "agent") == agent)]
    chosen.sort(key=lambda x: (x.received, x.lead_id))
    rows = []
    for lead in chosen:
        calendar = calendars.get(lead.account_id)
        rows.append({
            "lead_id": lead.lead_id, "account_id": lead.account_id, "source": lead.source,
            "assigned_to": lead.owner, "responded_by": lead.responder,
            "received_at": from_ms(lead.received), "clock_started_at": from_ms(clock_start(lead, calendar)),
            "first_response_at": from_ms(lead.response_key[0]) if lead.response_key is not None else None,
            "first_response_kind": lead.response_kind,
            "response_s": seconds(response_seconds(lead, calendar)), "within_target": lead.within_target,
        })
    return rows
