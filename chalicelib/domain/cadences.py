"""Cadences ("the assistant"): a store's ordered, timed messages to a lead until a person should
take over. The definition, its checks beyond the request schema, and which cadence a new lead of
the store is enrolled in. Pure."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from chalicelib.domain.accounts import Account
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.leads import Lead
from chalicelib.domain.routing import RuleMatch
from chalicelib.model import BaseModel

Phase = Literal["first_touch", "follow_up"]
StepChannel = Literal["auto", "sms", "messenger", "email"]
Enroll = Literal["new_lead", "manual"]


class CadenceStep(BaseModel):
    after_seconds: int  # from the previous step; the first from enrolment
    phase: Phase = "follow_up"
    channel: StepChannel = "auto"
    body: str
    subject: str | None = None


class Cadence(BaseModel):
    cadence_id: str
    account_id: str
    group_id: str
    name: str
    enroll: Enroll = "manual"
    match: RuleMatch = Field(default_factory=RuleMatch)
    assistant_name: str
    steps: list[CadenceStep]
    created_by: str | None = None
    created_at: str
    updated_at: str
    # Optimistic concurrency of edits (CadenceRepository.put).
    version: int = 1

    @property
    def on_arrival(self) -> bool:
        """Whether a new lead may be enrolled in it when it arrives (cadence_for_new_lead)."""
        return self.enroll == "new_lead" and bool(self.steps)

    def step(self, index: int | None) -> CadenceStep | None:
        return self.steps[index] if index is not None and 0 <= index < len(self.steps) else None

    def first_follow_up(self, at_or_after: int) -> int | None:
        """The first follow_up step from index `at_or_after` on (a sent step is never sent again)."""
        return next((i for i in range(max(0, at_or_after), len(self.steps)) if self.steps[i].phase == "follow_up"),
                    None)


def check_steps(steps: list[CadenceStep], account: Account) -> None:
    """What the request schema cannot see: the first-touch steps come before the follow-ups, and every
    smart field of a body or subject is one the store can fill (400 naming `steps.N.body`)."""
    from chalicelib.domain.conversations import render, smart_field_values

    sample = Lead(lead_id="lead_sample", account_id=account.account_id, group_id=account.group_id,
                  created_at="2026-01-01T00:00:00.000Z", received_at="2026-01-01T00:00:00.000Z",
                  last_activity_at="2026-01-01T00:00:00.000Z")
    known = {name: "x" for name in smart_field_values(sample, account, "x")}
    details: list[dict[str, str]] = []
    seen_follow_up = False
    for i, step in enumerate(steps):
        if step.phase == "follow_up":
            seen_follow_up = True
        elif seen_follow_up:
            details.append({"field": f"steps.{i}.phase", "message": "first_touch steps come before follow_up steps"})
        for name in ("body", "subject"):
            template = getattr(step, name)
            if not template:
                continue
            try:
                render(template, known, field=f"steps.{i}.{name}")
            except ValidationFailed as exc:
                details.extend(exc.details)
    if details:
        raise ValidationFailed("the cadence has bad fields: " + ", ".join(d["field"] for d in details),
                               details=details)


def specificity(cadence: Cadence) -> int:
    return sum(1 for name in ("source", "source_group", "channel") if getattr(cadence.match, name) is not None)


def cadence_for_new_lead(cadences: list[Cadence], lead: Lead) -> Cadence | None:
    """The store's new-lead cadence for a lead that just arrived: of those whose `match` fits, the most
    specific (most fields matched), then the oldest."""
    fitting = [c for c in cadences if c.on_arrival and c.match.fits(lead)]
    if not fitting:
        return None
    return min(fitting, key=lambda c: (-specificity(c), c.created_at, c.cadence_id))
