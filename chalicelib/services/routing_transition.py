"""How one routing transition is decided, saved and followed up.

A use case (services/routing.py) reads what it needs once (`load_pool`), then `transition` reads
the lead, asks the routing rules (domain/routing.py) for an `Outcome` and saves it as ONE
transaction: the lead (conditional on its version), the offer it answers (conditional on
`state = pending` and on its expiry), the next offer, the pool's rotation (conditional on its
revision), a waiting marker, and the score, report and timeline records. Whatever loses a race
is decided again from fresh reads, so it ends as a 409 or a no-op — never a second owner.
`after_commit` then sets the timers (a lost one is caught by the due sweep) and tells people."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from chalicelib.clock import iso
from chalicelib.deps import Deps
from chalicelib.domain import routing as rules
from chalicelib.domain.accounts import Account
from chalicelib.domain.alerts import Alert
from chalicelib.domain.business_hours import BusinessHours
from chalicelib.domain.changes import Change, Write
from chalicelib.domain.errors import LostRace
from chalicelib.domain.leads import Lead, next_version
from chalicelib.domain.notifications import NotificationKind
from chalicelib.domain.rerouting import Revival, next_store_opening
from chalicelib.domain.routing import Context, Offer, Outcome, Record, Rotation, RoutingConfig, StoreRouting, Waiting
from chalicelib.domain.users import User
from chalicelib.ids import new_id
from chalicelib.observability import logger
from chalicelib.schemas.queues import DeliverNotification, OfferAgain, OfferExpiry, Opening
from chalicelib.services.lead_changes import decide_and_save, report_event, score_event, timeline_event
from chalicelib.services.response_targets import owner_updates
from chalicelib.services.sender_pointers import owner_pointer
from chalicelib.services.timers import set_timer

# A transition decides again after each lost race (the lead, the offer it answers, the rotation,
# a waiting marker moved on), up to this many times, then answers 409 busy.
ATTEMPTS = 30
BUSY = "routing is busy for this lead; try again"


# -- what deciding needs, and what a transition decided ---------------------------------------

@dataclass(frozen=True)
class Pool:
    """What deciding needs besides the lead: read once per use case, not on every retry."""

    config: RoutingConfig
    users: dict[str, User]
    hours: BusinessHours | None
    account: Account | None = None  # the store's record (its response targets, name, timezone)
    rotation: Rotation | None = None  # read with the config: for a first decision only

    def context(self, deps: Deps, account_id: str, attempt: int) -> Context:
        """What a decision decides on (and returns, in Decided): the rotation read with the pool for a
        first attempt, else the store's rotation read again (it races; its save is conditional on its
        revision)."""
        rotation = self.rotation if attempt == 0 and self.rotation is not None else deps.routing.rotation(account_id)
        return Context(config=self.config, users=self.users, rotation=rotation, hours=self.hours)

    def read_again(self) -> Pool:
        """The pool for a later lead of the same use case: the rotation read with it may be stale now."""
        return replace(self, rotation=None)


def load_pool(deps: Deps, account_id: str, group_id: str | None, routing: StoreRouting | None = None) -> Pool:
    """The store's record, config and rotation (one read, unless the caller has `routing` already),
    the group's users and, with business hours respected, the store's hours. Without `group_id` the
    store's record names the group."""
    store = routing or deps.routing.store_routing(account_id)
    config = store.config or RoutingConfig(account_id=account_id)
    account = store.account
    group = group_id or (account.group_id if account else "")
    users = {u.user_id: u for u in deps.users.list_for_group(group)} if group else {}
    hours = account.hours if config.respect_business_hours and account else None
    return Pool(config, users, hours, account, store.rotation)


@dataclass(frozen=True)
class Decided:
    """A decision on the lead as it is now: what the rules decided (None: nothing to do), the context
    it was decided in, the waiting marker it answers, and checks that what else it was decided on is
    unchanged when it is saved (the caller's record: CallerChanged)."""

    outcome: Outcome | None
    context: Context | None = None
    waiting: Waiting | None = None
    checks: tuple[Write, ...] = ()


@dataclass(frozen=True)
class Made:
    """What a saved transition made besides the lead's new state."""

    outcome: Outcome
    offer: Offer | None = None
    waiting: Waiting | None = None
    revival: Revival | None = None
    deliveries: list[DeliverNotification] = field(default_factory=list)
    untold: list[Record] = field(default_factory=list)  # notices to people the use case had not read


@dataclass(frozen=True)
class Applied:
    lead: Lead
    outcome: Outcome
    offer: Offer | None = None
    waiting: Waiting | None = None
    revival: Revival | None = None
    deliveries: list[DeliverNotification] = field(default_factory=list)  # email / SMS notices to queue
    untold: list[Record] = field(default_factory=list)


