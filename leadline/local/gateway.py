"""The local stand-in for API Gateway's answers that never reach the app.

chalice.local answers a path no route has the way API Gateway does out of the box: 403
`{"message": "Missing Authentication Token"}`. The packaged stage replaces that gateway
response with a 404 in the contract's error shape (`GATEWAY_ERRORS` in leadline/package.py),
and so does the local stack, so a client meets the same answer on both."""

from __future__ import annotations

import functools
import json
from typing import Any

from chalice.local import ChaliceRequestHandler, ForbiddenError, LocalGatewayException

from chalicelib.handlers.http import error_body

UNKNOWN_ROUTE_MESSAGE = "no route has this path"


class ContractRequestHandler(ChaliceRequestHandler):
    def _send_error_response(self, error: LocalGatewayException) -> None:
        # The app has no Chalice authorizers, so the local gateway's only ForbiddenError is an unmatched path.
        if isinstance(error, ForbiddenError):
            body = json.dumps(error_body("not_found", UNKNOWN_ROUTE_MESSAGE)).encode()
            self._send_http_response(404, {"Content-Type": "application/json"}, body)
            return
        super()._send_error_response(error)


def use_contract_errors(server: Any, app: Any, config: Any) -> None:
    """Make a chalice.local LocalDevServer answer unmatched paths in the contract's shape."""
    server.server.RequestHandlerClass = functools.partial(ContractRequestHandler, app_object=app, config=config)
