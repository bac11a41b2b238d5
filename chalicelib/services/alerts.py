"""Who is told what about a lead: the store's managers, the owner, an agent offered it — and the
facts each alert carries (the store, the customer's message, the time left). The words are
domain/alerts.py's; services/notifications.py delivers them to every channel each person chose."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from chalicelib.clock import parse_time
from chalicelib.deps import Deps
from chalicelib.domain.accounts import Account
from chalicelib.domain.alerts import Alert, Facts, Timing, lead_alert
from chalicelib.domain.leads import Lead
from chalicelib.domain.notifications import Notification, NotificationKind
from chalicelib.domain.tenancy import Role
from chalicelib.domain.users import User
from chalicelib.services.notifications import notify


def store_managers(deps: Deps, lead: Lead) -> list[User]:
    """Every manager and admin of the lead's store (group admins oversee every store: not these)."""
    return managers_of(lead, deps.users.list_for_group(lead.group_id))


def managers_of(lead: Lead, users: Iterable[User]) -> list[User]:
    """The managers and admins of the lead's store among `users` (records already read)."""
    return [u for u in users
            if not u.deleted and u.role in (Role.MANAGER, Role.ADMIN) and lead.account_id in u.account_ids]


def deadline_timing(lead: Lead, now: datetime) -> Timing | None:
    """The running deadline's due time and the clock time left (business hours only count while open)."""
    deadline, policy = lead.deadline, lead.response_policy
    if deadline is None or policy is None:
        return None
    return Timing(deadline.due_at, policy.clock().elapsed(now, parse_time(deadline.due_at)))


def until(at: str, now: datetime) -> Timing:
    return Timing(at, max(0.0, (parse_time(at) - now).total_seconds()))


def _store(deps: Deps, lead: Lead, known: Account | None) -> tuple[str, str]:
    """The store's name and timezone: from the owner's policy copy when there is one, or the store's
    record the caller read (no read), else read here."""
    if lead.response_policy is not None:
        return lead.response_policy.store, lead.response_policy.timezone
    account = known if known is not None and known.account_id == lead.account_id else deps.accounts.get(lead.account_id)
    return (account.name, account.timezone) if account is not None else ("", "UTC")


def alert(deps: Deps, kind: NotificationKind, lead: Lead, people: Iterable[User], *, message: str | None = None,
          who: str | None = None, note: str | None = None, timing: Timing | None = None) -> list[Notification]:
    """Tell `people` about `lead`; without people nothing is read or sent."""
    people = [p for p in people if p is not None]
    if not people:
        return []
    return notify(deps, people, alert_of(deps, kind, lead, message=message, who=who, note=note, timing=timing))


def alert_of(deps: Deps, kind: NotificationKind, lead: Lead, *, message: str | None = None, who: str | None = None,
             note: str | None = None, timing: Timing | None = None, store: Account | None = None) -> Alert:
    """The alert about `lead` (its words and link), to be sent now or as writes of a transaction.
    `store`: the lead's store record if the caller has it."""
    name, timezone = _store(deps, lead, store)
    facts = Facts(store=name, timezone=timezone, message=message, who=who, note=note, timing=timing)
    settings = deps.settings
    return lead_alert(kind, lead, deps.clock.now(), settings.console_url or settings.console_origin, facts)


def user_named(deps: Deps, user_id: str | None) -> User | None:
    return deps.users.get(user_id) if user_id else None
