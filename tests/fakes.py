"""In-memory fakes of every port on Deps (chalicelib/ports.py), for use cases tested without moto.

The fake repositories share one `FakeState`, so a transaction over several of them is
all-or-nothing as DynamoDB's is: `FakeTransactions.commit` checks every write's condition against
the state before the transaction, raises the named conflict of the first that fails, and only
then applies them all. tests/integration/test_repository_contract.py runs the same tests against
these fakes and the DynamoDB repositories under moto, so the two cannot drift apart.

    deps = fake_deps()                      # every port a fake, a FixedClock
    deps.state.leads                         # what is stored, to arrange and to assert on
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from chalicelib import ports
from chalicelib.clock import FixedClock, iso
from chalicelib.deps import Deps
from chalicelib.domain import changes
from chalicelib.domain.accounts import Account, Group, SmsNumberOwner
from chalicelib.domain.appointments import Appointment
from chalicelib.domain.cadences import Cadence
from chalicelib.domain.calls import Dialer
from chalicelib.domain.directory import Invitation, UserDirectory
from chalicelib.domain.errors import (
    AlreadyDecided,
    CallerChanged,
    ClaimHeld,
    Conflict,
    ContactTaken,
    DuplicateDelivery,
    LeadChanged,
    LeadOptedOut,
    LostRace,
    NotFound,
    ValidationFailed,
    VersionConflict,
)
from chalicelib.domain.inbound import Conversation, LanguageSet, SenderHint
from chalicelib.domain.lead_query import ListPlan, Position, StoreBatch, matches, search_text
from chalicelib.domain.leads import Lead
from chalicelib.domain.mail import Email, Mailer
from chalicelib.domain.messaging import MessageSender, OutboundMessage, SendFailed, SendResult
from chalicelib.domain.notifications import Notification
from chalicelib.domain.outbox import DueClaims, DueMessage, OutboxMessage, ProviderMessage
from chalicelib.domain.paging import decode_cursor, encode_cursor
from chalicelib.domain.report_events import ReportEvent
from chalicelib.domain.reports.figures import ScoreEntry
from chalicelib.domain.reports.ledger import LeadLedger, to_ms
from chalicelib.domain.reports.rollup import DayRollup, LedgerChanged, RollupDayChanged
from chalicelib.domain.rerouting import Revival
from chalicelib.domain.routing import Offer, OfferDecision, Rotation, RoutingConfig, StoreRouting, Waiting
from chalicelib.domain.saved_replies import SavedReply
from chalicelib.domain.scoring import ScoreEvent
from chalicelib.domain.timeline import TimelineEvent
from chalicelib.domain.users import Membership, User
from chalicelib.ids import new_id, time_ordered_part
from chalicelib.ports import StoredFile

# The same bound the DynamoDB adapters use: sorts after every id character.
_AFTER_ANY_ID = "#~"


@dataclass
class FakeState:
    """Everything the fake repositories store."""

    groups: dict[str, Group] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    lookups: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, value) -> account id or identity
    memberships: dict[tuple[str, str], Membership] = field(default_factory=dict)  # (identity, group) ->
    leads: dict[str, Lead] = field(default_factory=dict)
    events: dict[str, dict[str, TimelineEvent]] = field(default_factory=dict)
    scores: list[ScoreEvent] = field(default_factory=list)
    reports: list[ReportEvent] = field(default_factory=list)
    contacts: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    senders: dict[tuple[str, str], SenderHint] = field(default_factory=dict)  # (store number, sender) ->
    configs: dict[str, RoutingConfig] = field(default_factory=dict)
    rotations: dict[str, Rotation] = field(default_factory=dict)
    offers: dict[str, Offer] = field(default_factory=dict)
    waiting: dict[str, Waiting] = field(default_factory=dict)
    revivals: dict[tuple[str, str], Revival] = field(default_factory=dict)
    feedback: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    outbox: dict[str, OutboxMessage] = field(default_factory=dict)
    due_messages: dict[str, str] = field(default_factory=dict)  # message_id -> due_at
    provider_ids: dict[tuple[str, str], ProviderMessage] = field(default_factory=dict)
    dedup: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    appointments: dict[str, Appointment] = field(default_factory=dict)
    saved_replies: dict[str, SavedReply] = field(default_factory=dict)
    cadences: dict[str, Cadence] = field(default_factory=dict)
    # A store's new-lead cadence ids as the cadence writes keep them (absent: never written; see StoreRouting).
    arrivals: dict[str, set[str]] = field(default_factory=dict)
    notifications: dict[str, dict[str, Notification]] = field(default_factory=dict)
    delivered: set[tuple[str, str]] = field(default_factory=set)
    ledgers: dict[str, LeadLedger] = field(default_factory=dict)
    rollup_days: dict[tuple[str, str], DayRollup] = field(default_factory=dict)


# -- transactions ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FakeWrite:
    """One write of a fake transaction: its condition (read before anything is applied), its effect,
    and the named conflict a failed condition raises."""

    check: Callable[[], bool]
    apply: Callable[[], None]
    conflict: type[LostRace] = LostRace


def _always() -> bool:
    return True


class FakeTransactions:
    def __init__(self) -> None:
        self.commits = 0

    def commit(self, writes: Sequence[changes.Write]) -> None:
        fakes = [w for w in writes if isinstance(w, FakeWrite)]
        if len(fakes) != len(writes):
            raise TypeError("a write that no fake repository made")
        for write in fakes:
            if not write.check():
                raise write.conflict()
        for write in fakes:
            write.apply()
        self.commits += 1


def _page(items: list[tuple[str, Any]], after: str | None, limit: int) -> tuple[list[tuple[str, Any]], str | None]:
    """Items (sort key, item) past `after`, up to `limit`, and the last key when the page is full (as
    DynamoDB returns a LastEvaluatedKey whenever it stopped at its Limit)."""
    rest = [(k, v) for k, v in items if after is None or k > after]
    page = rest[:limit]
    return page, (page[-1][0] if len(page) == limit and page else None)


def _due_page(keyed: Iterable[tuple[str, Any]], now: str, start: dict[str, Any] | None,
              limit: int) -> tuple[list[Any], dict[str, Any] | None]:
    """A due-index page: entries keyed `{due time}#{id}` due by `now`, oldest first, past `start`."""
    due = sorted((k, v) for k, v in keyed if k <= now + _AFTER_ANY_ID)
    page, last = _page(due, start["after"] if start else None, limit)
    return [v for _, v in page], ({"after": last} if last else None)


def _cursor_after(cursor: str | None) -> str | None:
    if not cursor:
        return None
    state = decode_cursor(cursor)
    if not isinstance(state, dict) or not isinstance(state.get("after"), str):
        raise ValidationFailed.field("cursor", "is not a cursor of this list")
    return str(state["after"])


def _cursor(after: str | None) -> str | None:
    return encode_cursor({"after": after}) if after is not None else None


# -- tenancy ---------------------------------------------------------------------------------------

class FakeGroupStore:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    def get(self, group_id: str) -> Group | None:
        return self.state.groups.get(group_id)


def api_key_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


class FakeAccountStore:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    def _unique(self, account: Account, before: Account | None = None) -> list[tuple[tuple[str, str], str]]:
        wanted = [(("apikey", api_key_hash(account.api_key)), "api_key")]
        if account.sms_number:
            wanted.append((("sms", account.sms_number), "sms_number"))
        if account.messenger_page_id:
            wanted.append((("page", account.messenger_page_id), "messenger_page_id"))
        if account.email_from:
            wanted.append((("mailbox", account.email_from.lower()), "email_from"))
        for key, name in wanted:
            holder = self.state.lookups.get(key)
            if holder is not None and holder != account.account_id:
                raise Conflict.taken(name)
        return wanted

    def create(self, account: Account, group: Group | None = None) -> None:
        if account.account_id in self.state.accounts or (group and group.group_id in self.state.groups):
            raise Conflict("the change lost a race with another one", code="conflict")
        for key, _ in self._unique(account):
            self.state.lookups[key] = account.account_id
        if group is not None:
            self.state.groups[group.group_id] = group
        self.state.accounts[account.account_id] = account
        self.state.arrivals[account.account_id] = set()

    def replace(self, before: Account, after: Account) -> None:
        current = self.state.accounts.get(before.account_id)
        if current is None or current.updated_at != before.updated_at:
            raise Conflict("the record changed meanwhile; read it again and retry", code="conflict")
        self._unique(after)
        for kind, attr in (("sms", "sms_number"), ("page", "messenger_page_id"), ("mailbox", "email_from")):
            old, new = getattr(before, attr), getattr(after, attr)
            old, new = (old.lower() if old else old), (new.lower() if new else new)
            if old and old != new:
                self.state.lookups.pop((kind, old), None)
            if new:
                self.state.lookups[(kind, new)] = after.account_id
        self.state.accounts[after.account_id] = after

    def get(self, account_id: str) -> Account | None:
        return self.state.accounts.get(account_id)

    def require(self, account_id: str) -> Account:
        return NotFound.unless(self.get(account_id), "account")

    def list_for_group(self, group_id: str) -> list[Account]:
        return sorted((a for a in self.state.accounts.values() if a.group_id == group_id), key=lambda a: a.account_id)

    def ids_for_group(self, group_id: str) -> frozenset[str]:
        return frozenset(a.account_id for a in self.list_for_group(group_id))

    def page_for_group(self, group_id: str, limit: int, after: str | None,
                       keep: Callable[[Account], bool]) -> tuple[list[Account], bool]:
        kept = [a for a in self.list_for_group(group_id) if (after is None or a.account_id > after) and keep(a)]
        return kept[:limit], len(kept) > limit

    def page_of(self, group_id: str, account_ids: Iterable[str], limit: int,
                after: str | None) -> tuple[list[Account], bool]:
        wanted = set(account_ids)
        found = [a for a in self.list_for_group(group_id) if a.account_id in wanted
                 and (after is None or a.account_id > after)]
        return found[:limit], len(found) > limit

    def sms_route(self, e164: str, sender: str | None) -> tuple[SmsNumberOwner | None, SenderHint | None]:
        account_id = self.state.lookups.get(("sms", e164))
        owner = SmsNumberOwner(account_id=account_id,
                               twilio_account_sid=self.state.accounts[account_id].twilio_account_sid) \
            if account_id is not None else None
        return owner, self.state.senders.get((e164, sender)) if sender else None

    def page_owner(self, page_id: str) -> str | None:
        return self.state.lookups.get(("page", page_id))

    def by_api_key(self, api_key: str) -> Account | None:
        account_id = self.state.lookups.get(("apikey", api_key_hash(api_key)))
        return self.state.accounts.get(account_id) if account_id else None

    def mailbox_owner(self, address: str) -> str | None:
        return self.state.lookups.get(("mailbox", address.lower()))


class FakeUserStore:
    """User records, each person's address ("email" lookups name the identity) and memberships."""

    def __init__(self, state: FakeState) -> None:
        self.state = state

    def _members_of(self, identity: str) -> list[Membership]:
        return [m for m in self.state.memberships.values() if m.identity == identity]

    def _add(self, user: User) -> None:
        if (user.identity, user.group_id) in self.state.memberships:
            raise Conflict.taken("email")
        if user.user_id in self.state.users:
            raise Conflict("the change lost a race with another one", code="conflict")
        self.state.memberships[(user.identity, user.group_id)] = Membership(
            user.identity, user.group_id, user.user_id, user.updated_at)
        self.state.users[user.user_id] = user

    def create(self, user: User) -> None:
        if ("email", user.email) in self.state.lookups:
            raise Conflict.taken("email")
        if user.user_id in self.state.users:
            raise Conflict("the change lost a race with another one", code="conflict")
        self._add(user)
        self.state.lookups[("email", user.email)] = user.identity

    def create_with_group(self, user: User, group: Group) -> None:
        if group.group_id in self.state.groups:
            raise Conflict("the change lost a race with another one", code="conflict")
        self.create(user)
        self.state.groups[group.group_id] = group

    def join(self, user: User, group: Group | None = None) -> None:
        if self.state.lookups.get(("email", user.email)) != user.identity or (
                group is not None and group.group_id in self.state.groups):
            raise Conflict("the change lost a race with another one", code="conflict")
        self._add(user)
        if group is not None:
            self.state.groups[group.group_id] = group

    def replace(self, before: User, after: User) -> bool:
        current = self.state.users.get(before.user_id)
        if current is None or current.updated_at != before.updated_at:
            raise Conflict("the record changed meanwhile; read it again and retry", code="conflict")
        moved = after.identity != before.identity
        leaving = after.deleted and not before.deleted
        if not (moved or leaving or after.email != before.email):
            self.state.users[after.user_id] = after
            return False
        others = [m for m in self._members_of(before.identity) if m.group_id != before.group_id]
        if not (moved or leaving) and others:
            raise Conflict("this person's address is shared by other memberships", code="conflict")
        holder = self.state.lookups.get(("email", after.email))
        if not after.deleted and holder is not None and holder != after.identity:
            raise Conflict.taken("email")
        if not after.deleted and moved and (after.identity, after.group_id) in self.state.memberships:
            raise Conflict.taken("email")
        if moved or leaving:
            self.state.memberships.pop((before.identity, before.group_id), None)
        if not others:
            self.state.lookups.pop(("email", before.email), None)
        if not after.deleted:
            if moved:
                self.state.memberships[(after.identity, after.group_id)] = Membership(
                    after.identity, after.group_id, after.user_id, after.updated_at)
            self.state.lookups[("email", after.email)] = after.identity
        self.state.users[after.user_id] = after
        return not others and (moved or leaving)

    def set_available(self, user_id: str, available: bool, now: str) -> User:
        user = self.state.users.get(user_id)
        if user is None or user.deleted:
            raise NotFound("user not found")
        user = user.model_copy(update={"available": available, "updated_at": now})
        self.state.users[user_id] = user
        return user

    def get(self, user_id: str) -> User | None:
        return self.state.users.get(user_id)

    def unchanged(self, user: User) -> changes.Write:
        def check() -> bool:
            current = self.state.users.get(user.user_id)
            return current is not None and current.updated_at == user.updated_at and not current.deleted

        return FakeWrite(check, lambda: None, CallerChanged)

    def identity_of(self, email: str) -> str | None:
        return self.state.lookups.get(("email", email))

    def memberships(self, identity: str) -> list[Membership]:
        return sorted(self._members_of(identity), key=lambda m: (m.joined_at, m.group_id))

    def records_and_groups(self, user_ids: set[str], group_ids: set[str]) -> tuple[dict[str, User], dict[str, Group]]:
        return ({u: self.state.users[u] for u in user_ids if u in self.state.users},
                {g: self.state.groups[g] for g in group_ids if g in self.state.groups})

    def membership(self, identity: str, group_id: str) -> str | None:
        found = self.state.memberships.get((identity, group_id))
        return found.user_id if found else None

    def in_group_by_email(self, group_id: str, email: str) -> User | None:
        return next((u for u in self.list_for_group(group_id) if u.email == email), None)

    def list_for_group(self, group_id: str) -> list[User]:
        """Deleted users leave the group's index, as on DynamoDB."""
        return sorted((u for u in self.state.users.values() if u.group_id == group_id and not u.deleted),
                      key=lambda u: (u.email, u.user_id))

    def page_for_group(self, group_id: str, limit: int, after: tuple[str, str] | None,
                       keep: Callable[[User], bool], sparse: bool) -> tuple[list[User], bool]:
        kept = [u for u in self.list_for_group(group_id) if (after is None or (u.email, u.user_id) > after) and keep(u)]
        return kept[:limit], len(kept) > limit


