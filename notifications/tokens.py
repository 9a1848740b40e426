"""The signed unsubscribe token of a consumer e-mail. Nothing is stored: the token carries the
delivery id, the channel, the purpose and the hash of the address (never the address itself), signed
with SECRET_KEY under its own salt. A changed character makes it worthless."""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .choices import Channel, Purpose

SALT = "complaintdesk.notifications.unsubscribe"


@dataclass(frozen=True)
class Unsubscribe:
    delivery_id: int
    channel: str
    purpose: str
    address_hash: str


def make_token(delivery_id: int, channel: str, purpose: str, digest: str) -> str:
    return signing.dumps({"d": delivery_id, "c": channel, "p": purpose, "h": digest}, salt=SALT, compress=True)


def read_token(token: str) -> Unsubscribe | None:
    """The token's content, or None when it is forged, tampered with or malformed."""
    if not token or len(token) > 500:
        return None
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    try:
        unsubscribe = Unsubscribe(int(data["d"]), str(data["c"]), str(data["p"]), str(data["h"]))
    except (KeyError, TypeError, ValueError):
        return None
    if unsubscribe.channel not in Channel.values or unsubscribe.purpose not in Purpose.values:
        return None
    if len(unsubscribe.address_hash) != 64:
        return None
    return unsubscribe


def unsubscribe_url(delivery: object) -> str:
    from .addresses import address_hash

    token = make_token(
        delivery.pk,  # type: ignore[attr-defined]
        delivery.channel,  # type: ignore[attr-defined]
        delivery.purpose,  # type: ignore[attr-defined]
        address_hash(delivery.channel, delivery.recipient),  # type: ignore[attr-defined]
    )
    return settings.COMPLAINTDESK_PUBLIC_URL + reverse("notifications_public:unsubscribe", args=[token])
