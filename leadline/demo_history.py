"""The demo's past: 90 days of each store's life, lived through the product's own use cases.

The services run on a `Deps` whose clock is a FixedClock the history steps forward, one agenda
item at a time: a request arrives (intake), the offer goes to an agent who accepts, declines or
lets it time out (routing), the agent writes, the customer answers or texts STOP (messaging, the
inbound webhook's service), appointments are booked and kept, leads are sold or go cold. Every
lead, event, report event and score is therefore written the way production writes it, at the
time it happened, and every report is true to it (the report rollups are fed by the same table
stream as for live traffic).

Two things differ from the live stack, both because the people they are for are in the past:
- queue messages do not go to SQS: timers and outbox sends are kept on the agenda and handed to
  their consumers' services (services/due.handle_timer, services/outbox.deliver) when the
  history's clock reaches them; staff email/SMS notifications are dropped, and so is the language
  of a customer's first words (the stream consumer's: the history's writes make no stream records);
- the history reads in-app notifications to learn who was offered a lead, as that agent's phone
  would have; those routing writes in its own transaction are stored with it (with their TTL, long
  past by today), the others are not (nobody needs a bell full of last quarter's alerts)."""

from __future__ import annotations

import itertools
import logging
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter

from chalicelib.adapters.dynamodb.table import Table
from chalicelib.clock import FixedClock, iso, parse_time
from chalicelib.deps import Deps
from chalicelib.domain.accounts import Account
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.inbound import InboundMessage
from chalicelib.domain.leads import NewLead
from chalicelib.domain.notifications import Notification
from chalicelib.domain.users import User
from chalicelib.schemas.leads import UpdateLeadRequest
from chalicelib.schemas.queues import OutboxJob, SendMessage, Timer
from chalicelib.services import appointments, inbound, intake, lead_edits, messaging, outbox, routing
from chalicelib.services.due import handle_timer
from chalicelib.services.timers import TIMERS
from leadline import demo_cast as cast
from leadline.demo_ports import Agenda, HistoryQueues, PastNotifications

log = logging.getLogger("local_stack.demo")

HISTORY_DAYS = 90
HISTORY_SEED = 2026
# Night hours (local) in which most offers go unanswered.
NIGHT = (range(0, 8), range(21, 24))
MANAGER_TEMPERAMENT = cast.Temperament(0.75, 0.0, 14)

_TIMER: TypeAdapter[Any] = TypeAdapter(Timer)
_OUTBOX_JOB: TypeAdapter[Any] = TypeAdapter(OutboxJob)


@dataclass(frozen=True)
class Store:
    account: Account
    kind: str
    agents: list[User]
    index: int  # its place among the demo's stores: its customers' area code and numbers


@dataclass
class _Lead:
    store: Store
    story: cast.Story
    owner: User | None = None


