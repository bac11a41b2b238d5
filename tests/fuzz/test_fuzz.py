"""Schemathesis against the target's own /openapi.json: every operation, generated requests with a
real group_admin token (and, half the time, the real ids of the group's store, lead and user so
requests reach past the 404s). Zero 5xx; every error in the contract's shape.

`make test` runs a short deterministic pass in-process; `make fuzz` (--fuzz-stack --fuzz-examples=N)
a long random one against a local stack over HTTP (tests/fuzz/targets.py)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from tests.fuzz.targets import FuzzTarget

TOTALS: dict[str, int] = {"cases": 0, "operations": 0}


def _document() -> dict[str, Any]:
    from app import app  # noqa: F401  (registers every route)
    from chalicelib.openapi import build_document

    build_document.cache_clear()
    return build_document()


OPERATIONS = sorted((path, method.upper()) for path, methods in _document()["paths"].items() for method in methods)


def _routable(value: str) -> bool:
    return bool(value.strip()) and value not in (".", "..") and not any(c in value for c in "/?#%\\")


def error_shape_problem(status: int, headers: Any, body: Any, gateway_answers_unshaped: bool) -> str | None:
    if status < 400:
        return None
    if gateway_answers_unshaped and any(name.lower() == "x-amzn-errortype" for name in headers):
        # x-amzn-ErrorType: chalice's in-process gateway's own answer (no route matched), not the app's.
        return None
    err = body.get("error") if isinstance(body, dict) else None
    if not (isinstance(err, dict) and isinstance(err.get("code"), str) and isinstance(err.get("message"), str)
            and isinstance(err.get("details"), list)):
        return f"{status} body not in the contract's error shape: {body!r:.300}"
    return None


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_fuzz_operation(fuzz_target: FuzzTarget, fuzz_budget: tuple[int, bool], path: str, method: str) -> None:
    total, long_run = fuzz_budget
    per_operation = max(3, math.ceil(total / len(OPERATIONS)))
    token, ids = fuzz_target.token, fuzz_target.ids
    operation = fuzz_target.schema[path][method]
    cases = 0

    @settings(max_examples=per_operation, deadline=None, derandomize=not long_run, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate, Phase.shrink])
    @given(case=operation.as_strategy(), use_real_ids=st.booleans())
    def run(case: Any, use_real_ids: bool) -> None:
        # A path parameter that changes which route matches ("a/b", "x?", "..") is answered by the
        # gateway (API Gateway deployed, chalice's router here), never by the app.
        assume(all(_routable(str(v)) for v in (case.path_parameters or {}).values()))
        if use_real_ids:
            for name in list(case.path_parameters or {}):
                if name in ids:
                    case.path_parameters[name] = ids[name]
            if case.query is not None and "account_id" in case.query:
                case.query["account_id"] = ids["account_id"]
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        nonlocal cases
        response = fuzz_target.send(case)
        cases += 1
        TOTALS["cases"] += 1
        assert response.status_code < 500, f"{response.status_code} for {case.as_curl_command()}"
        try:
            body = response.json()
        except Exception:
            body = None
        problem = error_shape_problem(response.status_code, response.headers, body,
                                      gateway_answers_unshaped=fuzz_target.gateway_answers_unshaped)
        assert problem is None, f"{problem}\n{case.as_curl_command()}"

    run()
    TOTALS["operations"] += 1
    print(f"{method} {path} ({fuzz_target.name}): {cases} cases "
          f"(total {TOTALS['cases']} over {TOTALS['operations']} operations)")
