"""Bearer tokens to principals.

HS256 with the local secret (local stack, tests) or Cognito RS256 checked against the
pool's JWKS (deployed), chosen by `Settings.auth_mode`. Only the token's `sub` is
trusted: it names a person; role and accounts come from their user record in the group
they act in, read on every request, so a deleted user's token stops working at once."""

from __future__ import annotations

import re
import time
from functools import lru_cache
from typing import Any

from chalicelib.deps import Deps
from chalicelib.domain.errors import Unauthorized
from chalicelib.domain.tenancy import Principal, Role
from chalicelib.domain.token_times import check_token_times
from chalicelib.services.memberships import resolve

TOKEN_HOURS = 12
# A group id as `ids.new_id` makes them; anything else cannot name a group the person is in.
GROUP_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def mint_local_token(secret: str, user_id: str, now: float | None = None, hours: int = TOKEN_HOURS) -> str:
    """An HS256 token for the local stack and tests (never used when deployed)."""
    import jwt

    issued = int(now if now is not None else time.time())
    return jwt.encode({"sub": user_id, "iat": issued, "exp": issued + hours * 3600}, secret, algorithm="HS256")


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> Any:
    import jwt

    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600)


def _claims(token: str, deps: Deps) -> dict[str, Any]:
    import jwt

    settings = deps.settings
    now = deps.clock.now().timestamp()
    # Time claims are checked below against the injected clock, not PyJWT's wall clock.
    options: Any = {"require": ["sub", "exp"], "verify_exp": False, "verify_iat": False, "verify_nbf": False}
    try:
        if settings.auth_mode == "cognito":
            jwks = _jwks_client(f"{settings.cognito_issuer}/.well-known/jwks.json")
            signing_key = jwks.get_signing_key_from_jwt(token)
            # Cognito names the app client in `aud` (ID tokens) or `client_id` (access tokens): checked here.
            claims = jwt.decode(token, signing_key.key, algorithms=["RS256"], issuer=settings.cognito_issuer,
                                options={**options, "verify_aud": False})
            if claims.get("token_use") not in ("access", "id"):
                raise Unauthorized("not a Cognito access or ID token")
            audience = claims.get("aud") or claims.get("client_id")
            if settings.cognito_app_client_id and audience != settings.cognito_app_client_id:
                raise Unauthorized("token was issued for another client")
        else:
            if not settings.jwt_secret:
                raise Unauthorized("local tokens are not configured")
            claims = jwt.decode(token, settings.jwt_secret, algorithms=["HS256"], options=options)
    except jwt.PyJWTError as exc:
        raise Unauthorized("invalid token") from exc
    # exp / nbf / iat must be NumericDates, and are checked against the injected clock.
    check_token_times(claims, now)
    return claims


def authenticate(authorization: str | None, deps: Deps, group_id: str | None = None) -> Principal:
    """The principal of a bearer token: the person its `sub` names, acting in `group_id`
    (the `X-Leadline-Group` header) or, without it, in their first group."""
    if not authorization:
        raise Unauthorized("missing bearer token")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("expected 'Authorization: Bearer <token>'")
    claims = _claims(token.strip(), deps)
    identity = claims.get("sub")
    if not isinstance(identity, str) or not identity:
        raise Unauthorized("token has no subject")
    if group_id and not GROUP_ID.fullmatch(group_id):
        raise Unauthorized("unknown user in that group")
    user = resolve(deps, identity, group_id or None)
    if user is None:
        # One answer for an unknown person and for a group they do not belong to.
        raise Unauthorized("unknown user" if not group_id else "unknown user in that group")
    group_accounts = deps.accounts.ids_for_group(user.group_id) if user.role is Role.GROUP_ADMIN else frozenset()
    return user.principal(group_accounts)
