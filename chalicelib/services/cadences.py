"""A store's cadences (list, add, change, delete: managers and up) and a lead's enrolment by hand
("assign funnel") or its removal. Enrolment on arrival is intake's (services/intake.py); the steps
run in services/cadence_steps.py.

Deleting a cadence is one write however many leads it holds: each enrolment in it stops at its next
due step (reason `cadence_deleted`), which reads the cadence anyway — so no step of a deleted cadence
is ever sent, and nothing pages through the leads."""

from __future__ import annotations

from typing import Any

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain import cadence_rules as rules
from chalicelib.domain.cadences import Cadence, CadenceStep, check_steps
from chalicelib.domain.changes import Change
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.leads import Lead, lock_kept
from chalicelib.domain.routing import RuleMatch
from chalicelib.domain.tenancy import Principal, Role
from chalicelib.ids import new_id
from chalicelib.services.access import MAX_ID_CHARS, still_visible, visible_account, visible_lead
from chalicelib.services.cadence_steps import set_step_timer
from chalicelib.services.lead_changes import change_lead

# A store keeps a handful; intake reads them all for each new lead of a store with a new-lead cadence.
MAX_CADENCES_PER_STORE = 50


def list_cadences(deps: Deps, actor: Principal, account_id: str, limit: int,
                  cursor: str | None) -> tuple[list[Cadence], str | None]:
    visible_account(deps, actor, account_id)
    return deps.cadences.page(account_id, limit, cursor)


def get_cadence(deps: Deps, actor: Principal, cadence_id: str) -> Cadence:
    cadence = deps.cadences.get(cadence_id) if len(cadence_id) <= MAX_ID_CHARS else None
    if cadence is None or not actor.can_see_account(cadence.group_id, cadence.account_id):
        raise NotFound("cadence not found")
    return cadence


def create_cadence(deps: Deps, actor: Principal, account_id: str, fields: dict[str, Any]) -> Cadence:
    account = visible_account(deps, actor, account_id)
    actor.require_role(Role.MANAGER)
    now = iso(deps.clock.now())
    cadence = Cadence.model_validate({**fields, "cadence_id": new_id("cad", deps.clock.now()),
                                      "account_id": account_id, "group_id": account.group_id,
                                      "created_by": actor.user_id, "created_at": now, "updated_at": now})
    check_steps(cadence.steps, account)
    if len(deps.cadences.for_account(account_id)) >= MAX_CADENCES_PER_STORE:
        raise Conflict(f"a store keeps at most {MAX_CADENCES_PER_STORE} cadences", code="too_many")
    deps.cadences.add(cadence)
    return cadence


def update_cadence(deps: Deps, actor: Principal, cadence_id: str, changes: dict[str, Any]) -> Cadence:
    """Leads enrolled already go on with the changed steps from the step they are at."""
    before = get_cadence(deps, actor, cadence_id)
    actor.require_role(Role.MANAGER)
    updates: dict[str, Any] = {k: v for k, v in changes.items() if v is not None}
    if "steps" in updates:
        updates["steps"] = [CadenceStep.model_validate(s) for s in updates["steps"]]
        check_steps(updates["steps"], deps.accounts.require(before.account_id))
    if "match" in updates:
        updates["match"] = RuleMatch.model_validate(updates["match"])
    after = before.model_copy(update={**updates, "updated_at": iso(deps.clock.now()), "version": before.version + 1})
    deps.cadences.replace(before, after)
    return after


def delete_cadence(deps: Deps, actor: Principal, cadence_id: str) -> None:
    cadence = get_cadence(deps, actor, cadence_id)
    actor.require_role(Role.MANAGER)
    deps.cadences.delete(cadence)


# -- a lead's enrolment by hand -----------------------------------------------------------------

def enrol_lead(deps: Deps, actor: Principal, lead_id: str, cadence_id: str) -> Lead:
    """Assign the lead to a cadence of its store; an active enrolment in another is replaced."""
    lead = visible_lead(deps, actor, lead_id)
    cadence = deps.cadences.get(cadence_id) if len(cadence_id) <= MAX_ID_CHARS else None
    if cadence is None or cadence.account_id != lead.account_id:
        raise NotFound("cadence not found", details=[{"field": "cadence_id", "message": "no such cadence in "
                                                                                       "the lead's store"}])

    def decide(current: Lead) -> Change[Any]:
        still_visible(actor, current)
        change = rules.enrol(current, cadence, actor.user_id, deps.clock.now())
        change.updates.update(lock_kept(current, actor.user_id, deps.clock.now()))
        return change

    saved = change_lead(deps, lead_id, decide, touch=True)
    set_step_timer(deps, saved.lead)
    return saved.lead


def remove_lead(deps: Deps, actor: Principal, lead_id: str) -> Lead:
    """Take the lead off its cadence (`removed`); nothing to do when it is not active."""
    visible_lead(deps, actor, lead_id)

    def decide(current: Lead) -> Change[Any] | None:
        still_visible(actor, current)
        change = rules.stop(current, "removed", actor.user_id, deps.clock.now())
        if change is not None:
            change.updates.update(lock_kept(current, actor.user_id, deps.clock.now()))
        return change

    return change_lead(deps, lead_id, decide, touch=True).lead
