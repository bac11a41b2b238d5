"""The local stack's sign-in: an email and the demo password for an HS256 token.

Only the local stage with a password set has it (`leadline local` generates the password
into $LEADLINE_HOME/password); everywhere else the route answers exactly as a path no
route has, so a deployed stage shows no trace of it. Deployed sign-in is Cognito's."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from chalicelib.deps import Deps
from chalicelib.domain.errors import NotFound, Unauthorized
from chalicelib.domain.users import User
from chalicelib.services.auth import mint_local_token
from chalicelib.services.memberships import resolve

# The same answer as the gateway gives a path no route has (leadline/local/gateway.py).
NO_SUCH_ROUTE = "no route has this path"
WRONG_CREDENTIALS = "wrong email or password"


@dataclass(frozen=True)
class SignedIn:
    token: str
    user: User


def local_sign_in_available(deps: Deps) -> bool:
    settings = deps.settings
    return settings.stage == "local" and settings.auth_mode == "hs256" and bool(settings.local_password) \
        and bool(settings.jwt_secret)


def local_sign_in(deps: Deps, email: str, password: str) -> SignedIn:
    """Raises NotFound off the local stage, Unauthorized for a wrong password or an unknown user
    (one message for both: the answer does not tell which emails exist)."""
    if not local_sign_in_available(deps):
        raise NotFound(NO_SUCH_ROUTE)
    password_ok = hmac.compare_digest(password.encode(), deps.settings.local_password.encode())
    identity = deps.users.identity_of(email)
    user = resolve(deps, identity, None) if identity else None
    if not password_ok or user is None:
        raise Unauthorized(WRONG_CREDENTIALS)
    token = mint_local_token(deps.settings.jwt_secret, user.identity, now=deps.clock.now().timestamp())
    return SignedIn(token=token, user=user)
