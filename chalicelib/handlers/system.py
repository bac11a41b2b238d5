"""Health and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.handlers.http import Call, api
from chalicelib.schemas.tenancy import HealthResponse

bp = Blueprint(__name__)


@api(bp, "/health", "GET", auth=False, response=HealthResponse, summary="Liveness")
def health(call: Call) -> Any:
    return {"status": "ok"}


@api(bp, "/openapi.json", "GET", auth=False, summary="This API's OpenAPI 3.1 document")
def openapi(call: Call) -> Any:
    from chalicelib.openapi import build_document

    return build_document()
