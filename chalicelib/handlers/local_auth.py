"""POST /auth/local/sign-in: the console's sign-in on the local stack (services/local_sign_in.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.handlers.http import Call, api
from chalicelib.handlers.users import user_view
from chalicelib.lazy import lazy_module
from chalicelib.schemas.tenancy import LocalSignInRequest, LocalSignInResponse

if TYPE_CHECKING:
    from chalicelib.services import local_sign_in as service
else:
    service = lazy_module("chalicelib.services.local_sign_in")

bp = Blueprint(__name__)


@api(bp, "/auth/local/sign-in", "POST", auth=False, body=LocalSignInRequest, response=LocalSignInResponse,
     summary="Local stack only: an email and the demo password `leadline local` prints for a bearer token "
             "(404 on every other stage)")
def local_sign_in(call: Call) -> Any:
    signed_in = service.local_sign_in(call.deps, call.body.email, call.body.password)
    return {"token": signed_in.token, "user": user_view(signed_in.user)}
