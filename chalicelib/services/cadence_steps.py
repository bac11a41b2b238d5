"""The assistant at work: a lead's due cadence step becomes an automated message through the
outbox, or is skipped, deferred past quiet hours, or stops the enrolment (domain/cadence_rules.py
decides which).

A step's timer (schemas/queues.CadenceStep) carries the enrolment's version and the step's index: a
late, repeated or superseded one finds the lead's enrolment moved on and does nothing. Behind the
timers, the every-minute sweep (services/due.sweep_due) reads the leads whose step is due from the
due index, so a lost timer is a late step, never a lost one. A due step costs a read of the lead,
its cadence and its store, one transaction (the lead, the message's event and outbox item, its
records) and two queue messages (the send, the next step's timer)."""

from __future__ import annotations

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain import cadence_rules as rules
from chalicelib.domain.accounts import Account
from chalicelib.domain.cadences import Cadence
from chalicelib.domain.changes import Change
from chalicelib.domain.enrolment import Enrolment
from chalicelib.domain.leads import Lead
from chalicelib.domain.routing import StoreRouting
from chalicelib.observability import logger
from chalicelib.schemas.queues import CadenceStep
from chalicelib.services.lead_changes import change_lead
from chalicelib.services.messaging import Automated, add_automated, automated_message
from chalicelib.services.outbox import enqueue_send
from chalicelib.services.timers import set_timer


def set_step_timer(deps: Deps, lead: Lead) -> None:
    """After a change that left the lead's enrolment active: the timer of its next step."""
    enrolment = lead.cadence
    if enrolment is None or not enrolment.active or enrolment.next_at is None or enrolment.next_step is None:
        return
    set_timer(deps, CadenceStep(lead_id=lead.lead_id, version=enrolment.version, step=enrolment.next_step,
                                due_at=enrolment.next_at))


def first_step(deps: Deps, lead: Lead, cadence: Cadence | None = None, account: Account | None = None) -> Lead:
    """After a new lead was enrolled on arrival: a step due already (a first touch at 0 s) runs here,
    in the request that made the lead, a queue hop sooner than its timer would; a later one gets its
    timer. Should it fail, the timer is set instead (and the sweep is behind both). `lead` is as intake
    wrote it, `cadence` and `account` as intake read them (none of them read again). Returns the lead
    as it is now: as the step saved it, else `lead`."""
    enrolment = lead.cadence
    if enrolment is not None and enrolment.active and enrolment.next_at is not None \
            and enrolment.next_step is not None and enrolment.next_at <= iso(deps.clock.now()):
        try:
            _, saved = _run(deps, lead.lead_id, enrolment.version, enrolment.next_step, lead, cadence, account)
            return saved or lead
        except Exception:
            logger.exception("first cadence step failed; its timer will run it", extra={"lead_id": lead.lead_id})
    set_step_timer(deps, lead)
    return lead


def arrival_cadences(deps: Deps, account_id: str, routing: StoreRouting | None) -> list[Cadence]:
    """The store's cadences a new lead may be enrolled in: none read when its routing (read already) says
    it has no new-lead cadence; all of them (one Query) when it has some or it is not known."""
    if routing is not None and routing.arrival_cadences == ():
        return []
    return deps.cadences.for_account(account_id)


def enrol_on_arrival(deps: Deps, lead: Lead, cadences: list[Cadence]) -> tuple[Cadence | None, Enrolment | None]:
    """The store's new-lead cadence that fits a lead that just arrived, and the lead's enrolment in it
    (intake writes it with the lead itself, then runs its first step); (None, None) when none fits."""
    from chalicelib.domain.cadences import cadence_for_new_lead

    cadence = cadence_for_new_lead(cadences, lead)
    return (cadence, rules.start(cadence, deps.clock.now(), None, None)) if cadence is not None else (None, None)


def run_step(deps: Deps, lead_id: str, version: int, step: int) -> str:
    """Step `step` of the lead's enrolment at `version`, if that is still what is due: "sent",
    "skipped", "deferred", "stopped" — or "noop" (stale, early, or the lead is gone)."""
    return _run(deps, lead_id, version, step)[0]


def _run(deps: Deps, lead_id: str, version: int, step: int, known: Lead | None = None,
         known_cadence: Cadence | None = None, known_account: Account | None = None) -> tuple[str, Lead | None]:
    """`run_step`, with what the caller has read already (the lead as it just wrote it, its cadence, its
    store); also the lead as the step saved it (None: nothing saved)."""
    lead = known or deps.leads.get(lead_id)
    enrolment = lead.cadence if lead is not None else None
    if lead is None or enrolment is None or not enrolment.active or enrolment.version != version \
            or enrolment.next_step != step:
        return "noop", None
    cadence = known_cadence if known_cadence is not None and known_cadence.cadence_id == enrolment.cadence_id \
        else deps.cadences.get(enrolment.cadence_id)
    account = known_account if known_account is not None and known_account.account_id == lead.account_id \
        else deps.accounts.require(lead.account_id)

    def decide(current: Lead) -> Change[tuple[str, Automated | None]] | None:
        now = deps.clock.now()
        outcome = rules.due_step(current, cadence, account, version, step, now)
        if outcome is None:
            return None
        change: Change[tuple[str, Automated | None]] = outcome.change
        message = None
        if outcome.action == "send" and outcome.route is not None:
            origin = {"cadence_id": current.cadence.cadence_id if current.cadence else None, "step": step}
            message = automated_message(deps, current, account, outcome.text, route=outcome.route,
                                        subject=outcome.subject, origin=origin)
            if message is None:  # the outbox's own rules refuse it: the step's records alone would lie
                logger.warning("cadence step refused by the outbox rules", extra={"lead_id": lead_id, "step": step})
                return None
            add_automated(deps, change, current, message)
            change.updates["last_activity_at"] = max(current.last_activity_at, iso(now))
        change.result = (_ACTIONS[outcome.action], message)
        return change

    saved = change_lead(deps, lead_id, decide, known=known)
    if saved.result is None:
        return "noop", None
    action, message = saved.result
    if message is not None and not message.scheduled:
        enqueue_send(deps, message.data.message_id)
    set_step_timer(deps, saved.lead)
    logger.info("cadence step", extra={"lead_id": lead_id, "step": step, "outcome": action})
    return action, saved.lead


_ACTIONS = {"send": "sent", "skip": "skipped", "defer": "deferred", "stop": "stopped"}