@dataclass
class History:
    base: Deps
    stores: list[Store]
    manager: User
    end: datetime
    seed: int = HISTORY_SEED
    days: int = HISTORY_DAYS
    # The table the history writes through (None: the base's): on the local stack, one whose calls moto
    # answers in this process (leadline/local/moto_direct.py).
    table: Table | None = None
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.clock = FixedClock(self.end - timedelta(days=self.days))
        table = self.table or self.base.table
        self.deps = Deps(clock=self.clock, settings=self.base.settings, table=table,
                         queues=HistoryQueues(self), notifications=PastNotifications(self, table))
        self.agenda = Agenda()
        self.leads: dict[str, _Lead] = {}
        self.temperaments = {u.user_id: cast.TEMPERAMENTS[i % len(cast.TEMPERAMENTS)]
                             for i, u in enumerate(a for s in self.stores for a in s.agents)}
        self.temperaments[self.manager.user_id] = MANAGER_TEMPERAMENT
        self._serials = itertools.count(1)
        self._early_pages: dict[str, list[Notification]] = {}

    # -- the run ---------------------------------------------------------------------------------

    def live(self) -> Counter[str]:
        """Plan every request of the period, then play the agenda until `end`; returns what happened."""
        for store in self.stores:
            self._plan_requests(store)
        while (item := self.agenda.pop()) is not None:
            when, action = item
            if when >= self.end:
                break  # the rest is the future: it is left for the live stack (and its sweeps)
            self.clock.set(when)
            try:
                action()
            except (Conflict, NotFound):
                # A person's action the lead had moved past (an offer closed meanwhile, a sold lead): as in life.
                self.counts["overtaken"] += 1
        return self.counts

    def _plan_requests(self, store: Store) -> None:
        zone = ZoneInfo(store.account.timezone)
        today = self.end.astimezone(zone).date()
        for offset in range(self.days, 0, -1):
            day = today - timedelta(days=offset)
            for _ in range(cast.day_count(store.kind, day.weekday(), self.rng)):
                when = _local(day, cast.arrival_seconds(self.rng), zone)
                story = cast.story(store.kind, store.index, next(self._serials), self.rng)
                self.agenda.at(when, lambda s=store, t=story: self._arrive(s, t))  # type: ignore[misc]

    # -- what the services hand back ---------------------------------------------------------------

    def queued(self, queue: str, body: dict[str, Any], delay_seconds: int) -> None:
        now = self.clock.now()
        if queue == TIMERS:
            timer = _TIMER.validate_python(body)
            due = max(now + timedelta(seconds=delay_seconds), parse_time(timer.due_at) if timer.due_at else now)
            self.agenda.at(due, lambda: handle_timer(self.deps, timer))
        elif queue == outbox.OUTBOX and isinstance(job := _OUTBOX_JOB.validate_python(body), SendMessage):
            self._after(timedelta(seconds=max(1, delay_seconds)),
                           lambda: outbox.deliver(self.deps, job.message_id))
        else:
            self.counts["dropped jobs"] += 1  # staff email/SMS notifications

    def notified(self, note: Notification) -> None:
        lead = self.leads.get(note.lead_id or "")
        if lead is None:
            self._early_pages.setdefault(note.lead_id or "", []).append(note)
            return
        if note.kind == "offer":
            self._offered(note.user_id, note.lead_id or "", lead)
        elif note.kind == "delinquent" and note.user_id == self.manager.user_id:
            claimer = self.rng.choice(lead.store.agents)
            self.agenda.at(self._working_time(lead.store, minutes=self.rng.uniform(10, 45)),
                           lambda: self._claim(claimer, note.lead_id or "", lead))

    # -- people ----------------------------------------------------------------------------------

    def _arrive(self, store: Store, story: cast.Story) -> None:
        result = intake.receive_lead(self.deps, store.account, NewLead.model_validate(story.request))
        if not result.created:
            self.counts["coalesced"] += 1
            return
        self.counts["leads"] += 1
        self.leads[result.lead.lead_id] = _Lead(store, story)
        if story.repeat_days is not None:
            self._after(timedelta(days=story.repeat_days),
                           lambda: self._arrive(store, replace(story, repeat_days=None)))
        # Intake started routing, which paged the first agent before the lead was known here.
        for note in self._early_pages.pop(result.lead.lead_id, []):
            self.notified(note)

    def _offered(self, user_id: str, lead_id: str, lead: _Lead) -> None:
        temper = self.temperaments.get(user_id, MANAGER_TEMPERAMENT)
        person = self._person(lead.store, user_id)
        draw = self.rng.random()
        if self._is_night(lead.store):
            draw = draw * 0.3 + 0.7  # mostly past accept and decline: the offer times out
        if draw < temper.accepts:
            self._after(timedelta(seconds=self.rng.uniform(8, 100)),
                           lambda: self._decide(person, lead_id, lead, None))
        elif draw < temper.accepts + temper.declines:
            self._after(timedelta(seconds=self.rng.uniform(5, 60)),
                           lambda: self._decide(person, lead_id, lead, self.rng.choice(cast.DECLINE_REASONS)))

    def _decide(self, person: User, lead_id: str, lead: _Lead, decline_reason: str | None) -> None:
        actor = person.principal()
        offers, _ = routing.my_offers(self.deps, actor, 20, None)
        offer = next((o for o in offers if o.lead_id == lead_id), None)
        if offer is None:
            self.counts["overtaken"] += 1
            return
        if decline_reason is not None:
            routing.decline_offer(self.deps, person.caller(), offer.offer_id, decline_reason)
            self.counts["declined"] += 1
            return
        routing.accept_offer(self.deps, person.caller(), offer.offer_id)
        self.counts["accepted"] += 1
        self._owned(person, lead_id, lead)

    def _claim(self, person: User, lead_id: str, lead: _Lead) -> None:
        routing.requeue_lead(self.deps, person.principal(), lead_id)
        self.counts["claimed"] += 1
        self._owned(person, lead_id, lead)

    def _owned(self, person: User, lead_id: str, lead: _Lead) -> None:
        lead.owner = person
        minutes = min(360.0, self.rng.expovariate(1 / self.temperaments[person.user_id].response_minutes))
        self._after(timedelta(minutes=0.5 + minutes), lambda: self._first_message(lead_id, lead))

    def _first_message(self, lead_id: str, lead: _Lead) -> None:
        assert lead.owner is not None
        text = self.rng.choice(cast.FIRST_REPLIES).format(name=lead.story.request["first_name"])
        messaging.send_message(self.deps, lead.owner.principal(), lead_id, body=text)
        self.counts["messages"] += 1
        story = lead.story
        if story.opts_out:
            self._after(timedelta(minutes=self.rng.uniform(2, 90)), lambda: self._texts(lead_id, lead, "STOP"))
        elif story.replies:
            self._after(timedelta(minutes=self.rng.uniform(3, 240)),
                           lambda: self._texts(lead_id, lead, self.rng.choice(cast.CUSTOMER_REPLIES)))
        else:
            self._after(timedelta(days=self.rng.uniform(2, 4)), lambda: self._status(lead_id, lead, "cold"))

    def _texts(self, lead_id: str, lead: _Lead, body: str) -> None:
        account = lead.store.account
        inbound.receive(self.deps, account.account_id, InboundMessage(
            provider="twilio", provider_id=f"SM{self.rng.getrandbits(128):032x}", channel="sms",
            sender=lead.story.request["phone"], recipient=account.sms_number or "", body=body,
            received_at=iso(self.clock.now())))
        if body == "STOP":
            self.counts["opted out"] += 1
            return
        self.counts["customer replies"] += 1
        self._after(timedelta(minutes=self.rng.uniform(2, 40)), lambda: self._follow_up(lead_id, lead))

    def _follow_up(self, lead_id: str, lead: _Lead) -> None:
        assert lead.owner is not None
        actor = lead.owner.principal()
        messaging.send_message(self.deps, actor, lead_id, body=self.rng.choice(cast.FOLLOW_UPS))
        self.counts["messages"] += 1
        self._status(lead_id, lead, "hot" if lead.story.books else "warm")
        if not lead.story.books:
            return
        visit = self._working_time(lead.store, minutes=self.rng.uniform(20, 50) * 60)
        appointment, _ = appointments.create_appointment(self.deps, actor, lead_id, iso(visit), "Visit and numbers")
        self.counts["appointments"] += 1
        self.agenda.at(visit + timedelta(minutes=75), lambda: self._visit(lead_id, lead, appointment.appointment_id))

    def _visit(self, lead_id: str, lead: _Lead, appointment_id: str) -> None:
        assert lead.owner is not None
        shows = lead.story.shows
        appointments.update_appointment(self.deps, lead.owner.principal(), appointment_id, None,
                                        "showed" if shows else "no_show")
        self.counts["showed" if shows else "no shows"] += 1
        if lead.story.buys:
            self._after(timedelta(hours=self.rng.uniform(1, 3)),
                           lambda: self._status(lead_id, lead, "sold"))

    def _status(self, lead_id: str, lead: _Lead, status: str) -> None:
        assert lead.owner is not None
        lead_edits.update_lead(self.deps, lead.owner.principal(), lead_id,
                               UpdateLeadRequest.model_validate({"status": status}))
        self.counts[status] += 1

    # -- time --------------------------------------------------------------------------------------

    def _after(self, wait: timedelta, action: Callable[[], Any]) -> None:
        self.agenda.at(self.clock.now() + wait, action)

    def _is_night(self, store: Store) -> bool:
        hour = self.clock.now().astimezone(ZoneInfo(store.account.timezone)).hour
        return any(hour in hours for hours in NIGHT)

    def _working_time(self, store: Store, minutes: float) -> datetime:
        """`minutes` from now, moved to the next morning when that falls in the night."""
        zone = ZoneInfo(store.account.timezone)
        when = (self.clock.now() + timedelta(minutes=minutes)).astimezone(zone)
        if 9 <= when.hour < 19:
            return when
        day = when.date() + timedelta(days=1 if when.hour >= 19 else 0)
        return _local(day, (9 + self.rng.randrange(8)) * 3600 + self.rng.choice((0, 15, 30, 45)) * 60, zone)

    def _person(self, store: Store, user_id: str) -> User:
        return next((u for u in [*store.agents, self.manager] if u.user_id == user_id), self.manager)


def _local(day: date, seconds: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), zone) + timedelta(seconds=seconds)
