"""Bearer tokens to principals.

HS256 with the local secret (local stack, tests) or Cognito RS256 checked against the
pool's JWKS (deployed), chosen by `Settings.auth_mode`. Only the token's `sub` is
trusted: role and accounts come from the user record, read on every request, so a
deleted user's token stops working at once."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

from chalicelib.deps import Deps
from chalicelib.domain.errors import Unauthorized
from chalicelib.domain.tenancy import Principal, Role
from chalicelib.domain.token_times import check_token_times

TOKEN_HOURS = 12


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


def authenticate(authorization: str | None, deps: Deps) -> Principal:
    if not authorization:
        raise Unauthorized("missing bearer token")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("expected 'Authorization: Bearer <token>'")
    claims = _claims(token.strip(), deps)
    user_id = claims.get("sub")
    if not isinstance(user_id, str) or not user_id:
        raise Unauthorized("token has no subject")
    user = deps.users.get(user_id)
    if user is None or user.deleted:
        raise Unauthorized("unknown user")
    group_accounts = deps.accounts.ids_for_group(user.group_id) if user.role is Role.GROUP_ADMIN else frozenset()
    return user.principal(group_accounts)
