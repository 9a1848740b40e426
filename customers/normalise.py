"""Normalisation of contact details, so that one person is one customer however they write them."""

import re

import phonenumbers

EMAIL_RE = re.compile(
    r"^[^@\s<>\"']{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$"
)


def normalise_phone(raw: str, default_region: str = "CN") -> str | None:
    """The E.164 form of a phone number, or None when it is not a possible number."""
    text = raw.strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str | None:
    text = raw.strip()
    if not text or len(text) > 254 or not EMAIL_RE.match(text):
        return None
    return text.lower()
