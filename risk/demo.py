"""Demo data for risk: the assessment of the demo complaints as the daily job would have made it
weekly over the last four weeks and today, so that the page shows levels, their history and the
alerts of the subjects whose level rose. analytics.demo (which fills the facts) runs before.

complaints.demo calls `seed(complaints, rng)`."""

import random
from datetime import timedelta

from django.utils import timezone

from .actions import assess_all
from .models import RiskRun

WEEKS_BACK = 4


def seed(complaints: list, rng: random.Random) -> None:
    if not complaints or RiskRun.objects.exists():
        return
    today = timezone.localdate()
    for weeks in range(WEEKS_BACK, -1, -1):
        assess_all(day=today - timedelta(weeks=weeks))
