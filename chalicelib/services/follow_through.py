"""Follow-through: what a lead's response deadline does when its time comes — a `ResponseDeadline`
timer from the timers queue, or the every-minute due sweep when a timer was lost.

Each arrival reads the lead and asks domain/targets.time_passed what is due now for the deadline
the timer was set for (the sweep names none: whatever runs): warn the owner; at the deadline, keep
the lead and alert the store's managers (`notify_managers`), or take it from the owner and offer it
to the next agent (`reoffer`, one routing transition); drop the deadline of a lead that closed.
Every decision is made again on the lead inside its conditional write, so a late, repeated or
superseded timer — or a timer racing the sweep — decides nothing twice."""

from __future__ import annotations

from typing import Literal

from chalicelib.deps import Deps
from chalicelib.domain import rerouting, targets
from chalicelib.domain.changes import Change
from chalicelib.domain.leads import Lead
from chalicelib.domain.targets import miss_data
from chalicelib.observability import logger
from chalicelib.services.alerts import alert, deadline_timing, store_managers, user_named
from chalicelib.services.lead_changes import change_lead, report_event, timeline_event
from chalicelib.services.routing_transition import Decided, after_commit, load_pool, transition

Done = Literal["warned", "missed", "reoffered", "dropped", "noop"]


def deadline_due(deps: Deps, lead_id: str, version: int | None = None) -> Done:
    """One timer (its deadline's `version`) or one sweep hit (None): decide what is due, once."""
    lead = deps.leads.get(lead_id)
    if lead is None:
        return "noop"
    due = targets.time_passed(lead, deps.clock.now(), version)
    if due is None:
        return "noop"
    if due == "miss" and _on_miss(lead) == "reoffer":
        return _reoffer(deps, lead, version)
    return _in_place(deps, lead_id, version)


def _on_miss(lead: Lead) -> str:
    return lead.response_policy.targets.on_miss if lead.response_policy is not None else "notify_managers"


def _in_place(deps: Deps, lead_id: str, version: int | None) -> Done:
    """A warning, a miss the owner keeps (`notify_managers`), or a dropped deadline: one lead change."""

    def decide(lead: Lead) -> Change[Done] | None:
        due = targets.time_passed(lead, deps.clock.now(), version)
        deadline = lead.deadline
        if due is None or deadline is None or (due == "miss" and _on_miss(lead) == "reoffer"):
            return None
        if due == "drop":
            return Change(updates=targets.cleared(lead), result="dropped")
        data = miss_data(deadline)
        if due == "warn":
            return Change(updates=targets.warned(lead), result="warned", events=[
                timeline_event(deps, lead, "target", None, action="warning", owner=deadline.owner, **data)])
        return Change(updates=targets.missed_kept(lead), result="missed",
                      events=[timeline_event(deps, lead, "target", None, action="missed", owner=deadline.owner,
                                             **data)],
                      reports=[report_event(deps, lead, "target_missed", deadline.owner, on_miss="notify_managers",
                                            **data)])

    saved = change_lead(deps, lead_id, decide)
    done = saved.result
    if done is None:
        return "noop"
    lead = saved.lead
    try:
        if done == "warned":
            alert(deps, "target_warning", lead, [u for u in [user_named(deps, lead.assigned_to)] if u],
                  timing=deadline_timing(lead, deps.clock.now()))
        elif done == "missed":
            owner = user_named(deps, lead.assigned_to)
            alert(deps, "target_missed", lead, store_managers(deps, lead), who=owner.name if owner else None,
                  timing=deadline_timing(lead, deps.clock.now()))
    except Exception:
        # The decision is saved; a lost alert must not make the timer decide it again.
        logger.exception("follow-through alert failed", extra={"lead_id": lead_id, "outcome": done})
    return done


def _reoffer(deps: Deps, lead: Lead, version: int | None) -> Done:
    """`on_miss: reoffer`: the miss, the owner's loss of the lead and its next offer, in one transition;
    the pool's people are told in it, their email and SMS after it (routing_transition.after_commit)."""
    pool = load_pool(deps, lead.account_id, lead.group_id)

    def decide(current: Lead, attempt: int) -> Decided:
        if targets.time_passed(current, deps.clock.now(), version) != "miss":
            return Decided(None)
        ctx = pool.context(deps, current.account_id, attempt)
        return Decided(rerouting.reoffer(current, ctx, deps.clock.now()), ctx)

    applied = transition(deps, lead.lead_id, decide, people=pool.users, store=pool.account)
    if applied is None:
        return "noop"
    after_commit(deps, applied)
    return "reoffered"
