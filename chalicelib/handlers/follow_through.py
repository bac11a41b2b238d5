"""Follow-through: a store's response targets (/accounts/{account_id}/response-targets).

The deadlines they set run on the timers queue and the every-minute due sweep (handlers/routing.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.domain.targets import ResponseTargets
from chalicelib.handlers.http import Call, api
from chalicelib.lazy import lazy_module
from chalicelib.schemas.targets import ResponseTargetsRequest, ResponseTargetsResponse

if TYPE_CHECKING:
    from chalicelib.services import response_targets as service
else:
    service = lazy_module("chalicelib.services.response_targets")

bp = Blueprint(__name__)


def targets_view(account_id: str, targets: ResponseTargets | None) -> dict[str, Any]:
    data = targets.model_dump(mode="json") if targets is not None else {}
    return ResponseTargetsResponse.model_validate({**data, "account_id": account_id,
                                                   "enabled": targets is not None}).model_dump(mode="json")


@api(bp, "/accounts/{account_id}/response-targets", "PUT", body=ResponseTargetsRequest,
     response=ResponseTargetsResponse,
     summary="Replace a store's response targets (admin); they apply to leads from their next owner on")
def put_response_targets(call: Call, account_id: str) -> Any:
    targets = service.put_targets(call.deps, call.principal, account_id, call.body.model_dump(mode="json"))
    return targets_view(account_id, targets)


@api(bp, "/accounts/{account_id}/response-targets", "GET", response=ResponseTargetsResponse,
     summary="A store's response targets (every target field null when it has none)")
def get_response_targets(call: Call, account_id: str) -> Any:
    return targets_view(account_id, service.get_targets(call.deps, call.principal, account_id))


@api(bp, "/accounts/{account_id}/response-targets", "DELETE", status=204,
     summary="Remove a store's response targets (admin): leads taken from now on get no deadline")
def delete_response_targets(call: Call, account_id: str) -> Any:
    service.delete_targets(call.deps, call.principal, account_id)
    return Response(body="", status_code=204)
