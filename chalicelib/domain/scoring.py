"""The performance score: every scoring event is its own ledger entry, so any score over
any date range is the sum of explainable entries. Points are the contract's table."""

from __future__ import annotations

from typing import Literal

from chalicelib.model import BaseModel

ScoreReason = Literal[
    "accept", "decline", "coalesced", "assigned", "timeout", "requeue",
    "feedback_status", "feedback_comment", "feedback_long_comment", "feedback_closed",
]

BASE_SCORE = 100
POINTS: dict[str, int] = {
    "accept": 2, "decline": 1, "coalesced": 1, "assigned": 1, "timeout": -5, "requeue": 4,
    "feedback_status": 1, "feedback_comment": 1, "feedback_long_comment": 1, "feedback_closed": 1,
}
LONG_COMMENT = 80


class ScoreEvent(BaseModel):
    event_id: str
    user_id: str
    account_id: str
    lead_id: str
    at: str
    reason: ScoreReason
    points: int


def score(events: list[ScoreEvent]) -> int:
    return BASE_SCORE + sum(e.points for e in events)


def feedback_reasons(contact_status: str | None, comment: str | None, already: set[str]) -> list[str]:
    """Feedback earns up to +4 per lead, each part once: status, comment, long comment, closed outcome."""
    earned = []
    if contact_status:
        earned.append("feedback_status")
    if comment and comment.strip():
        earned.append("feedback_comment")
        if len(comment.strip()) >= LONG_COMMENT:
            earned.append("feedback_long_comment")
    if contact_status in ("closed_won", "closed_lost"):
        earned.append("feedback_closed")
    return [r for r in earned if r not in already]
