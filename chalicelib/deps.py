"""The dependencies of every use case: one member per port (chalicelib/ports.py), each with a
production default built lazily on first use (a cold start builds only what its request uses).

Services take a `Deps`; handlers call `get_deps()`. Tests swap any member: `Deps(clock=FixedClock())`,
`Deps(leads=FakeLeadStore(...))`, or assignment (`deps.sender = ...`); tests/fakes.py builds a
Deps made of in-memory fakes alone."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.clock import Clock, SystemClock
from chalicelib.config import Settings, get_settings

if TYPE_CHECKING:
    from chalicelib.adapters.dynamodb.table import Table
    from chalicelib.domain.calls import Dialer
    from chalicelib.domain.directory import UserDirectory
    from chalicelib.domain.mail import Mailer
    from chalicelib.domain.messaging import MessageSender
    from chalicelib.ports import (
        AccountStore,
        AppointmentStore,
        AttachmentStore,
        BlobStore,
        CadenceStore,
        CallStore,
        DeliveryStore,
        GroupStore,
        LeadStore,
        MailboxStore,
        MediaFetcher,
        MediaStore,
        NotificationStore,
        OutboxStore,
        Queues,
        ReportRecords,
        RollupStore,
        RoutingStore,
        SavedReplyStore,
        Transactions,
        UserStore,
    )


class Deps:
    def __init__(self, clock: Clock | None = None, settings: Settings | None = None, **ports: Any) -> None:
        """`ports`: members to use instead of the production defaults, by name (leads=..., sender=...)."""
        self.clock: Clock = clock or SystemClock()
        self._settings = settings
        for name, port in ports.items():
            if not isinstance(getattr(type(self), name, None), cached_property):
                raise TypeError(f"Deps has no port named {name}")
            setattr(self, name, port)

    @property
    def settings(self) -> Settings:
        return self._settings or get_settings()

    # -- DynamoDB: the table (adapters only) and the repositories over it --------------------

    @cached_property
    def table(self) -> Table:
        from chalicelib.adapters.dynamodb.table import Table

        return Table(self.settings.table_name)

    @cached_property
    def transactions(self) -> Transactions:
        return self.table

    @cached_property
    def groups(self) -> GroupStore:
        from chalicelib.adapters.dynamodb.tenancy import GroupRepository

        return GroupRepository(self.table)

    @cached_property
    def accounts(self) -> AccountStore:
        from chalicelib.adapters.dynamodb.tenancy import AccountRepository

        return AccountRepository(self.table)

    @cached_property
    def users(self) -> UserStore:
        from chalicelib.adapters.dynamodb.people import UserRepository

        return UserRepository(self.table)

    @cached_property
    def leads(self) -> LeadStore:
        from chalicelib.adapters.dynamodb.leads import LeadRepository

        return LeadRepository(self.table)

    @cached_property
    def routing(self) -> RoutingStore:
        from chalicelib.adapters.dynamodb.routing import RoutingRepository

        return RoutingRepository(self.table)

    @cached_property
    def outbox(self) -> OutboxStore:
        from chalicelib.adapters.dynamodb.outbox import OutboxRepository

        return OutboxRepository(self.table)

    @cached_property
    def deliveries(self) -> DeliveryStore:
        from chalicelib.adapters.dynamodb.deliveries import DeliveryRepository

        return DeliveryRepository(self.table)

    @cached_property
    def appointments(self) -> AppointmentStore:
        from chalicelib.adapters.dynamodb.appointments import AppointmentRepository

        return AppointmentRepository(self.table)

    @cached_property
    def cadences(self) -> CadenceStore:
        from chalicelib.adapters.dynamodb.cadences import CadenceRepository

        return CadenceRepository(self.table)

    @cached_property
    def saved_replies(self) -> SavedReplyStore:
        from chalicelib.adapters.dynamodb.saved_replies import SavedReplyRepository

        return SavedReplyRepository(self.table)

    @cached_property
    def notifications(self) -> NotificationStore:
        from chalicelib.adapters.dynamodb.notifications import NotificationRepository

        return NotificationRepository(self.table)

    @cached_property
    def report_records(self) -> ReportRecords:
        from chalicelib.adapters.dynamodb.reports import ReportRepository

        return ReportRepository(self.table)

    @cached_property
    def rollups(self) -> RollupStore:
        from chalicelib.adapters.dynamodb.rollups import RollupRepository

        return RollupRepository(self.table)

    @cached_property
    def calls(self) -> CallStore:
        from chalicelib.adapters.dynamodb.calls import CallRepository

        return CallRepository(self.table)

    @cached_property
    def attachments(self) -> AttachmentStore:
        from chalicelib.adapters.dynamodb.attachments import AttachmentRepository

        return AttachmentRepository(self.table)

    @cached_property
    def mailboxes(self) -> MailboxStore:
        from chalicelib.adapters.dynamodb.mailboxes import MailboxRepository

        return MailboxRepository(self.table)

    # -- the rest of the world ----------------------------------------------------------------

    @cached_property
    def directory(self) -> UserDirectory:
        from chalicelib.adapters.directory import CognitoDirectory, LocalDirectory

        if self.settings.auth_mode == "cognito":
            return CognitoDirectory(self.settings.cognito_user_pool_id)
        return LocalDirectory()

    @cached_property
    def queues(self) -> Queues:
        from chalicelib.adapters.queues import QueuePublisher

        return QueuePublisher()

    @cached_property
    def mailer(self) -> Mailer:
        from chalicelib.adapters.mail import SesMailer

        return SesMailer()

    @cached_property
    def sender(self) -> MessageSender:
        from chalicelib.adapters.senders import build_sender

        return build_sender(self.settings)

    @cached_property
    def dialer(self) -> Dialer:
        from chalicelib.adapters.dialer import build_dialer

        return build_dialer(self.settings)

    @cached_property
    def media(self) -> MediaStore:
        from chalicelib.adapters.media import S3MediaStore

        return S3MediaStore(self.settings.media_bucket)

    @cached_property
    def media_fetcher(self) -> MediaFetcher:
        import base64

        from chalicelib.adapters.media_fetch import HttpMediaFetcher

        settings = self.settings
        auth = None
        if settings.twilio_account_sid and settings.twilio_auth_token:
            pair = f"{settings.twilio_account_sid}:{settings.twilio_auth_token}".encode()
            auth = "Basic " + base64.b64encode(pair).decode()
        return HttpMediaFetcher(settings.media_fetch_hosts, basic_auth=auth)

    @cached_property
    def reports_store(self) -> BlobStore:
        from chalicelib.adapters.blobs import ReportStore

        return ReportStore(self.settings.reports_bucket)


_deps: Deps | None = None


def get_deps() -> Deps:
    global _deps
    if _deps is None:
        _deps = Deps()
    return _deps


def set_deps(deps: Deps | None) -> None:
    global _deps
    _deps = deps
