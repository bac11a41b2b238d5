"""Time is injected: services ask a Clock, tests set one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, at: datetime | str = "2026-11-02T15:00:00Z") -> None:
        self._now = parse_time(at) if isinstance(at, str) else at.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, at: datetime | str) -> None:
        self._now = parse_time(at) if isinstance(at, str) else at.astimezone(UTC)

    def advance(self, seconds: float = 0, **kwargs: float) -> datetime:
        self._now = self._now + timedelta(seconds=seconds, **kwargs)
        return self._now


def parse_time(value: str) -> datetime:
    """ISO 8601 with offset (or Z) to an aware UTC datetime."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("time needs an offset or Z")
    return parsed.astimezone(UTC)


def iso(at: datetime) -> str:
    """UTC, millisecond precision, `Z`: sorts lexically in keys."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