# -- leads -----------------------------------------------------------------------------------------

def _search_item(lead: Lead) -> dict[str, Any]:
    """The lead as its DynamoDB item reads to a FilterExpression."""
    return {**lead.model_dump(mode="json", exclude_none=True),
            "search": search_text(lead.first_name, lead.last_name, lead.email, lead.phone)}


def _activity(lead: Lead) -> str:
    return f"{lead.last_activity_at}#{lead.lead_id}"


class FakeLeadStore:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    def get(self, lead_id: str, consistent: bool = True) -> Lead | None:
        return self.state.leads.get(lead_id)

    def require(self, lead_id: str) -> Lead:
        return NotFound.unless(self.get(lead_id), "lead")

    def with_store(self, lead_id: str, account_id: str) -> tuple[Lead | None, Account | None]:
        return self.get(lead_id), self.state.accounts.get(account_id)

    def many(self, lead_ids: set[str]) -> dict[str, Lead]:
        return {i: self.state.leads[i] for i in lead_ids if i in self.state.leads}

    def timeline(self, lead_id: str) -> list[TimelineEvent]:
        return sorted(self.state.events.get(lead_id, {}).values(),
                      key=lambda e: (e.at, time_ordered_part(e.event_id), e.event_id))

    def event(self, lead_id: str, event_id: str) -> TimelineEvent | None:
        return self.state.events.get(lead_id, {}).get(event_id)

    def contact(self, account_id: str, kind: str, value: str) -> dict[str, Any] | None:
        found = self.state.contacts.get((account_id, kind, value))
        return {"lead_id": found["lead_id"], "at": found.get("at")} if found else None

    def contacts(self, account_id: str, points: list[tuple[str, str]]) -> dict[str, dict[str, Any] | None]:
        return {kind: self.contact(account_id, kind, value) for kind, value in points}

    def contact_and_routing(self, account_id: str, kind: str, value: str) -> tuple[dict[str, Any] | None,
                                                                                  StoreRouting]:
        found = self.state.contacts.get((account_id, kind, value))
        return ({"lead_id": found["lead_id"], "at": found.get("at")} if found else None,
                FakeRoutingStore(self.state).store_routing(account_id))

    def conversation(self, account_id: str, kind: str, value: str, lead_id: str,
                     owner_id: str | None) -> Conversation:
        contact = self.state.contacts.get((account_id, kind, value))
        return Conversation(lead_id=contact["lead_id"] if contact else None, lead=self.state.leads.get(lead_id),
                            store=self.state.accounts.get(account_id),
                            owner=self.state.users.get(owner_id) if owner_id else None)

    def point_sender(self, e164: str, sender: str, hint: SenderHint, ttl: int) -> changes.Write:
        def apply() -> None:
            self.state.senders[(e164, sender)] = hint

        return FakeWrite(_always, apply)

    def list_batch(self, account_id: str, plan: ListPlan, position: Position, want: int,
                   max_calls: int = 1, query_limit: int | None = None) -> StoreBatch:
        leads = [lead for lead in self.state.leads.values() if lead.account_id == account_id]
        members: list[tuple[str, Lead]]
        if plan.index == "awaiting":
            members = [(f"{lead.awaiting_since}#{lead.lead_id}", lead) for lead in leads if lead.awaiting_since]
        elif plan.index == "flag":
            flag = str(plan.key)
            members = [(f"{lead.flag_time(flag)}#{lead.lead_id}", lead) for lead in leads if flag in lead.flags]
        else:
            keep: dict[str, Callable[[Lead], bool]] = {
                "inbox": lambda lead: True, "folder": lambda lead: lead.status_folder == plan.key,
                "agent": lambda lead: lead.assigned_to == plan.key}
            members = [(_activity(lead), lead) for lead in leads if keep[plan.index](lead)]
        members.sort(key=lambda m: m[0], reverse=not plan.ascending)
        if position.after is not None:
            members = [m for m in members if (m[0] > position.after if plan.ascending else m[0] < position.after)]
        limit = query_limit or want
        found: list[tuple[str, Any]] = []
        examined_to, start = position.after, 0
        for _ in range(max_calls):
            page = members[start:start + limit]
            start += len(page)
            found.extend((key, lead) for key, lead in page if matches(_search_item(lead), plan.conditions))
            if len(page) < limit:
                return StoreBatch(account_id, found, None, exhausted=True)
            examined_to = page[-1][0]
            if len(found) >= want:
                break
        return StoreBatch(account_id, found, examined_to, exhausted=False)

    def due_deadlines(self, now: str, limit: int,
                      start: dict[str, Any] | None = None) -> tuple[list[Any], dict[str, Any] | None]:
        # As the DynamoDB adapter: only a lead in the `due` folder (owned, open) carries the entry.
        return _due_page(((f"{at}#{lead.lead_id}", lead) for lead in self.state.leads.values()
                          if "due" in lead.flags and lead.deadline is not None
                          and (at := lead.deadline.next_at()) is not None), now, start, limit)

    def create(self, lead: Lead) -> list[changes.Write]:
        def apply() -> None:
            self.state.leads[lead.lead_id] = lead

        return [FakeWrite(lambda: lead.lead_id not in self.state.leads, apply)]

    def save(self, before: Lead, after: Lead) -> list[changes.Write]:
        def check() -> bool:
            current = self.state.leads.get(before.lead_id)
            return current is not None and current.version == before.version

        def apply() -> None:
            self.state.leads[after.lead_id] = after

        return [FakeWrite(check, apply, LeadChanged)]

    def add_event(self, event: TimelineEvent) -> changes.Write:
        def apply() -> None:
            self.state.events.setdefault(event.lead_id, {})[event.event_id] = event

        return FakeWrite(lambda: event.event_id not in self.state.events.get(event.lead_id, {}), apply)

    def set_language(self, lead_id: str, language: str) -> LanguageSet:
        lead = self.state.leads.get(lead_id)
        if lead is None or lead.language is not None:
            return "gone" if lead is None else "kept"
        self.state.leads[lead_id] = lead.model_copy(update={"language": language, "version": lead.version + 1})
        return "set"

    def add_score(self, event: ScoreEvent) -> changes.Write:
        return FakeWrite(lambda: all(e.event_id != event.event_id for e in self.state.scores),
                         lambda: self.state.scores.append(event))

    def add_report(self, event: ReportEvent) -> changes.Write:
        return FakeWrite(lambda: all(e.event_id != event.event_id for e in self.state.reports),
                         lambda: self.state.reports.append(event))

    def claim_contact(self, account_id: str, kind: str, value: str, lead_id: str, at: str,
                      seen_lead_id: str | None) -> changes.Write:
        key = (account_id, kind, value)

        def check() -> bool:
            held = self.state.contacts.get(key)
            return held is None if seen_lead_id is None else held is not None and held["lead_id"] == seen_lead_id

        def apply() -> None:
            self.state.contacts[key] = {"lead_id": lead_id, "at": at}

        return FakeWrite(check, apply, ContactTaken)

    def release_contact(self, account_id: str, kind: str, value: str, lead_id: str) -> changes.Write:
        key = (account_id, kind, value)

        def check() -> bool:
            held = self.state.contacts.get(key)
            return held is not None and held["lead_id"] == lead_id

        def apply() -> None:
            del self.state.contacts[key]

        return FakeWrite(check, apply, ContactTaken)


