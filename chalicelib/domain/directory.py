"""The port to whoever signs people in.

A token's `sub` is the user id (the contract), so the directory that issues tokens also
chooses the id: locally Leadline mints `usr_…` ids and signs its own HS256 tokens; deployed,
Cognito picks each user's `sub`, so inviting someone creates the Cognito user first and the
Leadline record takes its `sub`. Adapters: `LocalDirectory`, `CognitoDirectory`
(chalicelib/adapters/directory.py), chosen by `Settings.auth_mode`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Invitation:
    user_id: str
    # False when the directory already knew the address (a pool shared with other apps):
    # that person keeps their password, and a failed invite must not remove them.
    created: bool


class UserDirectory(Protocol):
    def invite(self, email: str, name: str, at: datetime) -> Invitation:
        """Make `email` able to sign in; the invitation names the id its tokens carry as `sub`."""
        ...

    def withdraw(self, invitation: Invitation) -> None:
        """Undo an `invite` whose Leadline record could not be written (compensation)."""
        ...

    def change_email(self, user_id: str, email: str) -> None:
        """The address the person signs in with (and receives mail at) is now `email`."""
        ...

    def remove(self, user_id: str) -> None:
        """The person can no longer sign in. Idempotent: removing a removed user is no error."""
        ...
