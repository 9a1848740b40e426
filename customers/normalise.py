"""Normalisation of contact details, so that one person is one customer however they write them."""

import re
import unicodedata
from datetime import date

import phonenumbers

EMAIL_RE = re.compile(
    r"^[^@\s<>\"']{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$"
)
_CUSTOMER_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _narrow(raw: str) -> str:
    """Full-width forms (１３８, ＠, （０１０）, －) as their ASCII equivalents: Chinese input
    methods type them, and a form or a spreadsheet keeps them."""
    return unicodedata.normalize("NFKC", raw).replace("\u3000", " ").strip()


def normalise_phone(raw: str, default_region: str = "CN") -> str | None:
    """The E.164 form of a phone number, or None when it is not a possible number."""
    text = _narrow(raw)
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
    text = _narrow(raw)
    if not text or len(text) > 254 or not EMAIL_RE.match(text):
        return None
    return text.lower()


def normalise_customer_no(raw: str) -> str | None:
    """A customer number as the match key: ASCII, upper-cased, without surrounding spaces; None when
    it holds anything but letters, digits and . _ / -."""
    text = _narrow(raw)
    if not text or not _CUSTOMER_NO.match(text):
        return None
    return text.upper()


def normalise_id_number(raw: str) -> str | None:
    """An 18-character PRC resident identity number with a valid date of birth and check character
    (GB 11643), upper-case X; None otherwise. The 15-digit numbers of before 1999 are not accepted."""
    text = _narrow(raw).upper().replace(" ", "")
    if len(text) != 18 or not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        return None
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return None
    if born.year < 1900 or born > date.today():
        return None
    total = sum(int(digit) * weight for digit, weight in zip(text[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != text[17]:
        return None
    return text
