"""Threading of mail to complainants: the Message-ID of every mail we send about a case carries the
tracking number and a reply token, HMAC-SHA256 of the number and the recipient's address keyed by
SECRET_KEY. Mail programs copy that Message-ID into a reply's In-Reply-To and References, so mail
intake can tell a real answer to our mail from a mail that merely names a tracking number with the
complainant's From address, which anyone can forge.

The token is bound to the address the mail went to: a mail to a member of staff about the case (an
SLA notice) carries a token that proves nothing for the complainant's address. It still travels in
the complainant's reply, which is kept as evidence on the case, so whoever can read that evidence
could reuse it (docs/channels.md, Limits).

    <1763900000.4242.123456789.TS20261122-000001.3f9c0a1b2c3d4e5f6a7b@host>
"""

import hashlib
import hmac
import re

from django.conf import settings
from django.core.mail.message import make_msgid

TOKEN_LENGTH = 20  # hex digits: 80 bits
PROOF = re.compile(r"(TS\d{8}-\d{6,12})\.([0-9a-f]{20})@")  # TOKEN_LENGTH hex digits


def _address(value: str) -> str:
    from customers.normalise import normalise_email

    return normalise_email(value or "") or ""


def token(tracking_no: str, address: str, secret: str | None = None) -> str:
    key = f"complaintdesk.mail-reply:{settings.SECRET_KEY if secret is None else secret}"
    message = f"{tracking_no}\n{_address(address)}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:TOKEN_LENGTH]


def message_id(tracking_no: str, recipient: str) -> str:
    """A new Message-ID for a mail about this case to this address (unique per mail; the token is
    the same for every mail of the case to that address)."""
    return make_msgid(idstring=f"{tracking_no}.{token(tracking_no, recipient)}")


def answered(sender: str, *headers: str) -> list[str]:
    """The tracking numbers that these header values (a reply's In-Reply-To, References) prove a mail
    from `sender` answers: those whose token, for that address, is right under SECRET_KEY or one of
    SECRET_KEY_FALLBACKS."""
    if not _address(sender):
        return []
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    found: list[str] = []
    for value in headers:
        for number, given in PROOF.findall(value or ""):
            if number not in found and any(hmac.compare_digest(token(number, sender, s), given) for s in secrets):
                found.append(number)
    return found
