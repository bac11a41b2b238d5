"""The OpenAPI 3.1 document, built from the routes registered with `handlers.http.api`
and their pydantic schemas, so the document cannot drift from the code."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from chalicelib.schemas.common import ErrorResponse

_REF = "#/components/schemas/{model}"
_ERRORS = {"400": "Bad input; every bad field named in details", "401": "No or bad token",
           "403": "Not allowed", "404": "Absent, or in a tenant you cannot see", "409": "Conflict",
           "413": "Body too large"}


def _add_schema(components: dict[str, Any], model: type[BaseModel], mode: str) -> dict[str, str]:
    schema = model.model_json_schema(ref_template=_REF, mode=mode)  # type: ignore[arg-type]
    for name, sub in schema.pop("$defs", {}).items():
        components.setdefault(name, sub)
    components.setdefault(model.__name__, schema)
    return {"$ref": _REF.format(model=model.__name__)}


@lru_cache(maxsize=1)
def build_document() -> dict[str, Any]:
    from chalicelib.handlers.http import ROUTES

    components: dict[str, Any] = {}
    error_ref = _add_schema(components, ErrorResponse, "serialization")
    paths: dict[str, dict[str, Any]] = {}
    for spec in ROUTES:
        operation: dict[str, Any] = {
            "operationId": spec.name, "summary": spec.summary or spec.name, "tags": list(spec.tags),
            "responses": {},
        }
        params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                  for p in re.findall(r"{(\w+)}", spec.path)]
        params += [{"name": q, "in": "query", "required": False, "description": desc, "schema": {"type": "string"}}
                   for q, desc in spec.query.items()]
        if params:
            operation["parameters"] = params
        if spec.body is not None:
            operation["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": _add_schema(components, spec.body, "validation")}}}
        elif spec.method in ("POST", "PUT", "PATCH") and spec.content_types != ("application/json",):
            operation["requestBody"] = {"required": True, "content": {
                ct: {"schema": {"type": "string"}} for ct in spec.content_types}}
        if isinstance(spec.response, type) and issubclass(spec.response, BaseModel):
            content = {"application/json": {"schema": _add_schema(components, spec.response, "serialization")}}
        elif isinstance(spec.response, dict):
            content = spec.response
        else:
            content = {"application/json": {"schema": {"type": "object"}}}
        operation["responses"][str(spec.status)] = (
            {"description": "No content"} if spec.status == 204 else {"description": "OK", "content": content})
        for code, text in _ERRORS.items():
            if code == "401" and not spec.auth:
                continue
            operation["responses"][code] = {"description": text, "content": {"application/json": {"schema": error_ref}}}
        if spec.auth:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(spec.path, {})[spec.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Leadline", "version": "1.0.0",
                 "description": "Lead routing and conversations for multi-store dealer groups."},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(components.items())),
                       "securitySchemes": {"bearer": {
                           "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "The token's sub names a person; a person in several groups picks one "
                                          "with the header X-Leadline-Group: <group_id> (GET /me lists them)."}}},
    }