# -- routing ---------------------------------------------------------------------------------------

class FakeRoutingStore:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    def config(self, account_id: str) -> RoutingConfig | None:
        return self.state.configs.get(account_id)

    def put_config(self, config: RoutingConfig) -> None:
        self.state.configs[config.account_id] = config

    def rotation(self, account_id: str) -> Rotation:
        return self.state.rotations.get(account_id) or Rotation()

    def store_routing(self, account_id: str) -> StoreRouting:
        arrivals = self.state.arrivals.get(account_id)
        return StoreRouting(account=self.state.accounts.get(account_id), config=self.config(account_id),
                            rotation=self.rotation(account_id),
                            arrival_cadences=tuple(sorted(arrivals)) if arrivals is not None else None)

    def save_rotation(self, account_id: str, before: Rotation, after: Rotation) -> changes.Write:
        def apply() -> None:
            self.state.rotations[account_id] = after.model_copy(update={"rev": before.rev + 1})

        return FakeWrite(lambda: self.rotation(account_id).rev == before.rev, apply, VersionConflict)

    def offer(self, offer_id: str) -> Offer | None:
        return self.state.offers.get(offer_id)

    def offer_with_user(self, offer_id: str, user_id: str) -> tuple[Offer | None, User | None]:
        return self.offer(offer_id), self.state.users.get(user_id)

    def add_offer(self, offer: Offer) -> changes.Write:
        def apply() -> None:
            self.state.offers[offer.offer_id] = offer

        return FakeWrite(lambda: offer.offer_id not in self.state.offers, apply)

    def _closable(self, decision: OfferDecision, now: str) -> bool:
        offer = self.state.offers.get(decision.offer_id)
        if offer is None or offer.state != "pending":
            return False
        return offer.expires_at > now if decision.requires == "live" else offer.expires_at <= now

    def _close(self, decision: OfferDecision, now: str) -> None:
        offer = self.state.offers[decision.offer_id]
        update: dict[str, Any] = {"state": decision.state, "decided_at": now}
        if decision.reason is not None:
            update["reason"] = decision.reason
        self.state.offers[decision.offer_id] = offer.model_copy(update=update)

    def close_offer(self, decision: OfferDecision, now: str) -> changes.Write:
        return FakeWrite(lambda: self._closable(decision, now), lambda: self._close(decision, now), AlreadyDecided)

    def decide_offer(self, decision: OfferDecision, now: str) -> bool:
        if not self._closable(decision, now):
            return False
        self._close(decision, now)
        return True

    def _pending(self, agent_id: str | None = None) -> list[tuple[str, Offer]]:
        return sorted((f"{o.expires_at}#{o.offer_id}", o) for o in self.state.offers.values()
                      if o.state == "pending" and (agent_id is None or o.agent_id == agent_id))

    def pending_offers(self, agent_id: str, now: str, limit: int,
                       cursor: str | None) -> tuple[list[Offer], str | None]:
        after = _cursor_after(cursor)
        floor = now + _AFTER_ANY_ID
        live = [(k, o) for k, o in self._pending(agent_id) if k > floor]
        page, last = _page(live, after if after is not None and after > floor else None, limit)
        return [o for _, o in page], _cursor(last)

    def due_offers(self, now: str, limit: int,
                   start: dict[str, Any] | None = None) -> tuple[list[Any], dict[str, Any] | None]:
        due = [(k, o) for k, o in self._pending() if k <= now + _AFTER_ANY_ID]
        page, last = _page(due, start["after"] if start else None, limit)
        return [o for _, o in page], ({"after": last} if last else None)

    def waiting(self, lead_id: str) -> Waiting | None:
        return self.state.waiting.get(lead_id)

    def add_waiting(self, waiting: Waiting) -> changes.Write:
        def apply() -> None:
            self.state.waiting[waiting.lead_id] = waiting

        return FakeWrite(_always, apply)

    def _is_current(self, waiting: Waiting) -> bool:
        current = self.state.waiting.get(waiting.lead_id)
        return current is not None and current.routing_version == waiting.routing_version

    def remove_waiting(self, waiting: Waiting) -> changes.Write:
        def apply() -> None:
            del self.state.waiting[waiting.lead_id]

        return FakeWrite(lambda: self._is_current(waiting), apply, VersionConflict)

    def drop_waiting(self, waiting: Waiting) -> None:
        if self._is_current(waiting):
            del self.state.waiting[waiting.lead_id]

    def due_openings(self, now: str, limit: int,
                     start: dict[str, Any] | None = None) -> tuple[list[Any], dict[str, Any] | None]:
        return _due_page(((f"{w.opens_at}#{w.lead_id}", w) for w in self.state.waiting.values()), now, start, limit)

    def add_revival(self, revival: Revival) -> changes.Write:
        def apply() -> None:
            self.state.revivals[(revival.account_id, revival.opens_at)] = revival

        return FakeWrite(_always, apply)

    def drop_revival(self, revival: Revival) -> None:
        self.state.revivals.pop((revival.account_id, revival.opens_at), None)

    def due_revivals(self, now: str, limit: int,
                     start: dict[str, Any] | None = None) -> tuple[list[Any], dict[str, Any] | None]:
        return _due_page(((f"{r.opens_at}#{r.account_id}", r) for r in self.state.revivals.values()),
                         now, start, limit)

    def feedback_earned(self, lead_id: str, user_id: str) -> set[str]:
        return set(self.state.feedback.get((lead_id, user_id), set()))

    def record_feedback(self, lead_id: str, user_id: str, earned: set[str], at: str) -> changes.Write:
        def apply() -> None:
            self.state.feedback[(lead_id, user_id)] = set(earned)

        return FakeWrite(_always, apply)

    def score_events(self, user_id: str, start: str, end: str) -> list[ScoreEvent]:
        return sorted((e for e in self.state.scores if e.user_id == user_id and start <= e.at <= end + _AFTER_ANY_ID),
                      key=lambda e: (e.at, e.event_id))


