"""What deciding a lead change produces, and what saving it hands back.

A use case decides with a function of the lead as it is now (and what it read before): the
decision is a `Change` — the lead's new fields, the records of the change (timeline, score
and report events) and any other conditional writes that must land in the same transaction
(an offer, an outbox message, a contact key...). Repositories make those writes; here they
are opaque. `services/lead_changes.change_lead` saves a Change (read, decide, one conditional
transaction, decide again after a lost race) and returns `Saved`: the lead as saved and the
decision, whose `result` carries whatever the decision wants its caller to know."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from chalicelib.domain.errors import LostRace
from chalicelib.domain.leads import Lead
from chalicelib.domain.report_events import ReportEvent
from chalicelib.domain.scoring import ScoreEvent
from chalicelib.domain.timeline import TimelineEvent

T = TypeVar("T")


class Write(Protocol):
    """One conditional write of a transaction, made by a repository. `conflict` is the named error
    a failed condition of this write raises."""

    @property
    def conflict(self) -> type[LostRace]: ...


@dataclass
class Change(Generic[T]):
    """A decision on a lead: its new fields, the records of the change, other writes of the same
    transaction, and the decision's own `result` for the caller."""

    updates: dict[str, Any] = field(default_factory=dict)
    events: list[TimelineEvent] = field(default_factory=list)
    scores: list[ScoreEvent] = field(default_factory=list)
    reports: list[ReportEvent] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    result: T | None = None

    def merge(self, other: Change[Any] | None) -> None:
        """Add another decision's updates and records to this one (a consent effect inside a message)."""
        if other is None:
            return
        self.updates.update(other.updates)
        self.events += other.events
        self.scores += other.scores
        self.reports += other.reports
        self.writes += other.writes


@dataclass(frozen=True)
class Saved(Generic[T]):
    """What saving a decision did: the lead as saved (as read, when the decision changed nothing)
    and the decision itself (None: nothing to do)."""

    lead: Lead
    change: Change[T] | None = None

    @property
    def result(self) -> T | None:
        return self.change.result if self.change is not None else None
