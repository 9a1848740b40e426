"""Addresses: their normal form and the keyed hash opt-outs are keyed by."""

import hashlib

from django.conf import settings
from django.utils.crypto import salted_hmac

from customers.normalise import normalise_email, normalise_phone

from .choices import Channel

# The HMAC salt of opt-out keys (django.utils.crypto.salted_hmac, with SECRET_KEY).
OPTOUT_SALT = "complaintdesk.notifications.optout"


def normalise(channel: str, address: str) -> str:
    address = (address or "").strip()
    if channel == Channel.EMAIL:
        return normalise_email(address) or address.lower()
    return normalise_phone(address) or "".join(ch for ch in address if ch.isdigit() or ch == "+")


def address_hash(channel: str, address: str, *, secret: str | None = None) -> str:
    """HMAC-SHA256 of the normalised address under SECRET_KEY (64 hex characters). Keyed: China's
    mobile numbers are few enough that an unkeyed hash of an erased person's number is reversed by
    trying them all. Rotating SECRET_KEY changes every key (see candidate_hashes and
    docs/notifications.md)."""
    return salted_hmac(
        OPTOUT_SALT,
        f"{channel}:{normalise(channel, address)}",
        secret=secret or settings.SECRET_KEY,
        algorithm="sha256",
    ).hexdigest()


def legacy_hash(channel: str, address: str) -> str:
    """The unkeyed hash of the first release; only to recognise unsubscribe links mailed before the
    change, never stored again."""
    return hashlib.sha256(f"complaintdesk-optout:{channel}:{normalise(channel, address)}".encode()).hexdigest()


def candidate_hashes(channel: str, address: str) -> list[str]:
    """The address's key under SECRET_KEY first, then under each key of SECRET_KEY_FALLBACKS: an
    opt-out recorded before a rotation still matches while the old key is kept as a fallback."""
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return list(dict.fromkeys(address_hash(channel, address, secret=key) for key in keys))


def mask(channel: str, address: str) -> str:
    """For analysts (complaints.selectors.mask)."""
    from complaints.selectors import mask as mask_field

    return mask_field("complainant_email" if channel == Channel.EMAIL else "complainant_phone", address)
