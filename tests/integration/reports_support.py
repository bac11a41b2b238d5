"""Helpers of the reports tests: report events and score entries written through the
lead repository's own operations (as the writers do), and the golden store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.adapters.dynamodb.leads import LeadRepository
from chalicelib.domain.report_events import ReportEvent
from chalicelib.domain.scoring import ScoreEvent
from tests.support import World

_REASON_BY_POINTS = {2: "accept", 1: "decline", -5: "timeout", 4: "requeue"}


def _put(world: World, op: dict[str, Any]) -> None:
    # The writers' own item and condition, one PutItem each: moto copies the whole table for
    # every TransactWriteItems, which makes thousands of records take minutes.
    put = op["Put"]
    world.deps.table.put(put["Item"], condition=put.get("ConditionExpression"))


def store_events(world: World, events: list[dict[str, Any]]) -> None:
    """Written as the writers write them; the stream consumer rolls them up before this returns."""
    for e in events:
        _put(world, LeadRepository(world.deps.table).add_report(ReportEvent.model_validate(e)).op)
    world.settle()


def store_scores(world: World, entries: list[ScoreEvent]) -> None:
    for e in entries:
        _put(world, LeadRepository(world.deps.table).add_score(e).op)
    world.settle()


def score(user_id: str, account_id: str, at: str, points: int, n: int, lead_id: str = "L") -> ScoreEvent:
    return ScoreEvent(event_id=f"scr_{n:06d}", user_id=user_id, account_id=account_id, lead_id=lead_id, at=at,
                      reason=_REASON_BY_POINTS.get(points, "feedback_status"), points=points)  # type: ignore[arg-type]


def remap(events: list[dict[str, Any]], ids: dict[str, str]) -> list[dict[str, Any]]:
    """Hand-built events with their placeholder ids (users, store, group) replaced by real ones."""
    out = []
    for e in events:
        copy = dict(e)
        for name in ("user_id", "account_id", "group_id"):
            if copy.get(name) in ids:
                copy[name] = ids[copy[name]]
        if "by" in copy.get("data", {}):
            copy["data"] = {**copy["data"], "by": ids.get(copy["data"]["by"], copy["data"]["by"])}
        out.append(copy)
    return out


@contextmanager
def reading(world: World, source: str) -> Iterator[None]:
    """Reports from `source` ("rollups" or "events", the recomputation) inside the block."""
    before = world.deps._settings
    world.deps._settings = world.deps.settings.model_copy(update={"report_source": source})
    try:
        yield
    finally:
        world.deps._settings = before
