"""A lead's enrolment in a cadence (the lead field `cadence`): which cadence, where it stands, why
it stopped. Kept on the lead item itself, so a due step is decided on one read of the lead.

`version` moves with every change of the enrolment (a step sent or skipped, a deferral, a skip to
follow-up, a stop, a resume) and keeps growing across enrolments of the same lead: a step timer
carries the version it was set for, so a late, repeated or superseded timer finds another version
and does nothing. The rules that move an enrolment are in domain/cadence_rules.py."""

from __future__ import annotations

from typing import Literal

from chalicelib.model import BaseModel

EnrolmentState = Literal["active", "stopped", "finished"]

# Why an enrolment ended. The contract's: replied, opted_out, appointment, sold, dead, stopped_by_staff,
# finished; and: removed (DELETE /leads/{id}/cadence), replaced (enrolled in another), cadence_deleted.
StopReason = Literal["replied", "opted_out", "appointment", "sold", "dead", "stopped_by_staff", "finished",
                     "removed", "replaced", "cadence_deleted"]
STOP_REASONS: tuple[str, ...] = StopReason.__args__  # type: ignore[attr-defined]
# Stops made by a person of the store (the assistant report's `stopped_by_staff`).
STAFF_STOPS = frozenset({"stopped_by_staff", "removed"})


class Enrolment(BaseModel):
    cadence_id: str
    name: str
    assistant_name: str
    state: EnrolmentState = "active"
    # Index (0-based) into the cadence's `steps` of the step due next; while stopped, the step that was
    # due when it stopped; None once finished.
    next_step: int | None = 0
    next_at: str | None = None  # when that step is due (active only)
    stop_reason: StopReason | None = None
    enrolled_at: str
    enrolled_by: str | None = None  # the user who enrolled the lead by hand; None: on arrival
    stopped_at: str | None = None
    steps_sent: int = 0
    version: int = 1

    @property
    def active(self) -> bool:
        return self.state == "active"
