"""The lead field `cadence` as the API shows it (schemas/leads.py's LeadResponse carries it)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from chalicelib.model import BaseModel


class EnrolmentResponse(BaseModel):
    """The lead field `cadence`: its enrolment, active or how it ended."""

    cadence_id: str
    name: str
    state: Literal["active", "stopped", "finished"]
    next_step: int | None = Field(default=None, description="index into the cadence's steps of the step due "
                                                               "next (while stopped: the step it stopped before)")
    next_at: str | None = None
    stop_reason: str | None = None
    assistant_name: str
    enrolled_at: str
    enrolled_by: str | None = None
    stopped_at: str | None = None
    steps_sent: int = 0
