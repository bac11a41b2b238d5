"""Cursors: every list's cursor is an opaque string (`encode_cursor` / `decode_cursor`, URL-safe
base64 of JSON). The lists that page one ordered partition (users, accounts) also sign theirs.

A cursor names the list it belongs to (a signature over the list's name, the caller's group and
what the caller may see) and the sort position of the last item it gave out. A cursor of another
list, group or caller is refused with a 400 rather than silently resuming somewhere else; and as
the position is always an item the caller was shown, a cursor never carries anything they could
not see. The signature need not be secret: a forged one only reaches a list the caller reads
under their own visibility rules anyway."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import ValidationFailed


def encode_cursor(state: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed.field("cursor", "is not a cursor this API gave out") from exc


# Longer than any email (254) or id we give out: a longer position was not made by us.
MAX_POSITION_CHARS = 256


def list_signature(*parts: Any) -> str:
    raw = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ListCursor:
    signature: str
    after: tuple[str, ...]

    def to_state(self) -> dict[str, Any]:
        return {"s": self.signature, "a": list(self.after)}

    @classmethod
    def from_state(cls, state: Any, signature: str, arity: int) -> ListCursor:
        """The cursor of the list `signature` names, whose positions have `arity` parts; 400 otherwise."""
        if not isinstance(state, dict) or state.get("s") != signature:
            raise ValidationFailed.field("cursor", "is not a cursor of this list")
        after = state.get("a")
        if (not isinstance(after, list) or len(after) != arity
                or any(not isinstance(p, str) or not 0 < len(p) <= MAX_POSITION_CHARS for p in after)):
            raise ValidationFailed.field("cursor", "is not a cursor of this list")
        return cls(signature, tuple(after))
