"""Side effects of the negotiation, run after commit: the offer mailed to the consumer, the
settlement agreement generated once an offer is accepted, and the sweep that lets unanswered offers
expire. Task arguments are ids only (no personal data, no secrets)."""

import logging

from django_tasks import task

log = logging.getLogger("complaintdesk.tasks")


@task()
def mail_offer(complaint_id: int, offer_id: int) -> None:
    from .mail import send_offer

    send_offer(complaint_id, offer_id)


@task()
def generate_agreement(complaint_id: int, offer_id: int) -> None:
    """Generate the settlement agreement of an accepted offer. Idempotent: an offer that has its
    agreement already is left alone. A failure is logged and leaves the acceptance as it is; staff
    regenerate the agreement from the case page."""
    from .actions import settle_automatically

    settle_automatically(complaint_id, offer_id)


@task()
def expire_offers() -> int:
    from .actions import expire_offers as sweep

    return sweep()
