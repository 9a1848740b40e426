"""Periodic work (core.scheduler): the retries that are due, with backoff.

The job sends nothing itself: a mail server or receiver that hangs would hold up the scheduler's
other jobs (sla_tick, ledger_checkpoint). It reserves each due row for a task and enqueues the task
(ids only); the worker sends."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from .choices import DeliveryStatus

BATCH = 200
# How long a row stays reserved for its task: a lost task is replaced by the next run after this.
RESERVATION = timedelta(minutes=10)


def _reserve_and_enqueue(model: Any, task: Any, now: Any) -> int:
    """Move each due row's next_attempt_at to a reservation (compare-and-set, so that two schedulers
    never both take a row) and enqueue its task with that reservation: the task's claim must find it
    unchanged, so a duplicate or late task sends nothing."""
    reserved_until = now + RESERVATION
    enqueued = 0
    due = model.objects.filter(status=DeliveryStatus.QUEUED, next_attempt_at__lte=now)
    for pk in due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:BATCH]:
        # Each reservation its own microsecond: the ticket tells this reservation from a later one.
        ticket = reserved_until + timedelta(microseconds=enqueued)
        if model.objects.filter(pk=pk, status=DeliveryStatus.QUEUED, next_attempt_at__lte=now).update(
            next_attempt_at=ticket
        ):
            # Not enqueue_after_commit: the job runs outside a transaction, the reservation is saved.
            task.enqueue(pk, ticket.isoformat())
            enqueued += 1
    return enqueued


def retry_due() -> dict[str, int]:
    """Enqueue every queued message and webhook whose next attempt is due (retries, and first
    attempts whose task was lost). Returns how many of each were enqueued."""
    from .models import Delivery, WebhookDelivery
    from .tasks import send_delivery, send_webhook

    now = timezone.now()
    return {
        "messages": _reserve_and_enqueue(Delivery, send_delivery, now),
        "webhooks": _reserve_and_enqueue(WebhookDelivery, send_webhook, now),
    }


JOBS = [("notifications_retry", retry_due)]
