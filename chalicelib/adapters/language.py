"""Offline language detection (lingua), limited to the languages a US dealer's customers write in,
so the detector stays small and fast. Built on first use: loading its models takes about a
second, which is why it runs on the table's stream consumer (services/language.py), never in the
webhook."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib.domain.inbound import LANGUAGE_MIN_LETTERS as MIN_LETTERS

LANGUAGES = ("ENGLISH", "SPANISH", "FRENCH", "PORTUGUESE", "CHINESE", "VIETNAMESE")


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    languages = [getattr(Language, name) for name in LANGUAGES]
    return LanguageDetectorBuilder.from_languages(*languages).with_minimum_relative_distance(0.2).build()


def detect_language(text: str | None) -> str | None:
    """ISO 639-1 code (en, es, fr, pt, zh, vi), or None when the text is short or unclear."""
    if not text or sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return None
    found = _detector().detect_language_of(text)
    return found.iso_code_639_1.name.lower() if found is not None else None
