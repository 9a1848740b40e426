"""What other apps call: notify_consumer, may_contact, notify_staff, opt-outs.

notify_consumer runs inside the caller's transaction: it writes one Delivery per address (skipped ones
with their reason, so staff see why nothing went out) and enqueues the sending after commit. The
message itself is rendered and sent by a task; a failure is retried by notifications.jobs and never
touches the case. The `context` passed is stored with the delivery: never put a secret in it (a
token is added at render time through notifications.registry instead)."""

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.choices import PreferredContact

from .addresses import address_hash, candidate_hashes
from .choices import STAFF_EVENTS, Channel, DeliveryStatus, Purpose, purpose_of
from .models import Delivery, MessageTemplate, OptOut


def language_of(complaint: Any) -> str:
    return "en" if (complaint.language or "").lower().startswith("en") else "zh-hans"


def consumer_addresses(complaint: Any) -> list[tuple[str, str]]:
    """The channels and addresses a consumer is written to: e-mail whenever they gave one; SMS when
    they prefer SMS, or prefer the phone and gave no e-mail."""
    found: list[tuple[str, str]] = []
    if complaint.complainant_email:
        found.append((Channel.EMAIL, complaint.complainant_email))
    prefers = complaint.preferred_contact
    if complaint.complainant_phone and (
        prefers == PreferredContact.SMS or (prefers == PreferredContact.PHONE and not complaint.complainant_email)
    ):
        found.append((Channel.SMS, complaint.complainant_phone))
    return found


def is_opted_out(channel: str, address: str, purpose: str) -> bool:
    return OptOut.objects.filter(
        channel=channel, address_hash__in=candidate_hashes(channel, address), purpose__in=[purpose, Purpose.ALL]
    ).exists()


def why_not(complaint: Any, channel: str, address: str, purpose: str) -> str:
    """Why this message must not go out ('' when it may)."""
    if complaint.is_demo:
        return _("演示数据，不发送。")
    if complaint.preferred_contact == PreferredContact.NONE:
        return _("投诉人选择不需联系。")
    if is_opted_out(channel, address, purpose):
        return _("收件人已退订此类消息。")
    return ""


def may_contact(complaint: Any, purpose: str) -> bool:
    """Whether the consumer may get messages of this purpose ("updates" or "survey") on any channel."""
    return any(not why_not(complaint, channel, address, purpose) for channel, address in consumer_addresses(complaint))


def _channels_with_templates(event: str) -> set[str]:
    return set(MessageTemplate.objects.filter(event=event, active=True).values_list("channel", flat=True))


def notify_consumer(complaint: Any, event: str, *, context: dict | None = None) -> list[Delivery]:
    """Create the deliveries of one event for the consumer and send them after commit. A channel
    without an active template for the event sends nothing (e.g. the offer mail of resolutions.mail
    stands for the e-mail of remedy_proposed)."""
    if event in STAFF_EVENTS:
        raise ValueError(f"{event} is a staff event")
    purpose = purpose_of(event)
    channels = _channels_with_templates(event)
    now = timezone.now()
    made: list[Delivery] = []
    for channel, address in consumer_addresses(complaint):
        if channel not in channels:
            continue
        reason = why_not(complaint, channel, address, purpose)
        made.append(
            Delivery.objects.create(
                complaint=complaint,
                event=event,
                channel=channel,
                purpose=purpose,
                language=language_of(complaint),
                recipient=address,
                context=dict(context or {}),
                status=DeliveryStatus.SKIPPED if reason else DeliveryStatus.QUEUED,
                last_error=reason,
                next_attempt_at=None if reason else now,
            )
        )
    _send_after_commit([d.pk for d in made if d.status == DeliveryStatus.QUEUED])
    return made


def notify_staff(complaint: Any, event: str, users: Iterable[Any]) -> list[Delivery]:
    """E-mail to staff users (SLA warning and breach), in each user's language. The in-app notice is
    written by complaints.actions itself."""
    if complaint.is_demo or Channel.EMAIL not in _channels_with_templates(event):
        return []  # demo cases mail nobody
    now = timezone.now()
    made = [
        Delivery.objects.create(
            complaint=complaint,
            event=event,
            channel=Channel.EMAIL,
            purpose=Purpose.UPDATES,
            language="en" if (user.language or "").startswith("en") else "zh-hans",
            recipient=user.email,
            recipient_user=user,
            next_attempt_at=now,
        )
        for user in users
        if user.is_active and user.email
    ]
    _send_after_commit([d.pk for d in made])
    return made


def _send_after_commit(ids: list[int]) -> None:
    from complaints.actions import enqueue_after_commit

    from .tasks import send_delivery

    for pk in ids:
        enqueue_after_commit(send_delivery, pk)


def opt_out(channel: str, address: str, purpose: str, *, source: str = "link", address_hash_: str = "") -> OptOut:
    """Record an opt-out (idempotent). `address` may be blank when only the hash is known."""
    digest = address_hash_ or address_hash(channel, address)
    existing = OptOut.objects.filter(channel=channel, address_hash=digest, purpose=purpose).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return OptOut.objects.create(
                channel=channel, address_hash=digest, address=address, purpose=purpose, source=source
            )
    except IntegrityError:  # the same link clicked twice at once
        return OptOut.objects.get(channel=channel, address_hash=digest, purpose=purpose)
