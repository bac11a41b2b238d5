"""The dependencies of every use case, with production defaults, built lazily.

Services take a `Deps`; handlers call `get_deps()`. Tests swap the clock (or any
port) with `set_deps(Deps(clock=FixedClock(...)))` or by assigning an attribute."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.clock import Clock, SystemClock
from chalicelib.config import Settings, get_settings

if TYPE_CHECKING:
    from chalicelib.adapters.blobs import ReportStore
    from chalicelib.adapters.dynamodb.table import Table
    from chalicelib.adapters.dynamodb.tenancy import AccountRepository, GroupRepository, UserRepository
    from chalicelib.adapters.mail import SesMailer
    from chalicelib.adapters.queues import QueuePublisher
    from chalicelib.domain.directory import UserDirectory
    from chalicelib.domain.messaging import MessageSender


class Deps:
    def __init__(self, clock: Clock | None = None, settings: Settings | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self._settings = settings

    @property
    def settings(self) -> Settings:
        return self._settings or get_settings()

    @cached_property
    def table(self) -> Table:
        from chalicelib.adapters.dynamodb.table import Table

        return Table(self.settings.table_name)

    @cached_property
    def groups(self) -> GroupRepository:
        from chalicelib.adapters.dynamodb.tenancy import GroupRepository

        return GroupRepository(self.table)

    @cached_property
    def accounts(self) -> AccountRepository:
        from chalicelib.adapters.dynamodb.tenancy import AccountRepository

        return AccountRepository(self.table)

    @cached_property
    def users(self) -> UserRepository:
        from chalicelib.adapters.dynamodb.tenancy import UserRepository

        return UserRepository(self.table)

    @cached_property
    def directory(self) -> UserDirectory:
        from chalicelib.adapters.directory import CognitoDirectory, LocalDirectory

        if self.settings.auth_mode == "cognito":
            return CognitoDirectory(self.settings.cognito_user_pool_id)
        return LocalDirectory()

    @cached_property
    def queues(self) -> QueuePublisher:
        from chalicelib.adapters.queues import QueuePublisher

        return QueuePublisher()

    @cached_property
    def mailer(self) -> SesMailer:
        from chalicelib.adapters.mail import SesMailer

        return SesMailer()

    @cached_property
    def sender(self) -> MessageSender:
        from chalicelib.adapters.senders import build_sender

        return build_sender(self.settings)

    @cached_property
    def reports_store(self) -> ReportStore:
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
