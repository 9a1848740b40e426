"""Sending, after commit. Arguments are ids only (and, from the retry job, the time the row was
reserved until): no address, no text, no token."""

from django_tasks import task


def _ticket(reserved: str):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.fromisoformat(reserved) if reserved else None


@task()
def send_delivery(delivery_id: int, reserved: str = "") -> str:
    from .sending import attempt

    return attempt(delivery_id, reserved=_ticket(reserved))


@task()
def send_webhook(delivery_id: int, reserved: str = "") -> str:
    from .sending import attempt_webhook

    return attempt_webhook(delivery_id, reserved=_ticket(reserved))
