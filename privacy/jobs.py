"""Periodic jobs of the privacy app (core.scheduler loads JOBS)."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from .models import RetentionRun
from .retention import run


def retention_daily(now: datetime | None = None) -> dict[str, Any] | str:
    """Retention once a day, when COMPLAINTDESK_RETENTION_AUTORUN is on: anonymise what has outlived
    the retention period, at most COMPLAINTDESK_RETENTION_BATCH customers or cases per round. The
    scheduler calls every minute: after the day's run it returns at once, unless that run left a
    backlog (its `remaining` counts), which the next rounds work off, one run record each."""
    if not settings.COMPLAINTDESK_RETENTION_AUTORUN:
        return "off"
    now = now or timezone.now()
    last = RetentionRun.objects.filter(trigger="schedule").order_by("-seq").first()
    if last is not None and timezone.localdate(last.started_at) == timezone.localdate(now):
        if not any(last.counts.get("remaining", {}).values()):
            return "done today"
    return run(as_of=now, limit=max(1, settings.COMPLAINTDESK_RETENTION_BATCH), trigger="schedule").counts


JOBS = [("privacy_retention", retention_daily)]
