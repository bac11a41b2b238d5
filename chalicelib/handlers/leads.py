"""Leads: intake (JSON, ADF, the providers' ADF webhook), the Lead Manager list, a lead's detail,
edits, labels, notes, timeline, locks and assignment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain.errors import Forbidden, UnsupportedMediaType, ValidationFailed
from chalicelib.domain.lead_query import LeadFilters
from chalicelib.domain.leads import Lead, NewLead, Vehicle, active_lock
from chalicelib.domain.targets import response_due_at, response_state
from chalicelib.handlers.http import Call, api
from chalicelib.lazy import lazy_module
from chalicelib.schemas.leads import (
    AssignRequest,
    CreatedLeads,
    CreateLeadRequest,
    LabelRequest,
    LeadPage,
    LeadResponse,
    LeadRowResponse,
    NoteRequest,
    TimelineResponse,
    UpdateLeadRequest,
)

if TYPE_CHECKING:
    from chalicelib.services import intake, lead_edits
    from chalicelib.services import leads as service
else:
    intake = lazy_module("chalicelib.services.intake")
    service = lazy_module("chalicelib.services.leads")
    lead_edits = lazy_module("chalicelib.services.lead_edits")


bp = Blueprint(__name__)

XML_TYPES = ("application/xml", "text/xml")
MAX_FILTER_CHARS = 200
LIST_QUERY = {
    "account_id": "one store; omit for every store the caller sees",
    "folder": "inbox (default), awaiting, hot, warm, cold, follow_up, sold, dead, done, appointments, showed, "
              "scheduled, due (running response deadline, soonest first), delinquent (oldest first)",
    "source": "exact source", "campaign": "exact campaign", "label": "has this label",
    "assigned_to": "a user id, or `none` for unassigned leads", "q": "name, phone digits or email",
    "limit": "1-200, default 50", "cursor": "next_cursor of the previous page",
}


def lead_view(deps: Deps, lead: Lead, coalesced_into: str | None = None) -> dict[str, Any]:
    now = deps.clock.now()
    data = lead.model_dump(mode="json")
    data.update(name=lead.name, locked_by=active_lock(lead, iso(now)), coalesced_into=coalesced_into,
                response_due_at=response_due_at(lead), response_state=response_state(lead, now))
    return LeadResponse.model_validate(data).model_dump(mode="json")


def row_view(deps: Deps, row: service.LeadRow) -> dict[str, Any]:
    data = {**lead_view(deps, row.lead), "account_name": row.account_name, "waiting_since": row.lead.awaiting_since}
    data.pop("coalesced_into", None)
    return LeadRowResponse.model_validate(data).model_dump(mode="json", exclude={"coalesced_into"})


def _intake_view(deps: Deps, result: intake.IntakeResult) -> dict[str, Any]:
    return lead_view(deps, result.lead, result.coalesced_into)


def _require_xml(call: Call) -> None:
    kind = (call.header("content-type") or "").split(";")[0].strip().lower()
    if kind not in XML_TYPES:
        raise UnsupportedMediaType("send the ADF document as application/xml or text/xml")


# -- intake ----------------------------------------------------------------------------------

@api(bp, "/accounts/{account_id}/leads", "POST", body=CreateLeadRequest, response=LeadResponse, status=201,
     tags=("leads",), summary="Enter a lead; a repeat of an open lead joins it (`coalesced_into`)")
def create_lead(call: Call, account_id: str) -> Any:
    body: CreateLeadRequest = call.body
    vehicle = Vehicle.model_validate(body.vehicle.model_dump()) if body.vehicle else None
    data = NewLead.model_validate({**body.model_dump(exclude={"vehicle"}), "vehicle": vehicle})
    return _intake_view(call.deps, service.create_lead(call.deps, call.principal, account_id, data))


@api(bp, "/accounts/{account_id}/leads/adf", "POST", response=CreatedLeads, status=201, content_types=XML_TYPES,
     tags=("leads",), summary="Enter the prospects of an ADF 1.0 XML document, one lead (or coalesced repeat) each")
def create_leads_from_adf(call: Call, account_id: str) -> Any:
    account = service.store_for_intake(call.deps, call.principal, account_id)
    _require_xml(call)
    results = intake.receive_adf(call.deps, account, call.raw_body, by=call.principal.user_id)
    return {"items": [_intake_view(call.deps, r) for r in results]}


@api(bp, "/webhooks/leads/adf", "POST", response=CreatedLeads, status=201, auth=False, content_types=XML_TYPES,
     query={"account_id": "the store the provider posts for"},
     summary="Lead providers post ADF XML with the store's X-Api-Key")
def adf_webhook(call: Call) -> Any:
    key = call.header("x-api-key")
    account = call.deps.accounts.by_api_key(key) if key else None
    wanted = call.query.get("account_id")
    # Refused before the body is read: a wrong key stores nothing and says nothing about the store.
    if account is None or (wanted and wanted != account.account_id):
        raise Forbidden("a valid X-Api-Key for this account is required")
    _require_xml(call)
    results = intake.receive_adf(call.deps, account, call.raw_body)
    return {"items": [_intake_view(call.deps, r) for r in results]}


# -- the Lead Manager ------------------------------------------------------------------------

@api(bp, "/leads", "GET", response=LeadPage, query=LIST_QUERY,
     summary="Leads of one store or every store, newest activity first (awaiting: longest waiting first)")
def list_leads(call: Call) -> Any:
    query = call.query
    limit, cursor = call.paging()
    values = {k: (query.get(k) or "").strip() or None for k in ("source", "campaign", "label", "assigned_to", "q")}
    too_long = [{"field": k, "message": f"is longer than {MAX_FILTER_CHARS} characters"}
                for k, v in values.items() if v and len(v) > MAX_FILTER_CHARS]
    if too_long:
        raise ValidationFailed("the list has bad filters", details=too_long)
    filters = LeadFilters(**values)
    rows, following = service.list_leads(call.deps, call.principal, query.get("account_id") or None,
                                         (query.get("folder") or "inbox").strip(), filters, limit, cursor)
    return {"items": [row_view(call.deps, r) for r in rows], "next_cursor": following}


@api(bp, "/leads/{lead_id}", "GET", response=LeadResponse, summary="One lead")
def get_lead(call: Call, lead_id: str) -> Any:
    return lead_view(call.deps, service.get_lead(call.deps, call.principal, lead_id))


@api(bp, "/leads/{lead_id}", "PATCH", body=UpdateLeadRequest, response=LeadResponse,
     summary="Change names, phone, email, status (dead → hot opts back in), language, vehicle, financial, done")
def patch_lead(call: Call, lead_id: str) -> Any:
    return lead_view(call.deps, lead_edits.update_lead(call.deps, call.principal, lead_id, call.body))


@api(bp, "/leads/{lead_id}/labels", "POST", body=LabelRequest, response=LeadResponse, summary="Add a label")
def add_label(call: Call, lead_id: str) -> Any:
    return lead_view(call.deps, lead_edits.add_label(call.deps, call.principal, lead_id, call.body.label))


@api(bp, "/leads/{lead_id}/labels/{label}", "DELETE", response=LeadResponse, summary="Remove a label")
def remove_label(call: Call, lead_id: str, label: str) -> Any:
    from urllib.parse import unquote

    return lead_view(call.deps, lead_edits.remove_label(call.deps, call.principal, lead_id, unquote(label)))


@api(bp, "/leads/{lead_id}/notes", "POST", body=NoteRequest, status=201,
     summary="Add a note; every @email of a user who can see the lead notifies them")
def add_note(call: Call, lead_id: str) -> Any:
    return lead_edits.add_note(call.deps, call.principal, lead_id, call.body.text).view()


@api(bp, "/leads/{lead_id}/timeline", "GET", response=TimelineResponse,
     summary="Everything that happened, oldest first")
def get_timeline(call: Call, lead_id: str) -> Any:
    return {"items": [e.view() for e in service.timeline(call.deps, call.principal, lead_id)]}


@api(bp, "/leads/{lead_id}/lock", "POST", response=LeadResponse,
     summary="Take the lead's lock (expires after 5 minutes idle); 409 `locked` with `locked_by`")
def lock_lead(call: Call, lead_id: str) -> Any:
    return lead_view(call.deps, lead_edits.lock(call.deps, call.principal, lead_id))


@api(bp, "/leads/{lead_id}/lock", "DELETE", response=LeadResponse, summary="Release the lead's lock")
def unlock_lead(call: Call, lead_id: str) -> Any:
    return lead_view(call.deps, lead_edits.unlock(call.deps, call.principal, lead_id))


@api(bp, "/leads/{lead_id}/assign", "POST", body=AssignRequest, response=LeadResponse,
     summary="Give the lead to a user (admin, manager, group_admin); cancels any pending offer")
def assign_lead(call: Call, lead_id: str) -> Any:
    return lead_view(call.deps, lead_edits.assign(call.deps, call.principal, lead_id, call.body.user_id))