def transition(deps: Deps, lead_id: str, decide: Callable[[Lead, int], Decided], *, known: Lead | None = None,
               people: Mapping[str, User] | None = None, store: Account | None = None) -> Applied | None:
    """Decide and save one transition; decide again (`attempt` > 0: read again what was read before)
    after any lost race. None when the rules decided nothing is to be done. `known`: the lead as the
    caller just wrote it (not read again; a stale one costs a retry, never a lost write). `people`:
    the user records the use case has read (its pool's, the caller's): their in-app notifications are
    writes of the transition's own transaction; anyone else's are sent after it (`after_commit`).
    `store`: the lead's store as the use case read it (its targets, name and hours: not read again)."""

    def as_change(lead: Lead, attempt: int) -> Change[Made] | None:
        decided = decide(lead, attempt)
        outcome = decided.outcome
        if outcome is None or (not outcome.lead_updates and outcome.step is None):
            return None
        if "assigned_to" in outcome.lead_updates:
            # A new owner gets the store's response targets and a first-response deadline; none, none.
            outcome.lead_updates.update(owner_updates(deps, lead, outcome.lead_updates["assigned_to"], store))
        change = _to_change(deps, lead, outcome, decided.context, decided.waiting, deps.clock.now(), store)
        if "assigned_to" in outcome.lead_updates:
            # The SMS webhook reads the new owner with the lead (services/sender_pointers.py).
            change.writes += owner_pointer(deps, lead, outcome.lead_updates["assigned_to"], store)
        change.writes.extend(decided.checks)
        if change.result is not None:
            _tell(deps, lead, change, people or {}, store)
        return change

    saved = decide_and_save(deps, lead_id, as_change, attempts=ATTEMPTS, retry_on=(LostRace,), busy=BUSY,
                            known=known)
    made = saved.result
    if made is None:
        return None
    return Applied(lead=saved.lead, outcome=made.outcome, offer=made.offer, waiting=made.waiting,
                   revival=made.revival, deliveries=made.deliveries, untold=made.untold)


def _to_change(deps: Deps, lead: Lead, outcome: Outcome, ctx: Context | None, waiting_before: Waiting | None,
               now: datetime, store: Account | None) -> Change[Made]:
    """An Outcome as the records and conditional writes of one transaction."""
    repo = deps.routing
    at = iso(now)
    writes: list[Write] = []
    new_offer: Offer | None = None
    new_waiting: Waiting | None = None
    step = outcome.step
    offer_id = new_id("ofr", now) if step is not None and step.kind == "offer" else None
    if outcome.decision is not None:
        writes.append(repo.close_offer(outcome.decision, at))
    if outcome.waiting_done and waiting_before is not None:
        writes.append(repo.remove_waiting(waiting_before))
    if step is not None and step.kind == "offer" and step.agent_id and step.expires_at:
        new_offer = Offer(offer_id=offer_id or "", lead_id=lead.lead_id, account_id=lead.account_id,
                          group_id=lead.group_id, agent_id=step.agent_id,
                          routing_version=outcome.lead_updates["routing_version"], made_at=at,
                          expires_at=iso(step.expires_at), catchall=step.catchall, rule_index=step.rule_index,
                          progress=step.progress)
        writes.append(repo.add_offer(new_offer))
        if step.rotation is not None and ctx is not None:
            writes.append(repo.save_rotation(lead.account_id, ctx.rotation, step.rotation))
    revival = _revival(deps, lead.account_id, now, store) if step is not None and step.kind == "delinquent" else None
    if revival is not None:
        writes.append(repo.add_revival(revival))
    if step is not None and step.kind == "wait" and step.opens_at:
        new_waiting = Waiting(lead_id=lead.lead_id, account_id=lead.account_id,
                              routing_version=outcome.lead_updates["routing_version"], opens_at=iso(step.opens_at),
                              progress=step.progress)
        writes.append(repo.add_waiting(new_waiting))

    def with_offer_id(data: dict[str, Any], made: bool) -> dict[str, Any]:
        return {**data, "offer_id": offer_id} if made and offer_id else data

    # Ids sort the timeline: events of one transition share a millisecond, so keep their order.
    event_ids = sorted(new_id("evt", now) for _ in outcome.timeline)
    events = [timeline_event(deps, lead, r.kind, r.user_id, event_id=event_id,
                             **with_offer_id({k: v for k, v in r.data.items() if v is not None},
                                             r.data.get("action") == "made"))
              for r, event_id in zip(outcome.timeline, event_ids, strict=True)]
    scores = []
    for r in outcome.scores:
        entry = score_event(deps, lead, r.user_id or "", r.kind)
        scores.append(entry.model_copy(update={"points": rules.points_of(r)}))
    reports = [report_event(deps, lead, r.kind, r.user_id, **with_offer_id(r.data, r.kind == "offer_made"))
               for r in outcome.reports]
    return Change(updates=dict(outcome.lead_updates), events=events, scores=scores, reports=reports, writes=writes,
                  result=Made(outcome, new_offer, new_waiting, revival))


