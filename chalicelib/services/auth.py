"""Bearer tokens to principals.

HS256 with the local secret (local stack, tests) or Cognito RS256 checked against the
pool's JWKS (deployed), chosen by `Settings.auth_mode`. Only the token's `sub` is
trusted: it names a person; role and accounts come from their user record in the group
they act in, read on every request, so a deleted user's token stops working at once.

`verify` checks the token (no read) and names the `Caller`; `authorise` reads their record and
makes the `Principal`. A route that reads the caller's record together with what it reads anyway
(accepting an offer) calls `caller_record` on the record it read, and holds that record unchanged
in its transaction."""

from __future__ import annotations

import functools
import re
import time
from functools import lru_cache
from typing import Any

from chalicelib.deps import Deps
from chalicelib.domain.errors import Unauthorized
from chalicelib.domain.tenancy import Caller, Principal, Role
from chalicelib.domain.token_times import check_token_times
from chalicelib.domain.users import User
from chalicelib.services.memberships import resolve_from

TOKEN_HOURS = 12
# A group id as `ids.new_id` makes them; anything else cannot name a group the person is in.
GROUP_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def mint_local_token(secret: str, identity: str, now: float | None = None, hours: int = TOKEN_HOURS) -> str:
    """An HS256 token for the local stack and tests (never used when deployed); `identity`: the
    person (a user record's `identity`, not its `user_id` when that is a later membership)."""
    import jwt

    issued = int(now if now is not None else time.time())
    return jwt.encode({"sub": identity, "iat": issued, "exp": issued + hours * 3600}, secret, algorithm="HS256")


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


def verify(authorization: str | None, deps: Deps, group_id: str | None = None) -> Caller:
    """Who a bearer token names, with no read: the person its `sub` names, asking to act in
    `group_id` (the `X-Leadline-Group` header) or, without it, in their first group. 401 for a
    missing, malformed, wrongly signed or expired token."""
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
    return Caller(identity, group_id or None)


def authorise(deps: Deps, caller: Caller) -> Principal:
    """The caller as their user record describes them (read now)."""
    return principal_of(deps, caller_record(deps, caller, deps.users.get(caller.identity)))


def caller_record(deps: Deps, caller: Caller, first: User | None, likely: str | None = None) -> User:
    """The user record the caller acts as, given the person's first record (`USER#{identity}`) as it
    was read — by `authorise`, or by a use case together with what it reads anyway (None: there is
    none). Nothing more is read unless they ask for another group (then `likely`, the record the use
    case expects, is read first: memberships.resolve_from). 401 for an unknown or deleted person, and
    for a group they do not belong to: the same answer."""
    user = resolve_from(deps, caller.identity, caller.group_id, first, likely)
    if user is None:
        raise Unauthorized("unknown user" if not caller.group_id else "unknown user in that group")
    return user


def principal_of(deps: Deps, user: User) -> Principal:
    if user.role is not Role.GROUP_ADMIN:
        return user.principal()
    # The group's stores are read only by what lists across them; one store is judged on its record.
    return user.principal(group_stores=functools.partial(deps.accounts.ids_for_group, user.group_id))
