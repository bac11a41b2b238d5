"""Time-ordered ids: within one millisecond they keep the order they were made in, across kinds
(prefixes) and while ids for other times are made in between."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.ids import new_id, time_ordered_part

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def test_ids_of_one_millisecond_keep_the_order_they_were_made_in() -> None:
    made = []
    for n in range(2000):
        made.append(new_id(("msg", "evt", "rev")[n % 3], NOW))
        # Ids for other times in between (a message received earlier, a later reading) do not reset it.
        new_id("msg", NOW - timedelta(minutes=n % 7 + 1))
        new_id("evt", NOW + timedelta(milliseconds=n % 5 + 1))
    parts = [time_ordered_part(i) for i in made]
    assert parts == sorted(parts) and len(set(parts)) == len(parts)
    assert all(len(p) == 26 and p[:10] == parts[0][:10] for p in parts)


def test_ids_of_later_milliseconds_sort_after() -> None:
    first = new_id("msg", NOW + timedelta(milliseconds=1))
    later = new_id("evt", NOW + timedelta(milliseconds=2))
    assert time_ordered_part(first) < time_ordered_part(later)
