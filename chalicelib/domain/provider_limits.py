"""How long each field a provider sends may be, checked before it reaches a key or an item. Pure.

A provider's ids, numbers and statuses become DynamoDB keys and attributes (a key part is at most
1 KB; an item 400 KB) and queue messages (256 KB): a longer one cannot be real and would fail the
write with a 500. Message text is refused over `MESSAGE_MAX_CHARS` — far above what any channel
carries (an SMS is at most 1,600 characters, a Messenger text 2,000) — never stored cut short:
a message that long cannot have come from the provider, and the request is answered at once
(413), so the provider does not retry it.

Fields not named here are never stored: they only take part in the signature."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from chalicelib.domain.errors import TooLarge, ValidationFailed

# Twice the longest an SMS, Messenger text or agent's message can be; ~20 KB of UTF-8 at most.
MESSAGE_MAX_CHARS = 5000
ID_MAX_CHARS = 64  # Twilio SIDs are 34 characters, phone numbers 16, Messenger ids ~20
URL_MAX_CHARS = 2048

# Twilio's fields that Leadline reads (SMS, MMS and delivery status webhooks).
TWILIO_FIELDS: dict[str, int] = {
    "MessageSid": ID_MAX_CHARS, "SmsSid": ID_MAX_CHARS, "SmsMessageSid": ID_MAX_CHARS,
    "AccountSid": ID_MAX_CHARS, "MessagingServiceSid": ID_MAX_CHARS,
    "From": ID_MAX_CHARS, "To": ID_MAX_CHARS, "NumMedia": 2, "MessageStatus": 32, "SmsStatus": 32,
    "ErrorCode": 16, "Body": MESSAGE_MAX_CHARS,
}
# MediaUrl0, MediaContentType0 ... (an MMS carries at most 10 pictures).
TWILIO_NUMBERED_FIELDS: dict[str, int] = {"MediaUrl": URL_MAX_CHARS, "MediaContentType": 128}
_NUMBERED = re.compile(r"^(MediaUrl|MediaContentType)\d{1,2}$")

# What a Messenger event may carry into an item (webhooks.py reads these).
MESSENGER_FIELDS: dict[str, int] = {
    "page_id": ID_MAX_CHARS, "sender": ID_MAX_CHARS, "mid": 512, "text": MESSAGE_MAX_CHARS,
    "attachment_url": URL_MAX_CHARS, "attachment_type": 32,
}
TEXT_FIELDS = frozenset({"Body", "text"})


def _limit(name: str, limits: Mapping[str, int]) -> int | None:
    if name in limits:
        return limits[name]
    numbered = _NUMBERED.match(name)
    return TWILIO_NUMBERED_FIELDS[numbered.group(1)] if numbered else None


def check_lengths(fields: Iterable[tuple[str, str]], limits: Mapping[str, int]) -> None:
    """413 naming the field when message text is over its limit; 400 naming every other field
    that is (an id, a number, a URL that long is not one)."""
    too_long: dict[str, int] = {}
    for name, value in fields:
        limit = _limit(name, limits)
        if limit is not None and len(value) > limit:
            too_long[name] = limit
    if not too_long:
        return
    details = [{"field": name, "message": f"is longer than {limit} characters"} for name, limit in too_long.items()]
    if TEXT_FIELDS & too_long.keys():
        raise TooLarge("the message is longer than Leadline keeps", details=details)
    raise ValidationFailed("fields too long: " + ", ".join(too_long), details=details)


def check_twilio_form(form: Mapping[str, list[str]]) -> None:
    """Every value of every field Leadline reads from a Twilio webhook (repeated fields too)."""
    check_lengths(((name, value) for name, values in form.items() for value in values), TWILIO_FIELDS)