# -- conversations ---------------------------------------------------------------------------------

class FakeOutboxStore:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    def get(self, message_id: str) -> OutboxMessage | None:
        return self.state.outbox.get(message_id)

    def add(self, message: OutboxMessage, due_at: str) -> changes.Write:
        def apply() -> None:
            self.state.outbox[message.message_id] = message
            self.state.due_messages[message.message_id] = due_at

        return FakeWrite(lambda: message.message_id not in self.state.outbox, apply)

    def move(self, lead_id: str, message_id: str, to_status: str, from_statuses: tuple[str, ...], *,
             shown: dict[str, Any] | None = None, set_fields: dict[str, Any] | None = None,
             due_at: str | None = None, release: bool = False, claim_free_at: str | None = None) -> list[changes.Write]:
        def movable() -> bool:
            message = self.state.outbox.get(message_id)
            if message is None or message.status not in from_statuses:
                return False
            return claim_free_at is None or message.claim_until is None or message.claim_until < claim_free_at

        def move_it() -> None:
            message = self.state.outbox[message_id]
            known = {k: v for k, v in (set_fields or {}).items() if k in OutboxMessage.model_fields}
            update: dict[str, Any] = {"status": to_status, **known}
            if release:
                update["claim_until"] = None
            self.state.outbox[message_id] = message.model_copy(update=update)
            if due_at is not None:
                self.state.due_messages[message_id] = due_at
            else:
                self.state.due_messages.pop(message_id, None)

        def shown_exists() -> bool:
            return message_id in self.state.events.get(lead_id, {})

        def show_it() -> None:
            event = self.state.events[lead_id][message_id]
            self.state.events[lead_id][message_id] = event.model_copy(
                update={"data": {**event.data, "status": to_status, **(shown or {})}})

        return [FakeWrite(movable, move_it, AlreadyDecided), FakeWrite(shown_exists, show_it)]

    def claim(self, message: OutboxMessage, now: str, until: str) -> None:
        current = self.state.outbox.get(message.message_id)
        if current is None or current.status != "queued" or (current.claim_until is not None
                                                              and current.claim_until >= now):
            raise ClaimHeld()
        lead = self.state.leads.get(message.lead_id)
        if lead is None or lead.opted_out or (message.channel == "email" and lead.email_opted_out):
            raise LeadOptedOut()
        self.state.outbox[message.message_id] = current.model_copy(update={"claim_until": until})

    def due(self, now: str, limit: int = 1000) -> list[DueMessage]:
        due = sorted((f"{at}#{message_id}", message_id, at) for message_id, at in self.state.due_messages.items()
                     if f"{at}#{message_id}" <= now + "~")
        return [DueMessage(message_id=message_id, due_at=at) for _, message_id, at in due[:limit]]

    def claim_due(self, due: list[DueMessage], next_due: str) -> DueClaims:
        claims = DueClaims()
        for entry in due:
            if self.state.due_messages.get(entry.message_id) == entry.due_at:
                self.state.due_messages[entry.message_id] = next_due
                claims.claimed.append(entry.message_id)
            else:
                claims.moved_on.append(entry.message_id)
        return claims


