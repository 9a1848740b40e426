"""Which case events tell whom (called from complaints.tasks.after_event in the worker, after commit).

Case action → consumer event: accept → acknowledged, assign → assigned, wait_for_consumer →
awaiting_information, propose_resolution → remedy_proposed, resolve / accept_proposal / an external
outcome that resolves → resolved, reopen → reopened. sla_warning and sla_breach e-mail the staff
who got the in-app notice. Every action goes to the webhook subscriptions that chose it."""

import logging

from django.db import transaction

from .choices import Event

log = logging.getLogger("complaintdesk.notifications")

CONSUMER_EVENTS: dict[str, str] = {
    "accept": Event.ACKNOWLEDGED,
    "assign": Event.ASSIGNED,
    "wait_for_consumer": Event.AWAITING_INFORMATION,
    "propose_resolution": Event.REMEDY_PROPOSED,
    "resolve": Event.RESOLVED,
    "accept_proposal": Event.RESOLVED,
    "record_external_outcome": Event.RESOLVED,  # only when the outcome resolved the case
    "reopen": Event.REOPENED,
}


def consumer_event(complaint, action: str) -> str | None:  # type: ignore[no-untyped-def]
    from complaints.choices import Outcome, Status

    event = CONSUMER_EVENTS.get(action)
    if action == "record_external_outcome" and not (
        complaint.outcome == Outcome.EXTERNAL_DECISION and complaint.status in (Status.RESOLVED, Status.CLOSED)
    ):
        return None
    return event


def staff_recipients(complaint, action: str) -> list:  # type: ignore[no-untyped-def]
    """The same people complaints.actions.sla_tick notified in the app."""
    from complaints.actions import _supervisors

    if action == "sla_warning" and complaint.owner_id:
        return [complaint.owner]
    return _supervisors(complaint)


def on_case_event(complaint_id: int, action: str) -> None:
    """Side effects of a case event for this app. Never raises: a failure here is logged and must not
    stop the other apps' hooks or touch the case."""
    from complaints.models import Complaint

    from . import webhooks

    complaint = Complaint.objects.select_related("department", "category", "owner").filter(pk=complaint_id).first()
    if complaint is None:
        return
    steps = (
        ("consumer", lambda: _consumer(complaint, action)),
        ("staff", lambda: _staff(complaint, action)),
        ("webhooks", lambda: webhooks.enqueue_for(complaint, action)),
    )
    for name, step in steps:
        # Each in its own transaction: a broken template must not keep the webhooks back, nor the reverse.
        try:
            with transaction.atomic():
                step()
        except Exception:
            log.exception("notifications (%s) for complaint %s (%s) could not be queued", name, complaint_id, action)


def _consumer(complaint, action: str) -> None:  # type: ignore[no-untyped-def]
    from . import service

    event = consumer_event(complaint, action)
    if event is not None:
        service.notify_consumer(complaint, event)


def _staff(complaint, action: str) -> None:  # type: ignore[no-untyped-def]
    from . import service

    if action in ("sla_warning", "sla_breach"):
        service.notify_staff(complaint, action, staff_recipients(complaint, action))
