"""Opaque, time-ordered ids (ULID layout: 48-bit milliseconds + 80 random bits).

Ids that sort by creation time let timeline events use the id itself as the sort key.
"""

from __future__ import annotations

import secrets
from datetime import datetime

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def ulid(at: datetime) -> str:
    millis = int(at.timestamp() * 1000)
    return _encode(millis, 10) + _encode(secrets.randbits(80), 16)


def new_id(prefix: str, at: datetime) -> str:
    return f"{prefix}_{ulid(at)}"
