"""Small, exact statistics and the response-time buckets parameter."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.domain.errors import ValidationFailed

MAX_BUCKETS = 5
DEFAULT_BUCKETS = "0-1,1-6,6-24"


def mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def median(values: Sequence[float]) -> float | None:
    """The middle value; the mean of the two middle values for an even count."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def seconds(value: float | None) -> float | None:
    """Durations are reported in seconds with one decimal."""
    return None if value is None else round(value, 1)


def rate(part: int, whole: int) -> float:
    """A fraction 0..1 with four decimals; 0 when there is nothing to divide."""
    return round(part / whole, 4) if whole else 0.0


def pct(part: int, whole: int) -> float:
    """A percentage 0..100 with one decimal; 0 when there is nothing to divide."""
    return round(100 * part / whole, 1) if whole else 0.0


@dataclass(frozen=True)
class Bucket:
    """Responses that took from `from_h` (included) to `to_h` (excluded) hours."""

    from_h: float
    to_h: float

    def holds(self, hours: float) -> bool:
        return self.from_h <= hours < self.to_h


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise ValueError(text)
    return value


def parse_buckets(raw: str | None) -> list[Bucket]:
    """`0-1,1-6,6-24` -> buckets in hours. Up to five, each `from-to` with from < to, in
    ascending order without overlap (gaps are allowed). Any problem is a 400 naming `buckets`."""
    text = DEFAULT_BUCKETS if raw is None or raw.strip() == "" else raw
    parts = [p.strip() for p in text.split(",")]
    if len(parts) > MAX_BUCKETS:
        raise ValidationFailed.field("buckets", f"at most {MAX_BUCKETS} buckets")
    buckets: list[Bucket] = []
    for part in parts:
        bounds = part.split("-")
        try:
            if len(bounds) != 2:
                raise ValueError(part)
            low, high = _number(bounds[0]), _number(bounds[1])
        except ValueError:
            raise ValidationFailed.field("buckets", f"{part!r} is not FROM-TO in hours, e.g. 0-1") from None
        if low >= high:
            raise ValidationFailed.field("buckets", f"{part!r} must start below where it ends")
        if buckets and low < buckets[-1].to_h:
            raise ValidationFailed.field("buckets", f"{part!r} overlaps or precedes the bucket before it")
        buckets.append(Bucket(low, high))
    return buckets


def hours_label(value: float) -> float | int:
    """1.0 -> 1 so bucket bounds read as the caller wrote them."""
    return int(value) if value == int(value) else value
