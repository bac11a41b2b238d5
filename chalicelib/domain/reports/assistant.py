"""The assistant report (GET /reports/assistant, and the overview's `assistant` block): what the
cadences did with the period's leads, read from each lead's cadence facts (ledger.py: ENROLLED,
STEP, STOPPED, RESUMED) and its first hot status and first appointment, up to the cutoff.

Figures are counts of leads. A lead enrolled in two cadences (by hand, one after the other) counts
in each cadence's row and once in the totals:
- enrolled: leads enrolled in the cadence (on arrival or by hand);
- contacted: of those, leads that at least one of its steps went out to;
- engaged: leads that replied while enrolled (the enrolment stopped `replied`);
- engaged_pct: engaged as a percentage of enrolled;
- hot / appointments: leads that first became hot / got their first appointment after they were
  enrolled (credited to the cadence of their latest enrolment before it);
- opted_out: leads whose enrolment stopped because they opted out;
- stopped_by_staff: leads whose enrolment a person stopped (stop-messaging, or taken out of the
  cadence) and did not resume by the cutoff."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chalicelib.domain.enrolment import STAFF_STOPS
from chalicelib.domain.reports import ledger as L
from chalicelib.domain.reports.stats import pct

if TYPE_CHECKING:
    from chalicelib.domain.reports.fold import LeadFacts

COUNTS = ("enrolled", "contacted", "engaged", "hot", "appointments", "opted_out", "stopped_by_staff")
CODES = frozenset({L.ENROLLED, L.STEP, L.STOPPED, L.RESUMED, L.HOT, L.APPOINTMENT})


@dataclass(slots=True)
class Enrolled:
    """One lead in one cadence: which figures it counts in."""

    name: str
    named_at: int  # epoch ms of the enrolment that gave the name (a cadence may be renamed)
    contacted: bool = False
    engaged: bool = False
    hot: bool = False
    appointments: bool = False
    opted_out: bool = False
    stopped_by_staff: bool = False


@dataclass(slots=True)
class AssistantFacts:
    """A lead's cadences (cadence_id -> Enrolled) and the one it was enrolled in last."""

    cadences: dict[str, Enrolled] = field(default_factory=dict)
    latest: str | None = None


def track(lead: LeadFacts, at: int, code: str, extra: Any) -> None:
    """Fold one fact of the lead at `at` (epoch ms; in (time, event id) order, within the window and cutoff)."""
    if code not in CODES:
        return
    if code == L.ENROLLED:
        _enrol(lead, at, extra)
        return
    facts = lead.assistant
    if facts is None:
        return
    if code in (L.HOT, L.APPOINTMENT):
        latest = facts.cadences.get(facts.latest or "")
        if latest is not None:
            latest.hot = latest.hot or code == L.HOT
            latest.appointments = latest.appointments or code == L.APPOINTMENT
        return
    cadence_id, reason = extra if code == L.STOPPED else (extra, None)
    row = facts.cadences.get(cadence_id)
    if row is None:
        return
    if code == L.STEP:
        row.contacted = True
    elif code == L.RESUMED:
        row.stopped_by_staff = False
    elif reason == "replied":
        row.engaged = True
    elif reason == "opted_out":
        row.opted_out = True
    elif reason in STAFF_STOPS:
        row.stopped_by_staff = True


def _enrol(lead: LeadFacts, at: int, extra: Any) -> None:
    cadence_id, name = extra
    facts = lead.assistant
    if facts is None:
        facts = lead.assistant = AssistantFacts()
    row = facts.cadences.setdefault(cadence_id, Enrolled(name, at))
    row.name, row.named_at = name, at
    facts.latest = cadence_id


def _shape(counts: dict[str, int]) -> dict[str, Any]:
    return {**counts, "engaged_pct": pct(counts["engaged"], counts["enrolled"])}


def figures(leads: Iterable[LeadFacts]) -> dict[str, Any]:
    """The assistant figures over some leads of the cohort: totals and a row per cadence (by name)."""
    totals = dict.fromkeys(COUNTS, 0)
    rows: dict[str, dict[str, Any]] = {}
    named: dict[str, tuple[int, str]] = {}  # cadence_id -> its latest enrolment's (time, name)
    for lead in leads:
        if lead.assistant is None or not lead.assistant.cadences:
            continue
        enrolments = lead.assistant.cadences
        totals["enrolled"] += 1
        for name in COUNTS[1:]:
            totals[name] += any(getattr(e, name) for e in enrolments.values())
        for cadence_id, e in enrolments.items():
            row = rows.setdefault(cadence_id, {"cadence_id": cadence_id, **dict.fromkeys(COUNTS, 0)})
            named[cadence_id] = max(named.get(cadence_id, (e.named_at, e.name)), (e.named_at, e.name))
            row["enrolled"] += 1
            for name in COUNTS[1:]:
                row[name] += getattr(e, name)
    for cadence_id, row in rows.items():
        row["name"] = named[cadence_id][1]
    by_cadence = [_shape(r) for r in sorted(rows.values(), key=lambda r: (r["name"], r["cadence_id"]))]
    return {**_shape(totals), "by_cadence": by_cadence}
