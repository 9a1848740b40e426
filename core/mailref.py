"""Threading of mail to complainants: the Message-ID of every mail we send about a case carries the
tracking number and a reply token, HMAC-SHA256 of the number keyed by SECRET_KEY. Mail programs copy
that Message-ID into a reply's In-Reply-To and References, so mail intake can tell a real answer to
our mail from a mail that merely names a tracking number with the complainant's From address, which
anyone can forge. Only the complainant's mailbox ever sees the token.

    <1763900000.4242.123456789.TS20261122-000001.3f9c0a1b2c3d4e5f6a7b@host>
"""

import hashlib
import hmac
import re

from django.conf import settings
from django.core.mail.message import make_msgid

TOKEN_LENGTH = 20  # hex digits: 80 bits
PROOF = re.compile(r"(TS\d{8}-\d{6,12})\.([0-9a-f]{20})@")  # TOKEN_LENGTH hex digits


def token(tracking_no: str, secret: str | None = None) -> str:
    key = f"complaintdesk.mail-reply:{settings.SECRET_KEY if secret is None else secret}"
    return hmac.new(key.encode(), tracking_no.encode(), hashlib.sha256).hexdigest()[:TOKEN_LENGTH]


def message_id(tracking_no: str) -> str:
    """A new Message-ID for a mail about this case (unique per mail, the token the same per case)."""
    return make_msgid(idstring=f"{tracking_no}.{token(tracking_no)}")


def answered(*headers: str) -> list[str]:
    """The tracking numbers that these header values (a reply's In-Reply-To, References) prove it
    answers: those whose token is right under SECRET_KEY or one of SECRET_KEY_FALLBACKS."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    found: list[str] = []
    for value in headers:
        for number, given in PROOF.findall(value or ""):
            if number not in found and any(hmac.compare_digest(token(number, s), given) for s in secrets):
                found.append(number)
    return found
