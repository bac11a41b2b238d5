"""A bearer token's times: `exp` (required), `nbf` and `iat` are RFC 7519 NumericDates — JSON
numbers of seconds since the epoch — or the token is refused. Pure; the clock's reading is passed in.

JSON as Python reads it also yields NaN, Infinity, numbers of any size, booleans and strings:
none of them is a time. A NaN compares false with everything (a token that never expired), and a
400-digit number overflows a float (an error where a refusal belongs), so each claim is checked
for its type, finiteness and a sane range before any comparison."""

from __future__ import annotations

import math
from typing import Any

from chalicelib.domain.errors import Unauthorized

EARLIEST = 0  # 1970-01-01T00:00:00Z
LATEST = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second an ISO 8601 date can name
# Clocks differ a little: a token from a moment ahead of ours is taken within this much.
LEEWAY_SECONDS = 60


def numeric_date(claims: dict[str, Any], name: str, *, required: bool = False) -> float | None:
    """The claim as seconds since the epoch, None when absent (and not required); 401 otherwise."""
    if name not in claims:
        if required:
            raise Unauthorized(f"the token has no {name}")
        return None
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unauthorized(f"the token's {name} is not a number of seconds")
    if isinstance(value, float) and not math.isfinite(value):
        raise Unauthorized(f"the token's {name} is not a finite number")
    if not EARLIEST <= value <= LATEST:
        raise Unauthorized(f"the token's {name} is out of range")
    return float(value)


def check_token_times(claims: dict[str, Any], now: float) -> None:
    """401 unless `exp` is after `now` and `nbf` (if any) is not after it (within the leeway);
    `iat`, if present, must be a NumericDate too."""
    expires = numeric_date(claims, "exp", required=True)
    not_before = numeric_date(claims, "nbf")
    numeric_date(claims, "iat")
    if expires is not None and expires <= now:
        raise Unauthorized("token expired")
    if not_before is not None and not_before > now + LEEWAY_SECONDS:
        raise Unauthorized("token not valid yet")