class FakeDeliveryStore:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    def record_provider_id(self, provider: str, sid: str, lead_id: str, message_id: str, *,
                           account_id: str | None = None, provider_account: str | None = None) -> changes.Write:
        def apply() -> None:
            self.state.provider_ids[(provider, sid)] = ProviderMessage(
                lead_id=lead_id, message_id=message_id, account_id=account_id, provider_account=provider_account)

        return FakeWrite(_always, apply)

    def provider_message(self, provider: str, sid: str) -> ProviderMessage | None:
        return self.state.provider_ids.get((provider, sid))

    def record(self, source: str, dedup_id: str, ttl: int, *, lead_id: str, **data: Any) -> changes.Write:
        def apply() -> None:
            self.state.dedup[(source, dedup_id)] = {"lead_id": lead_id, **data}

        return FakeWrite(lambda: "lead_id" not in self.state.dedup.get((source, dedup_id), {}), apply,
                         DuplicateDelivery)

    def seen(self, source: str, dedup_id: str) -> dict[str, Any] | None:
        found = self.state.dedup.get((source, dedup_id))
        return dict(found) if found is not None else None


class FakeAppointmentStore:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    def get(self, appointment_id: str) -> Appointment | None:
        return self.state.appointments.get(appointment_id)

    def save(self, appointment: Appointment, expected_status: str | None = None) -> changes.Write:
        def check() -> bool:
            current = self.state.appointments.get(appointment.appointment_id)
            return current is None if expected_status is None else (current is not None
                                                                      and current.status == expected_status)

        def apply() -> None:
            self.state.appointments[appointment.appointment_id] = appointment

        return FakeWrite(check, apply, LostRace if expected_status is None else AlreadyDecided)


