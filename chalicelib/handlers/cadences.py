"""Cadences ("the assistant"): a store's cadences, and a lead's enrolment by hand or its removal.
The steps themselves run on the timers queue (handlers/routing.py's consumer, services/due.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.domain.cadences import Cadence
from chalicelib.handlers.http import Call, api
from chalicelib.handlers.leads import lead_view
from chalicelib.lazy import lazy_module
from chalicelib.schemas.cadences import CadencePage, CadenceRequest, CadenceResponse, EnrolRequest, UpdateCadenceRequest
from chalicelib.schemas.leads import LeadResponse

if TYPE_CHECKING:
    from chalicelib.services import cadences as service
else:
    service = lazy_module("chalicelib.services.cadences")

bp = Blueprint(__name__)


def cadence_view(cadence: Cadence) -> dict[str, Any]:
    return CadenceResponse.model_validate(cadence.model_dump(mode="json")).model_dump(mode="json")


@api(bp, "/accounts/{account_id}/cadences", "GET", response=CadencePage, tags=("cadences",),
     summary="The store's cadences, by name")
def list_cadences(call: Call, account_id: str) -> Any:
    limit, cursor = call.paging()
    items, following = service.list_cadences(call.deps, call.principal, account_id, limit, cursor)
    return {"items": [cadence_view(c) for c in items], "next_cursor": following}


@api(bp, "/accounts/{account_id}/cadences", "POST", body=CadenceRequest, response=CadenceResponse, status=201,
     tags=("cadences",), summary="Add a cadence: timed automated messages until a person should take over "
                                 "(managers and up)")
def create_cadence(call: Call, account_id: str) -> Any:
    return cadence_view(service.create_cadence(call.deps, call.principal, account_id,
                                               call.body.model_dump(mode="json")))


@api(bp, "/cadences/{cadence_id}", "GET", response=CadenceResponse, summary="One cadence")
def get_cadence(call: Call, cadence_id: str) -> Any:
    return cadence_view(service.get_cadence(call.deps, call.principal, cadence_id))


@api(bp, "/cadences/{cadence_id}", "PATCH", body=UpdateCadenceRequest, response=CadenceResponse,
     summary="Change a cadence (managers and up); enrolled leads go on with it from the step they are at")
def patch_cadence(call: Call, cadence_id: str) -> Any:
    changes = call.body.model_dump(mode="json", exclude_unset=True)
    return cadence_view(service.update_cadence(call.deps, call.principal, cadence_id, changes))


@api(bp, "/cadences/{cadence_id}", "DELETE", status=204,
     summary="Delete a cadence (managers and up); each enrolment in it stops at its next step")
def delete_cadence(call: Call, cadence_id: str) -> Any:
    service.delete_cadence(call.deps, call.principal, cadence_id)
    return Response(body="", status_code=204)


@api(bp, "/leads/{lead_id}/cadence", "POST", body=EnrolRequest, response=LeadResponse, tags=("leads",),
     summary="Enrol the lead in a cadence of its store (assign funnel); replaces an active enrolment")
def enrol_lead(call: Call, lead_id: str) -> Any:
    return lead_view(call.deps, service.enrol_lead(call.deps, call.principal, lead_id, call.body.cadence_id))


@api(bp, "/leads/{lead_id}/cadence", "DELETE", response=LeadResponse, tags=("leads",),
     summary="Take the lead off its cadence (stop reason `removed`)")
def remove_from_cadence(call: Call, lead_id: str) -> Any:
    return lead_view(call.deps, service.remove_lead(call.deps, call.principal, lead_id))
