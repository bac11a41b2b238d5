"""CSV files that open cleanly in Excel: UTF-8 with a byte-order mark (so accents survive),
CRLF line ends, ISO dates, plain numbers, and text cells that cannot run as formulas."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from chalicelib.domain.reports.fold import CONTACT_STATUSES
from chalicelib.domain.reports.stats import hours_label
from chalicelib.domain.text import clean_text

BOM = "\ufeff"
# Spreadsheets run a cell that starts with one of these as a formula (CSV injection), the full-width
# forms too (Excel and LibreOffice read them as their ASCII twins), even after leading spaces.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20", "\ufe62",
                  "\ufe63", "\ufe66", "\u2212")

AGENT_COLUMNS = ("from", "to", "user_id", "name", "score", "offered", "accepted", "declined", "timed_out",
                 "assigned", "claimed", "owned", *CONTACT_STATUSES, "comments", "avg_comments_per_lead",
                 "first_response_median_s", "targets_met", "targets_missed")
DASHBOARD_COLUMNS = ("from", "to", "leads", "accepted", "acceptance_rate", "catchall_accepted",
                     "catchall_acceptance_rate", "delinquent", "time_to_accept_median_s", "time_to_accept_mean_s",
                     "targets_met", "targets_missed", "targets_met_pct")
RESPONSE_LEAD_COLUMNS = ("from", "to", "lead_id", "name", "account_id", "source", "assigned_to", "agent_name",
                         "responded_by", "received_at", "clock_started_at", "first_response_at",
                         "first_response_kind", "response_s", "within_target")
SOURCE_COLUMNS = ("from", "to", "source", "leads", "hot", "duplicates", "no_email", "no_phone", "appointments",
                  "showed", "sold")
TOTAL = "TOTAL"


def cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = clean_text(value)  # no NUL or other control character reaches a file
        return "'" + text if text.lstrip(" ").startswith(_FORMULA_START) else text
    return value


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return (BOM + out.getvalue()).encode("utf-8")


def agents_csv(report: Mapping[str, Any], totals: Mapping[str, Any], first_day: str, last_day: str) -> bytes:
    """One row per agent and a totals row (score left empty: scores do not add up)."""
    period = {"from": first_day, "to": last_day}
    rows = [[{**period, **agent}.get(c) for c in AGENT_COLUMNS] for agent in report["agents"]]
    total = {**period, **totals, "user_id": "", "name": TOTAL, "score": None, "first_response_median_s": None}
    rows.append([total.get(c) for c in AGENT_COLUMNS])
    return write_csv(AGENT_COLUMNS, rows)


def dashboard_csv(report: Mapping[str, Any], first_day: str, last_day: str) -> bytes:
    """The headline figures, one row."""
    flat = {"from": first_day, "to": last_day, **report,
            "time_to_accept_median_s": report["time_to_accept"]["median_s"],
            "time_to_accept_mean_s": report["time_to_accept"]["mean_s"]}
    return write_csv(DASHBOARD_COLUMNS, [[flat.get(c) for c in DASHBOARD_COLUMNS]])


def response_time_csv(report: Mapping[str, Any], first_day: str, last_day: str) -> bytes:
    """One row per group and the totals row; one count and one % column per bucket."""
    bucket_names = [f"{hours_label(b['from_h'])}-{hours_label(b['to_h'])}h"
                    for b in report["totals"]["buckets"]]
    header = ["from", "to", "group_by", "key", "label", "leads", "responded", "not_responded", "mean_s", "median_s",
              "within_24h", "within_24h_pct"]
    for name in bucket_names:
        header += [name, f"{name}_pct"]
    rows = []
    for row in [*report["items"], {**report["totals"], "key": TOTAL, "label": TOTAL}]:
        values = [first_day, last_day, report["group_by"], row["key"], row["label"], row["leads"], row["responded"],
                  row["not_responded"], row["mean_s"], row["median_s"], row["within_24h"], row["within_24h_pct"]]
        for bucket in row["buckets"]:
            values += [bucket["count"], bucket["pct"]]
        rows.append(values)
    return write_csv(header, rows)


def response_leads_csv(rows: Iterable[Mapping[str, Any]], first_day: str, last_day: str) -> bytes:
    """The response-time report's detail: one row per lead (no totals row: the report has them)."""
    period = {"from": first_day, "to": last_day}
    return write_csv(RESPONSE_LEAD_COLUMNS, [[{**period, **r}.get(c) for c in RESPONSE_LEAD_COLUMNS] for r in rows])


def lead_sources_csv(report: Mapping[str, Any], first_day: str, last_day: str) -> bytes:
    period = {"from": first_day, "to": last_day}
    rows = [[{**period, **r}.get(c) for c in SOURCE_COLUMNS] for r in report["items"]]
    rows.append([{**period, **report["totals"], "source": TOTAL}.get(c) for c in SOURCE_COLUMNS])
    return write_csv(SOURCE_COLUMNS, rows)


def read_csv(body: bytes) -> list[dict[str, str]]:
    """The inverse, for tests and tools: rows as dicts of text."""
    text = body.decode("utf-8")
    text = text.removeprefix(BOM)
    return list(csv.DictReader(io.StringIO(text)))