class FakeSavedReplyStore:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    def put(self, reply: SavedReply, new: bool) -> None:
        if (reply.saved_reply_id in self.state.saved_replies) == new:
            raise Conflict("the item changed or does not exist", code="conflict")
        self.state.saved_replies[reply.saved_reply_id] = reply

    def get(self, saved_reply_id: str) -> SavedReply | None:
        return self.state.saved_replies.get(saved_reply_id)

    def page(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[SavedReply], str | None]:
        replies = sorted((f"{r.title.lower()}#{r.saved_reply_id}", r) for r in self.state.saved_replies.values()
                         if r.account_id == account_id)
        page, last = _page(replies, _cursor_after(cursor), limit)
        return [r for _, r in page], _cursor(last)

    def delete(self, saved_reply_id: str) -> None:
        if self.state.saved_replies.pop(saved_reply_id, None) is None:
            raise NotFound("saved reply not found")


class FakeCadenceStore:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    def get(self, cadence_id: str) -> Cadence | None:
        return self.state.cadences.get(cadence_id)

    def _of(self, account_id: str) -> list[tuple[str, Cadence]]:
        return sorted((f"{c.name.lower()}#{c.cadence_id}", c) for c in self.state.cadences.values()
                      if c.account_id == account_id)

    def for_account(self, account_id: str) -> list[Cadence]:
        return [c for _, c in self._of(account_id)]

    def page(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[Cadence], str | None]:
        page, last = _page(self._of(account_id), _cursor_after(cursor), limit)
        return [c for _, c in page], _cursor(last)

    def add(self, cadence: Cadence) -> None:
        if cadence.cadence_id in self.state.cadences:
            raise Conflict("the item changed or does not exist", code="conflict")
        self.state.cadences[cadence.cadence_id] = cadence
        self._keep_arrivals(cadence, cadence.on_arrival)

    def replace(self, before: Cadence, after: Cadence) -> None:
        current = self.state.cadences.get(before.cadence_id)
        if current is None or current.version != before.version:
            raise VersionConflict("the cadence changed meanwhile; read it again")
        self.state.cadences[after.cadence_id] = after
        self._keep_arrivals(after, after.on_arrival)

    def delete(self, cadence: Cadence) -> None:
        if self.state.cadences.pop(cadence.cadence_id, None) is None:
            raise NotFound("cadence not found")
        self._keep_arrivals(cadence, False)

    def _keep_arrivals(self, cadence: Cadence, on_arrival: bool) -> None:
        ids = self.state.arrivals.setdefault(cadence.account_id, {
            c.cadence_id for c in self.state.cadences.values() if c.account_id == cadence.account_id and c.on_arrival})
        (ids.add if on_arrival else ids.discard)(cadence.cadence_id)

    def due_steps(self, now: str, limit: int,
                  start: dict[str, Any] | None = None) -> tuple[list[Any], dict[str, Any] | None]:
        due = sorted((f"{lead.cadence.next_at}#{lead.lead_id}", lead) for lead in self.state.leads.values()
                     if lead.cadence is not None and lead.cadence.active and lead.cadence.next_at
                     and f"{lead.cadence.next_at}#{lead.lead_id}" <= now + _AFTER_ANY_ID)
        page, last = _page(due, start["after"] if start else None, limit)
        return [lead for _, lead in page], ({"after": last} if last else None)