def _revival(deps: Deps, account_id: str, now: datetime, store: Account | None) -> Revival | None:
    """A delinquent lead is offered again when its store next opens: the marker of that opening."""
    account = store or deps.accounts.get(account_id)
    opens = next_store_opening(account.hours, now) if account is not None else None
    return Revival(account_id=account_id, opens_at=iso(opens)) if opens is not None else None


def _tell(deps: Deps, lead: Lead, change: Change[Made], people: Mapping[str, User], store: Account | None) -> None:
    """The outcome's notices to people already read: in-app notifications as writes of the change
    (email, SMS and forwarding queued after it); notices to anyone else are sent after the commit."""
    from chalicelib.services.alerts import managers_of
    from chalicelib.services.notifications import Notices, notices

    made = change.result
    assert made is not None
    after = next_version(lead, **change.updates)  # alerts tell of the lead as this change leaves it
    told: Notices | None = None
    for notice in made.outcome.notices:
        owner_id = notice.data.get("owner") if notice.kind in ("delinquent", "target_missed") else None
        if notice.kind in ("delinquent", "target_missed"):
            users = managers_of(lead, people.values()) if people else None
        else:
            user = people.get(notice.user_id or "")
            users = [user] if user is not None else None
        if users is None or (owner_id and owner_id not in people):
            made.untold.append(notice)
            continue
        said = _alert(deps, after, notice, made.offer, people.get(owner_id or ""), store)
        if said is not None and users:
            told = notices(deps, users, said, into=told)
    if told is not None:
        change.writes.extend(told.writes(deps))
        made.deliveries.extend(told.deliveries)


def _alert(deps: Deps, lead: Lead, notice: Record, offer: Offer | None, owner: User | None,
           store: Account | None = None) -> Alert | None:
    """A notice as an alert: an offer to its agent (time left to accept), the lead to its new owner
    (time left to answer), a delinquent lead or a missed target to the store's managers (whose it
    was), a lead taken after a miss to the owner it was taken from."""
    from chalicelib.services.alerts import alert_of, deadline_timing, until

    now = deps.clock.now()
    if notice.kind in ("delinquent", "target_missed"):
        kind: NotificationKind = "delinquent" if notice.kind == "delinquent" else "target_missed"
        return alert_of(deps, kind, lead, who=owner.name if owner else None, store=store)
    if notice.kind == "offer" and offer is not None:
        return alert_of(deps, "offer", lead, timing=until(offer.expires_at, now), store=store)
    if notice.kind == "assigned":
        return alert_of(deps, "assigned", lead, timing=deadline_timing(lead, now), store=store)
    if notice.kind == "reoffered":
        return alert_of(deps, "reoffered", lead, store=store)
    return None


def after_commit(deps: Deps, applied: Applied) -> None:
    """Timers and notifications: outside the transaction, repeatable, and backed by the sweep."""
    if applied.offer is not None:
        offer = applied.offer
        set_timer(deps, OfferExpiry(offer_id=offer.offer_id, routing_version=offer.routing_version,
                                    due_at=offer.expires_at))
    if applied.waiting is not None:
        waiting = applied.waiting
        set_timer(deps, Opening(lead_id=waiting.lead_id, routing_version=waiting.routing_version,
                                due_at=waiting.opens_at))
    if applied.revival is not None:
        revival = applied.revival
        set_timer(deps, OfferAgain(account_id=revival.account_id, reason="store_opened", opens_at=revival.opens_at,
                                   due_at=revival.opens_at))
    _send_notices(deps, applied)


def _send_notices(deps: Deps, applied: Applied) -> None:
    """The email / SMS of the notices told in the transaction, then the notices to people the use
    case had not read (read and sent now)."""
    from chalicelib.services.alerts import store_managers, user_named
    from chalicelib.services.notifications import notify, send_deliveries

    lead = applied.lead
    try:
        send_deliveries(deps, applied.deliveries)
    except Exception:
        logger.exception("routing notification failed", extra={"lead_id": lead.lead_id, "kind": "deliveries"})
    for notice in applied.untold:
        try:
            if notice.kind in ("delinquent", "target_missed"):
                users = store_managers(deps, lead)
                owner = user_named(deps, notice.data.get("owner"))
            else:
                users = [u for u in [user_named(deps, notice.user_id)] if u]
                owner = None
            said = _alert(deps, lead, notice, applied.offer, owner) if users else None
            if said is not None:
                notify(deps, users, said)
        except Exception:
            # The transition is saved; a lost notification must not turn it into an error.
            logger.exception("routing notification failed", extra={"lead_id": lead.lead_id, "kind": notice.kind})
