"""The one error hierarchy. Handlers map these to HTTP in one place (handlers/http.py);
adapters turn provider failures (a failed condition, a cancelled transaction) into them.
Never match on message text: match on the class or on `code`."""

from __future__ import annotations

from typing import Any


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
