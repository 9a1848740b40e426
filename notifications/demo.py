"""Demo data for this app: a few messages sent on demo cases, one that failed after its retries
(shown on the case page), and an inactive webhook subscription. Rows are written directly: demo
cases are never mailed (is_demo), and the demo runs with the hooks off.

    from notifications import demo
    demo.seed(complaints, random.Random(seed))   # called by the demo loader with its cases"""

import random
from datetime import timedelta
from typing import Any

from complaints.choices import Status

from .choices import Channel, DeliveryStatus, Event
from .models import Delivery, WebhookSubscription
from .service import language_of
from .webhooks import encrypt_secret, new_secret

_BY_STATUS = {
    Status.ACCEPTED: Event.ACKNOWLEDGED,
    Status.IN_PROGRESS: Event.ASSIGNED,
    Status.AWAITING_CONSUMER: Event.AWAITING_INFORMATION,
    Status.RESOLVED: Event.RESOLVED,
    Status.CLOSED: Event.RESOLVED,
}


def seed(complaints: list[Any], rng: random.Random) -> None:
    if Delivery.objects.filter(complaint__is_demo=True).exists():
        return  # seeded already
    candidates = [
        c for c in complaints if c.complainant_email and c.status in _BY_STATUS and c.preferred_contact != "none"
    ]
    rng.shuffle(candidates)
    for complaint in candidates[:8]:
        at = (complaint.accepted_at or complaint.received_at) + timedelta(minutes=rng.randint(1, 20))
        Delivery.objects.create(
            complaint=complaint,
            event=_BY_STATUS[complaint.status],
            channel=Channel.EMAIL,
            language=language_of(complaint),
            recipient=complaint.complainant_email,
            status=DeliveryStatus.SENT,
            attempts=1,
            created_at=at,
            sent_at=at + timedelta(seconds=rng.randint(1, 30)),
        )
    if len(candidates) > 8:
        complaint = candidates[8]
        at = (complaint.accepted_at or complaint.received_at) + timedelta(minutes=5)
        Delivery.objects.create(
            complaint=complaint,
            event=_BY_STATUS[complaint.status],
            channel=Channel.EMAIL,
            language=language_of(complaint),
            recipient=complaint.complainant_email,
            status=DeliveryStatus.FAILED,
            attempts=5,
            created_at=at,
            last_error=f"SMTPRecipientsRefused: {complaint.complainant_email}: (550, b'5.1.1 Mailbox unavailable')",
        )
    WebhookSubscription.objects.get_or_create(
        name="ERP（演示）",
        defaults={
            "url": "https://erp.example.com/complaintdesk/events",
            "secret_encrypted": encrypt_secret(new_secret()),
            "events": ["accept", "resolve", "close", "sla_breach"],
            "active": False,
        },
    )
