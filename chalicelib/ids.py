"""Opaque, time-ordered ids (ULID layout: 48-bit milliseconds + 80 random bits).

Ids that sort by creation time let timeline events use the id itself as the sort key.
Within one millisecond a process's ids keep the order they were made in (the random part
grows, by a random step, instead of being drawn afresh): an answer written in the same
millisecond as the message it answers still sorts after it.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from datetime import datetime

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# The first id of a millisecond starts in the lower half of the random space, so the random steps
# of the ids after it (at most 2**32 each) can never wrap around within that millisecond.
_START_BITS = 79
_STEP_BITS = 32
# The latest random part per millisecond, for the few most recent milliseconds ids were made for:
# ids made for different times in turn (now, a message received a while ago) keep each sequence.
_RECENT_MILLISECONDS = 256
_latest_lock = threading.Lock()
_latest: OrderedDict[int, int] = OrderedDict()


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def ulid(at: datetime) -> str:
    millis = int(at.timestamp() * 1000)
    with _latest_lock:
        previous = _latest.get(millis)
        randomness = secrets.randbits(_START_BITS) if previous is None else previous + 1 + secrets.randbits(_STEP_BITS)
        _latest[millis] = randomness
        _latest.move_to_end(millis)
        if len(_latest) > _RECENT_MILLISECONDS:
            _latest.popitem(last=False)
    return _encode(millis, 10) + _encode(randomness, 16)


def time_ordered_part(an_id: str) -> str:
    """The ULID of a `prefix_ULID` id: ids of different kinds (evt_, msg_) compare by it in time order."""
    return an_id.rsplit("_", 1)[-1]


def new_id(prefix: str, at: datetime) -> str:
    return f"{prefix}_{ulid(at)}"
