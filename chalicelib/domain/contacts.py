"""Phone numbers and email addresses, normalised the way every other part expects them."""

from __future__ import annotations

from functools import lru_cache


def normalize_phone(raw: str, default_region: str | None = "US") -> str:
    """Any human-typed number to E.164; ValueError when it is not a valid number."""
    import phonenumbers

    text = (raw or "").strip()
    if not text:
        raise ValueError("is empty")
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else (default_region or "US"))
    except phonenumbers.NumberParseException as exc:
        raise ValueError("is not a phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    """Syntax check (no DNS lookup) and lower case."""
    from email_validator import EmailNotValidError, validate_email

    try:
        result = validate_email((raw or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    return result.normalized.lower()


@lru_cache(maxsize=4096)
def phone_timezones(e164: str) -> tuple[str, ...]:
    """The IANA zones a number's area belongs to ('Etc/Unknown' dropped)."""
    import phonenumbers
    from phonenumbers import timezone as pn_timezone

    zones = pn_timezone.time_zones_for_number(phonenumbers.parse(e164, None))
    return tuple(z for z in zones if z != "Etc/Unknown")


_ZONE_REGIONS = {"America/Toronto": "CA", "America/Vancouver": "CA", "America/Edmonton": "CA",
                 "America/Winnipeg": "CA", "America/Halifax": "CA", "America/Mexico_City": "MX",
                 "Europe/London": "GB", "Australia/Sydney": "AU"}
# Every default region a store can have: a number valid in none of them is bad in any store.
STORE_REGIONS = ("US", *sorted(set(_ZONE_REGIONS.values())))


def region_for_timezone(tz_name: str) -> str:
    """A phone default region for a store's timezone; the US unless the zone says otherwise."""
    return _ZONE_REGIONS.get(tz_name, "US")


def check_phone_in_any_store_region(raw: str) -> str:
    """`raw` unchanged when some store region would take it (intake then normalises it with the
    store's own); ValueError with normalize_phone's reason when no store could."""
    if not raw.strip():
        return raw
    reason = None
    for region in STORE_REGIONS:
        try:
            normalize_phone(raw, region)
            return raw
        except ValueError as exc:
            reason = reason or str(exc)
    raise ValueError(reason or "is not a phone number")
