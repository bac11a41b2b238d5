"""Text from outside: the one place that decides which characters a field may hold. Pure.

Two kinds of field:

- **single-line** (names, sources, campaigns, subjects, store names, ids, labels... every text field
  unless it says otherwise): no control character at all (Unicode Cc: U+0000-U+001F, U+007F-U+009F)
  and no Unicode line or paragraph separator (U+2028, U+2029), since any of them can end a line
  somewhere downstream (a mail header, a CSV row, a log line, an SMS gateway);
- **free text** (a message, a note, a comment, an address: fields typed `FreeText`): line feeds and
  tabs are kept, every other control character is not.

What breaks the rule is refused on API input — `schemas.common.Strict` checks every text field of
every request body and answers 400 naming the field — and cleaned from provider input (ADF, SMS,
Messenger, email), which cannot be refused without losing a customer's words: models that carry a
provider's text derive from `ProviderText`, which cleans every text field before validation. A
single-line field's line breaks and tabs become one space (`"Ann\\r\\nMarie"` -> `"Ann Marie"`), any
other control character is dropped, and so are spaces at its ends; free text's CR LF and lone CR
become LF.
"""

from __future__ import annotations

import re
import typing
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel as _PydanticModel
from pydantic import field_validator

from chalicelib.model import BaseModel


class _FreeTextMark:
    """Marks a field as free text (in `Annotated[...]` metadata)."""

    def __repr__(self) -> str:
        return "FREE_TEXT"


FREE_TEXT = _FreeTextMark()
FreeText = Annotated[str, FREE_TEXT]

# Breaks a line somewhere: becomes a space in a provider's single-line field.
_LINE_BREAKING = "\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u2028\u2029"
_CONTROLS = "\x00-\x1f\x7f-\x9f"
_NOT_IN_LINE = re.compile(f"[{_CONTROLS}\u2028\u2029]")
_NOT_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BREAK_RUN = re.compile(f"[{_LINE_BREAKING}]+")


def _problem(value: str, pattern: re.Pattern[str], what: str) -> str | None:
    found = pattern.search(value)
    if found is None:
        return None
    return f"must not contain {what} (U+{ord(found.group()):04X} at character {found.start() + 1})"


def line_problem(value: str) -> str | None:
    """Why `value` cannot be a single-line field, or None."""
    return _problem(value, _NOT_IN_LINE, "control characters or line breaks")


def text_problem(value: str) -> str | None:
    """Why `value` cannot be free text (line feeds and tabs are fine), or None."""
    return _problem(value, _NOT_IN_TEXT, "control characters other than line feed and tab")


def clean_line(value: str) -> str:
    """A provider's single-line value made safe: line breaks and tabs become one space, other
    control characters go, and so do spaces at either end."""
    return _NOT_IN_LINE.sub("", _BREAK_RUN.sub(" ", value)).strip(" ")


def clean_text(value: str) -> str:
    """A provider's free text made safe: CR LF and lone CR become LF, other control characters
    (but tabs) go."""
    return _NOT_IN_TEXT.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def _marked(annotation: Any) -> bool:
    if FREE_TEXT in getattr(annotation, "__metadata__", ()):
        return True
    return any(_marked(inner) for inner in typing.get_args(annotation))


@cache
def is_free_text(model: type[_PydanticModel], field: str) -> bool:
    info = model.model_fields.get(field)
    return info is not None and (FREE_TEXT in info.metadata or _marked(info.annotation))


def each_text(value: Any, change: typing.Callable[[str], str]) -> Any:
    """`value` with `change` applied to every string in it (lists, tuples, dict keys and values)."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list | tuple):
        return type(value)(each_text(v, change) for v in value)
    if isinstance(value, dict):
        return {each_text(k, change): each_text(v, change) for k, v in value.items()}
    return value


def first_problem(value: Any, free: bool) -> str | None:
    """The first text in `value` (a string, or strings nested in lists and dicts) that its kind refuses."""
    problems: list[str] = []

    def check(text: str) -> str:
        problem = text_problem(text) if free else line_problem(text)
        if problem and not problems:
            problems.append(problem)
        return text

    each_text(value, check)
    return problems[0] if problems else None


class ProviderText(BaseModel):
    """A model that carries text a provider sent: every text field cleaned before validation."""

    @field_validator("*", mode="before")
    @classmethod
    def _clean_provider_text(cls, value: Any, info: Any) -> Any:
        return each_text(value, clean_text if is_free_text(cls, info.field_name) else clean_line)
