"""The OpenAPI document is valid OpenAPI 3 and lists every route the app serves."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from tests.support import World


def test_openapi_document_is_valid_and_complete(world: World) -> None:
    from app import app

    reply = world.get("/openapi.json")
    assert reply.status == 200
    document = reply.json
    validate(document)
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    served = {(path, method) for path, methods in app.routes.items() for method in methods}
    assert served == documented
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            params = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert params == set(re.findall(r"{(\w+)}", path)), (method, path)