class FakeNotificationStore:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    def add(self, notification: Notification, ttl: int) -> None:
        self.state.notifications.setdefault(notification.user_id, {})[notification.notification_id] = notification

    def added(self, notification: Notification, ttl: int) -> changes.Write:
        return FakeWrite(_always, lambda: self.add(notification, ttl))

    def page(self, user_id: str, limit: int, cursor: str | None,
             unread_only: bool = False) -> tuple[list[Notification], str | None]:
        """Newest first; like a Query with a filter, `limit` counts what was examined, not what is kept."""
        after = _cursor_after(cursor)
        mine = sorted(self.state.notifications.get(user_id, {}).items(), reverse=True)
        rest = [(k, n) for k, n in mine if after is None or k < after]
        examined = rest[:limit]
        kept = [n for _, n in examined if not (unread_only and n.read)]
        return kept, _cursor(examined[-1][0] if len(examined) == limit and examined else None)

    def delivered(self, notification_id: str, channel: str) -> bool:
        return (notification_id, channel) in self.state.delivered

    def mark_delivered(self, notification_id: str, channel: str, ttl: int) -> None:
        self.state.delivered.add((notification_id, channel))

    def mark_read(self, user_id: str, notification_id: str) -> Notification:
        mine = self.state.notifications.get(user_id, {})
        if notification_id not in mine:
            raise NotFound("notification not found")
        mine[notification_id] = mine[notification_id].model_copy(update={"read": True})
        return mine[notification_id]


# -- the rest of the world -------------------------------------------------------------------------

class FakeQueues:
    """Keeps what was sent, so a test can deliver it when it likes."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], int]] = []

    def send(self, queue: str, body: dict[str, Any], delay_seconds: int = 0) -> None:
        self.sent.append((queue, body, delay_seconds))

    def send_batch(self, queue: str, bodies: list[dict[str, Any]]) -> None:
        self.sent.extend((queue, body, 0) for body in bodies)

    def take(self, queue: str) -> list[dict[str, Any]]:
        taken = [body for q, body, _ in self.sent if q == queue]
        self.sent = [m for m in self.sent if m[0] != queue]
        return taken


class FakeSender:
    """Records every hand-off; `fail_with` makes the next sends fail."""

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []
        self.fail_with: SendFailed | None = None

    def send(self, message: OutboundMessage) -> SendResult:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(message)
        return SendResult(provider_id=f"SM{len(self.sent):032d}", status="sent")


class FakeMailer:
    def __init__(self) -> None:
        self.sent: list[Email] = []

    def send(self, email: Email) -> str:
        self.sent.append(email)
        return f"mail-{len(self.sent)}"


class FakeBlobStore:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.objects[key] = (body, content_type)

    def get(self, key: str) -> bytes:
        if key not in self.objects:
            raise KeyError(key)
        return self.objects[key][0]

    def list(self, prefix: str) -> list[StoredFile]:
        return [StoredFile(k, len(v[0])) for k, v in sorted(self.objects.items()) if k.startswith(prefix)]

    def presigned_url(self, key: str, expires_in: int = 900) -> str:
        return f"https://blobs.invalid/{key}?expires_in={expires_in}"


class FakeDirectory:
    """Whoever signs people in: every invitation makes a new person."""

    def __init__(self) -> None:
        self.removed: list[str] = []
        self.emails: dict[str, str] = {}

    def invite(self, email: str, name: str, at: datetime) -> Invitation:
        invitation = Invitation(user_id=new_id("usr", at), created=True)
        self.emails[invitation.user_id] = email
        return invitation

    def withdraw(self, invitation: Invitation) -> None:
        self.emails.pop(invitation.user_id, None)

    def change_email(self, user_id: str, email: str) -> None:
        self.emails[user_id] = email

    def remove(self, user_id: str) -> None:
        self.removed.append(user_id)


# -- reports ----------------------------------------------------------------------------------------

class FakeReportRecords:
    """Report events and score entries as the writers stored them (state.reports / state.scores)."""

    def __init__(self, state: FakeState) -> None:
        self.state = state

    def events_between(self, account_id: str, start: datetime, until: datetime) -> list[dict[str, Any]]:
        low, high = iso(start), iso(until)
        found = [e.model_dump(mode="json", exclude_none=True) for e in self.state.reports
                 if e.account_id == account_id and low <= e.at <= high]
        return sorted(({k: v for k, v in e.items() if k != "group_id"} for e in found),
                      key=lambda e: (e["at"], e["event_id"]))

    def score_entries(self, user_id: str, start: str, end: str) -> list[ScoreEntry]:
        return [ScoreEntry(s.user_id, s.account_id, to_ms(s.at), s.points)
                for s in self._scores(user_id) if start <= s.at < end]

    def score_items(self, user_id: str, start: str, until: str) -> list[dict[str, Any]]:
        return [{"type": "score", **s.model_dump(mode="json")} for s in self._scores(user_id) if start <= s.at <= until]

    def _scores(self, user_id: str) -> list[ScoreEvent]:
        return sorted((s for s in self.state.scores if s.user_id == user_id), key=lambda s: (s.at, s.event_id))

    def awaiting(self, account_id: str, waiting_since_before: str, after: str | None,
                 limit: int) -> list[tuple[str, Lead]]:
        members = sorted((f"{lead.awaiting_since}#{lead.lead_id}", lead) for lead in self.state.leads.values()
                         if lead.account_id == account_id and lead.awaiting_since)
        return [(position, lead) for position, lead in members
                if position < waiting_since_before and (after is None or position > after)][:limit]

    def all_account_ids(self) -> list[str]:
        return sorted(self.state.accounts)


class FakeRollupStore:
    """Ledgers and rollup days by copy, saved conditionally on their version as DynamoDB's are."""

    def __init__(self, state: FakeState) -> None:
        self.state = state

    def ledgers(self, lead_ids: Iterable[str]) -> dict[str, LeadLedger]:
        return {i: found for i in set(lead_ids) if (found := self.ledger(i)) is not None}

    def ledgers_and_days(self, lead_ids: Iterable[str], wanted: Iterable[tuple[str, str]],
                         ) -> tuple[dict[str, LeadLedger], dict[tuple[str, str], DayRollup]]:
        return self.ledgers(lead_ids), self.days(wanted)

    def ledger(self, lead_id: str) -> LeadLedger | None:
        held = self.state.ledgers.get(lead_id)
        return LeadLedger(held.lead_id, held.account_id, list(held.facts), held.version) if held else None

    def save_ledger(self, ledger: LeadLedger) -> None:
        self._check_ledger(ledger)
        self._keep_ledger(ledger)

    def _check_ledger(self, ledger: LeadLedger) -> None:
        held = self.state.ledgers.get(ledger.lead_id)
        if (held.version if held else 0) != ledger.version:
            raise LedgerChanged(f"the ledger of {ledger.lead_id} changed meanwhile")

    def _keep_ledger(self, ledger: LeadLedger) -> None:
        ledger.version += 1
        self.state.ledgers[ledger.lead_id] = LeadLedger(ledger.lead_id, ledger.account_id, list(ledger.facts),
                                                        ledger.version)

    def days(self, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], DayRollup]:
        return {(a, d): self.day(a, d) for a, d in set(wanted)}

    def day(self, account_id: str, day: str) -> DayRollup:
        held = self.state.rollup_days.get((account_id, day))
        return DayRollup(account_id, day, dict(held.entries), held.version) if held else DayRollup(account_id, day)

    def save_day(self, rollup: DayRollup) -> None:
        self._check_day(rollup)
        self._keep_day(rollup)

    def _check_day(self, rollup: DayRollup) -> None:
        held = self.state.rollup_days.get((rollup.account_id, rollup.day))
        if (held.version if held else 0) != rollup.version:
            raise RollupDayChanged(f"the rollup of {rollup.account_id} on {rollup.day} changed meanwhile")

    def _keep_day(self, rollup: DayRollup) -> None:
        rollup.version += 1
        self.state.rollup_days[(rollup.account_id, rollup.day)] = DayRollup(
            rollup.account_id, rollup.day, dict(rollup.entries), rollup.version)

    def save_together(self, ledgers: Iterable[LeadLedger], days: Iterable[DayRollup]) -> None:
        ledgers, days = list(ledgers), list(days)
        for ledger in ledgers:
            self._check_ledger(ledger)
        for rollup in days:
            self._check_day(rollup)
        for ledger in ledgers:
            self._keep_ledger(ledger)
        for rollup in days:
            self._keep_day(rollup)

    def read_days(self, account_id: str, first: date, last: date) -> list[DayRollup]:
        return [self.day(a, d) for a, d in sorted(self.state.rollup_days)
                if a == account_id and first.isoformat() <= d <= last.isoformat()]


