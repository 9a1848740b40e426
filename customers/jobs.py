"""Periodic jobs (core.scheduler loads JOBS)."""

from django.db.models import Q
from django.utils import timezone

from . import tiers
from .models import Customer

BATCH = 500


def refresh_value_tiers() -> int:
    """Recompute the cached tier of customers not refreshed today (orders age out of the 12-month
    window). A batch per run keeps each tick short; a day's work ends when none is left."""
    today = timezone.localdate()
    ids = list(
        Customer.objects.filter(Q(tier_refreshed_on__isnull=True) | Q(tier_refreshed_on__lt=today))
        .order_by("id")
        .values_list("id", flat=True)[:BATCH]
    )
    if ids:
        tiers.refresh(ids)
    return len(ids)


JOBS = [("customers_refresh_value_tiers", refresh_value_tiers)]
