"""The one error hierarchy. Handlers map these to HTTP in one place (handlers/http.py);
adapters turn provider failures (a failed condition, a cancelled transaction) into them.
Never match on message text: match on the class or on `code`."""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: list[dict[str, Any]] | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or []
        self.extra = extra or {}


class ValidationFailed(DomainError):
    """Bad input; `details` names every bad field: [{"field": "phone", "message": "..."}]."""

    status = 400
    code = "validation_failed"

    @classmethod
    def field(cls, field: str, message: str) -> ValidationFailed:
        return cls(f"{field}: {message}", details=[{"field": field, "message": message}])


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    """Absent, or in a tenant the caller cannot see: the two are never told apart."""

    status = 404
    code = "not_found"

    @classmethod
    def unless(cls, found: T | None, what: str) -> T:
        """`found`, or a 404 "`what` not found"."""
        if found is None:
            raise cls(f"{what} not found")
        return found


class Conflict(DomainError):
    """A lost race, a decided offer, a lock held, an opted-out lead."""

    status = 409
    code = "conflict"

    @classmethod
    def taken(cls, field: str) -> Conflict:
        """A unique value (an email, a store's number) another record already holds."""
        return cls(f"{field} is already in use", code="already_exists",
                   details=[{"field": field, "message": "is already in use"}])


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


# -- named conflicts: what a lost conditional write means ---------------------------------------
# Adapters raise these (never a provider's cancellation reasons); use cases react to the meaning:
# decide again, answer 409, or leave things as they are. Each keeps the generic `conflict` code and
# message, so one that reaches a caller reads as before.

class LostRace(Conflict):
    """A conditional write found its record changed since it was read."""

    def __init__(self, message: str = "the change lost a race with another one", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class LeadChanged(LostRace):
    """The lead's version moved on since it was read: read it again and decide again."""


class VersionConflict(LostRace):
    """Another record the change was decided on moved on: a store's rotation, a lead's waiting marker."""


class AlreadyDecided(LostRace):
    """The record left the state the change expected: an offer closed, an appointment decided, a
    message sent, cancelled or dropped meanwhile."""


class ClaimHeld(LostRace):
    """Another consumer holds a live claim on the outbound message, or it is no longer queued."""


class LeadOptedOut(LostRace):
    """The lead opted out (or is gone) at the moment the message was to be claimed."""


class DuplicateDelivery(LostRace):
    """A provider's message id, or a provider's delivery of a lead, is already recorded."""


class ContactTaken(LostRace):
    """A store's contact key (phone, email, Messenger id) now points at another lead."""


class CallerChanged(LostRace):
    """The caller's user record changed (or was deleted) since the request read it: read it again and
    authorise again before deciding."""
