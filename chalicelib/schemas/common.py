"""Shapes shared by every route: the error body, list pages, reusable field types."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo, field_validator

from chalicelib.domain.contacts import check_phone_in_any_store_region, normalize_email, normalize_phone
from chalicelib.domain.text import FreeText, first_problem, is_free_text
from chalicelib.model import BaseModel


class Strict(BaseModel):
    """Request bodies: unknown fields are an error, so a typo never silently does nothing; every
    text field is single-line unless typed `FreeText` (domain/text.py: no control characters)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        problem = first_problem(value, free=is_free_text(cls, info.field_name or ""))
        if problem:
            raise ValueError(problem)
        return value


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    error: ErrorInfo


class Page(BaseModel):
    items: list[Any]
    next_cursor: str | None = None


def _email(value: str) -> str:
    return normalize_email(value)


def _e164(value: str) -> str:
    return normalize_phone(value, None if value.strip().startswith("+") else "US")


def _timezone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not value or ("/" not in value and value not in ("UTC",)):
        raise ValueError("is not an IANA timezone such as America/Chicago")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("is not an IANA timezone such as America/Chicago") from exc
    return value


EmailStr = Annotated[str, Field(max_length=254), AfterValidator(_email)]
PhoneE164 = Annotated[str, Field(max_length=32), AfterValidator(_e164)]
# A customer's number as typed: checked here (so a bad one is named with every other bad field),
# made E.164 by the service with the store's own region.
TypedPhone = Annotated[str, Field(max_length=40), AfterValidator(check_phone_in_any_store_region)]
TimezoneName = Annotated[str, Field(max_length=64), AfterValidator(_timezone)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
ShortText = Annotated[FreeText, Field(max_length=2000)]
Url = Annotated[str, Field(max_length=2000, pattern=r"^https?://\S+$")]
