"""A lead's language, derived from its customer's first words by the table's stream consumer.

A customer's message stored on a lead that has no language yet carries a marker (its item's
`language_wanted`, domain/inbound.for_language), written in the message's own transaction; the
stream's filter hands such items to the consumer (handlers/rollups.py), which detects the language of
the text (lingua, adapters/language.py: a layer on that function alone) and sets it with one
conditional write that never replaces a language the lead has.

Idempotent and order-free: a record delivered again, late, or after a later message's record finds
the language set ("kept"); a lead deleted meanwhile is "gone". Neither is a failure. A write that
fails otherwise (throttled, a network error) returns the record's sequence number to be retried."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.adapters.dynamodb.leads import LANGUAGE_WANTED
from chalicelib.adapters.dynamodb.table import deserialize
from chalicelib.deps import Deps
from chalicelib.domain.inbound import LanguageSet
from chalicelib.observability import logger

# The text detected: a message's first characters say its language (a long email's quoted thread only
# slows the detector down); the inbound queue's job read as much.
DETECTED_CHARS = 1000


def marked(record: Mapping[str, Any]) -> bool:
    """A stream record of a stored message whose text is to tell its lead's language (inserted only:
    a later change of the message, its pictures copied, is not new words)."""
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    return record.get("eventName") == "INSERT" and (image.get(LANGUAGE_WANTED) or {}).get("BOOL") is True


def set_from_message(deps: Deps, message: Mapping[str, Any]) -> LanguageSet | None:
    """The lead's language from a marked message item (plain values); None when its text is too short
    or unclear to tell."""
    from chalicelib.adapters.language import detect_language

    language = detect_language(str((message.get("data") or {}).get("body") or "")[:DETECTED_CHARS])
    if language is None:
        return None
    return deps.leads.set_language(str(message["lead_id"]), language)


def apply_stream_records(deps: Deps, records: list[dict[str, Any]]) -> list[str]:
    """The marked messages of a stream batch (Lambda's record shape); returns the sequence numbers of
    the records whose write failed, to be retried. A lead is set once per batch (its first message
    that tells a language)."""
    failed: list[str] = []
    done: set[str] = set()
    for record in filter(marked, records):
        message = deserialize(record["dynamodb"]["NewImage"])
        if message.get("lead_id") in done:
            continue
        try:
            outcome = set_from_message(deps, message)
        except Exception:
            logger.exception("lead language not saved", extra={"lead_id": message.get("lead_id")})
            failed.append(str(record["dynamodb"]["SequenceNumber"]))
            continue
        if outcome is not None:
            done.add(str(message["lead_id"]))
            logger.info("lead language", extra={"lead_id": message["lead_id"], "outcome": outcome})
    return failed
