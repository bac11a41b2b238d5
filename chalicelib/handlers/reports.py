"""Reports: /reports/* (managers and up), the nightly fan-out schedule and its queue consumer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Cron, Response

from chalicelib.config import get_settings
from chalicelib.deps import get_deps
from chalicelib.domain.reports.stats import parse_buckets
from chalicelib.handlers.http import PAGING_QUERY, Call, api, parse_model
from chalicelib.lazy import lazy_module
from chalicelib.observability import logger
from chalicelib.schemas.reports import (
    AssistantResponse,
    DashboardResponse,
    FilesQuery,
    InternetResponseResponse,
    LeadSourcesResponse,
    NightlyJob,
    OverviewQuery,
    OverviewResponse,
    ReportFilesResponse,
    ReportQuery,
    ResponseLeadsPage,
    ResponseLeadsQuery,
    ResponseTimeQuery,
    ResponseTimeResponse,
    StalePage,
    StaleQuery,
    StoreQuery,
)

if TYPE_CHECKING:
    from chalicelib.services import nightly, report_leads
    from chalicelib.services import reports as service
else:
    nightly = lazy_module("chalicelib.services.nightly")
    report_leads = lazy_module("chalicelib.services.report_leads")
    service = lazy_module("chalicelib.services.reports")


bp = Blueprint(__name__)

PERIOD = {"account_id": "one store (default: every store you can see)",
          "from": "YYYY-MM-DD, in the store's timezone (default: 29 days before `to`)",
          "to": "YYYY-MM-DD, included (default: today in the store's timezone)",
          "as_of": "ISO 8601 time: count outcomes up to this instant (default: now)"}


def _wants_csv(call: Call) -> bool:
    return "text/csv" in (call.header("accept") or "").lower()


def _csv(name: str, body: bytes | str) -> Response:
    return Response(body=body if isinstance(body, str) else body.decode("utf-8"), status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": f'attachment; filename="{name}"'})


@api(bp, "/reports/dashboard", "GET", response=DashboardResponse, query=PERIOD,
     summary="Leads, acceptance, delinquency, time to accept, and a row per agent (Accept: text/csv for CSV)")
def get_dashboard(call: Call) -> Any:
    query = parse_model(ReportQuery, call.query)
    report = service.dashboard(call.deps, service.query_scope(call.deps, call.principal, query))
    if _wants_csv(call):
        return _csv(f"dashboard-{report['period']['from']}-{report['period']['to']}.csv", service.dashboard_csv(report))
    return report


@api(bp, "/reports/response-time", "GET", response=ResponseTimeResponse,
     query={**PERIOD, "group_by": "agent | account | source | source_group",
            "buckets": "up to five FROM-TO hour ranges, e.g. 0-1,1-6,6-24"},
     summary="Arrival (or next opening) to the first human response, grouped")
def get_response_time(call: Call) -> Any:
    query = parse_model(ResponseTimeQuery, call.query)
    buckets = parse_buckets(query.buckets)
    scope = service.query_scope(call.deps, call.principal, query)
    return service.response_time(call.deps, scope, query.group_by, buckets)


@api(bp, "/reports/response-time/leads", "GET", response=ResponseLeadsPage,
     query={**PERIOD, "source": "one source's leads", "agent": "the leads the response-time report puts on this "
            "user_id (who answered first, else the owner; `unassigned`)", **PAGING_QUERY},
     summary="The detail behind the response-time report: a row per lead of the period, oldest first "
             "(Accept: text/csv for every row as CSV)")
def get_response_time_leads(call: Call) -> Any:
    query = parse_model(ResponseLeadsQuery, call.query)
    scope = service.query_scope(call.deps, call.principal, query)
    if _wants_csv(call):
        return _csv(*report_leads.as_csv(call.deps, scope, query.source, query.agent))
    limit, cursor = call.paging()
    return report_leads.page(call.deps, scope, query.source, query.agent, limit, cursor)


@api(bp, "/reports/lead-sources", "GET", response=LeadSourcesResponse, query=PERIOD,
     summary="Requests, duplicates and outcomes per lead source")
def get_lead_sources(call: Call) -> Any:
    query = parse_model(ReportQuery, call.query)
    return service.lead_sources(call.deps, service.query_scope(call.deps, call.principal, query))


@api(bp, "/reports/overview", "GET", response=OverviewResponse, query={**PERIOD, "kind": "sales | service"},
     summary="A row per store of the kind and the group's totals")
def get_overview(call: Call) -> Any:
    return service.overview(call.deps, call.principal, parse_model(OverviewQuery, call.query))


@api(bp, "/reports/assistant", "GET", response=AssistantResponse, query=PERIOD,
     summary="The cadences' work over the period's leads: enrolled, contacted, engaged ..., and per cadence")
def get_assistant(call: Call) -> Any:
    query = parse_model(ReportQuery, call.query)
    return service.assistant(call.deps, service.query_scope(call.deps, call.principal, query))


@api(bp, "/reports/internet-response", "GET", response=InternetResponseResponse,
     query={"account_id": PERIOD["account_id"]}, summary="New leads of the last 12 hours and their responses")
def get_internet_response(call: Call) -> Any:
    query = parse_model(StoreQuery, call.query)
    return service.internet_response(call.deps, call.principal, query.account_id)


@api(bp, "/reports/stale", "GET", response=StalePage,
     query={"account_id": PERIOD["account_id"], "hours": "waiting longer than this (default 24)",
            "limit": "page size", "cursor": "next page"},
     summary="Leads awaiting a reply for longer than N hours, longest first, with their agent")
def get_stale(call: Call) -> Any:
    query = parse_model(StaleQuery, call.query)
    limit, cursor = call.paging()
    return service.stale_leads(call.deps, call.principal, query.account_id, query.hours, limit, cursor)


@api(bp, "/reports/files", "GET", response=ReportFilesResponse,
     query={"date": "YYYY-MM-DD (default: yesterday in each store's timezone)", "account_id": PERIOD["account_id"]},
     summary="The nightly report files with download links valid for 15 minutes")
def get_files(call: Call) -> Any:
    query = parse_model(FilesQuery, call.query)
    return {"items": nightly.list_files(call.deps, call.principal, query.account_id, query.day)}


# -- nightly ----------------------------------------------------------------------------------

@bp.schedule(Cron(15, "*", "*", "*", "?", "*"))
def nightly_reports_fan_out(event: Any) -> dict[str, int]:
    """Hourly: one message per store whose local time is 01:xx, for the local day just ended."""
    queued = nightly.fan_out(get_deps())
    if queued:
        logger.info("nightly report jobs queued", extra={"jobs": queued})
    return {"queued": queued}


@bp.on_sqs_message(queue=get_settings().queue_name("reports"), batch_size=10)
def nightly_reports_worker(event: Any) -> Any:
    """Writes one store's night per message; rewriting a night gives identical files, so a
    message delivered twice (or late) is harmless."""
    from chalicelib.handlers.queues import NightlyRecord, consume

    return consume(event, NightlyRecord, _nightly_record)


def _nightly_record(record: Any) -> None:
    job: NightlyJob = record.body
    keys = nightly.run_nightly(get_deps(), job.day, [job.account_id])
    logger.info("nightly report job done", extra={"account_id": job.account_id, "date": job.day.isoformat(),
                                                  "files": len(keys), "message_id": record.messageId})