class FakeDeps(Deps):
    """A Deps whose every port is a fake over one FakeState (`state`), with a FixedClock. (Each fake is
    typed as its port here, so mypy checks that it still fits.)"""

    def __init__(self, clock: FixedClock | None = None) -> None:
        self.state = state = FakeState()
        self.fixed_clock = clock or FixedClock("2026-11-02T15:00:00Z")
        transactions: ports.Transactions = FakeTransactions()
        groups: ports.GroupStore = FakeGroupStore(state)
        accounts: ports.AccountStore = FakeAccountStore(state)
        users: ports.UserStore = FakeUserStore(state)
        leads: ports.LeadStore = FakeLeadStore(state)
        routing: ports.RoutingStore = FakeRoutingStore(state)
        outbox: ports.OutboxStore = FakeOutboxStore(state)
        deliveries: ports.DeliveryStore = FakeDeliveryStore(state)
        appointments: ports.AppointmentStore = FakeAppointmentStore(state)
        saved_replies: ports.SavedReplyStore = FakeSavedReplyStore(state)
        cadences: ports.CadenceStore = FakeCadenceStore(state)
        notifications: ports.NotificationStore = FakeNotificationStore(state)
        directory: UserDirectory = FakeDirectory()
        queues: ports.Queues = FakeQueues()
        mailer: Mailer = FakeMailer()
        sender: MessageSender = FakeSender()
        reports_store: ports.BlobStore = FakeBlobStore()
        report_records: ports.ReportRecords = FakeReportRecords(state)
        rollups: ports.RollupStore = FakeRollupStore(state)
        from tests.fakes_channels import (
            FakeAttachmentStore,
            FakeCallStore,
            FakeDialer,
            FakeMailboxStore,
            FakeMediaFetcher,
            FakeMediaStore,
        )

        calls: ports.CallStore = FakeCallStore(state)
        dialer: Dialer = FakeDialer()
        attachments: ports.AttachmentStore = FakeAttachmentStore(state)
        mailboxes: ports.MailboxStore = FakeMailboxStore(state)
        media: ports.MediaStore = FakeMediaStore()
        media_fetcher: ports.MediaFetcher = FakeMediaFetcher()
        super().__init__(
            clock=self.fixed_clock, transactions=transactions, groups=groups, accounts=accounts, users=users,
            leads=leads, routing=routing, outbox=outbox, deliveries=deliveries, appointments=appointments,
            saved_replies=saved_replies, cadences=cadences, notifications=notifications, directory=directory,
            queues=queues, mailer=mailer, sender=sender, reports_store=reports_store, report_records=report_records,
            rollups=rollups, calls=calls, dialer=dialer, attachments=attachments, mailboxes=mailboxes, media=media,
            media_fetcher=media_fetcher)

    @property
    def table(self) -> Any:
        raise AssertionError("a use case reached for the DynamoDB table: give it a port on Deps instead")


def fake_deps(clock: FixedClock | None = None) -> FakeDeps:
    return FakeDeps(clock)
