"""Periodic jobs of the accounts app (core.scheduler reads JOBS)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import SecurityEvent


def purge_security_events(now=None) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Delete security events older than COMPLAINTDESK_SECURITY_EVENT_DAYS: they name addresses, which are
    personal data (PIPL art. 19), and serve the review of recent sign-ins only. The ledger keeps the case
    history; this log is not part of it."""
    cutoff = (now or timezone.now()) - timedelta(days=int(settings.COMPLAINTDESK_SECURITY_EVENT_DAYS))
    deleted, _ = SecurityEvent.objects.filter(created_at__lt=cutoff).delete()
    return {"deleted": deleted}


JOBS = [("purge_security_events", purge_security_events)]
