"""The figures a report states, from ORM aggregates over the period's complaints (indexed by
received_at). The one module to switch when analytics' selectors (analytics.selectors.kpis /
breakdown) land; nothing else in reports reads complaints for figures.

KPIs as DESIGN.md §8, over the cases received in the period:
- ack_timeliness = acknowledged by ack_due_at / acknowledged;
- resolution_timeliness = resolved without a resolution breach / resolved;
- resolution_rate = closed with a remedy (accepted, executed, external decision) / closed, rejected and
  withdrawn cases apart;
- satisfaction_rate = survey answers with outcome ≥ 4 / answers;
- reopen_rate = reopened (reopen_count > 0) / ever closed (closed now, rejected and withdrawn apart, or
  reopened: a reopening clears closed_at, and only a closed case can be reopened);
- handling_hours_mean = mean calendar hours from receipt to resolution (working hours: analytics).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Department, OrgUnit, User
from complaints.choices import Outcome, Status
from complaints.models import Complaint

from .inputs import Period, local_midnight

REMEDIED = (Outcome.ACCEPTED, Outcome.EXECUTED, Outcome.EXTERNAL_DECISION)


@dataclass(frozen=True)
class Scope:
    """Whose cases: the user's visible ones (None: all, for tests and jobs run as the system), within
    an organisation unit's subtree and/or a department."""

    user: User | None = None
    org_unit: OrgUnit | None = None
    department: Department | None = None


def cases(scope: Scope, start: date, end: date) -> QuerySet:
    queryset = Complaint.objects.visible_to(scope.user) if scope.user is not None else Complaint.objects.all()
    queryset = queryset.filter(received_at__gte=local_midnight(start), received_at__lt=local_midnight(end))
    # A confirmed duplicate is counted in its survivor.
    queryset = queryset.exclude(status=Status.MERGED).filter(merged_into__isnull=True)
    if scope.org_unit is not None:
        queryset = queryset.filter(org_unit__path__startswith=scope.org_unit.path)
    if scope.department is not None:
        queryset = queryset.filter(department=scope.department)
    return queryset


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def kpis(queryset: QuerySet) -> dict[str, Any]:
    closed = ~Q(closed_at=None) & ~Q(status__in=[Status.REJECTED, Status.WITHDRAWN])
    row = queryset.aggregate(
        received=Count("pk"),
        acknowledged=Count("pk", filter=~Q(acknowledged_at=None)),
        ack_in_time=Count(
            "pk", filter=~Q(acknowledged_at=None) & (Q(ack_due_at=None) | Q(acknowledged_at__lte=F("ack_due_at")))
        ),
        resolved=Count("pk", filter=~Q(resolved_at=None)),
        resolved_in_time=Count("pk", filter=~Q(resolved_at=None) & Q(resolution_breached_at=None)),
        closed=Count("pk", filter=closed),
        remedied=Count("pk", filter=closed & Q(outcome__in=REMEDIED)),
        ever_closed=Count("pk", filter=closed | Q(reopen_count__gt=0)),
        reopened=Count("pk", filter=Q(reopen_count__gt=0)),
        escalated=Count("pk", filter=Q(escalation_level__gt=0)),
    )
    from feedback.models import SurveyAnswer

    answers = SurveyAnswer.objects.filter(complaint__in=queryset.values("pk")).aggregate(
        answers=Count("pk"), satisfied=Count("pk", filter=Q(outcome__gte=4))
    )
    # Mean handling time: summed in Python over the resolved cases' two timestamps (one indexed
    # range, two columns); a portable duration average is not available on SQLite.
    total = 0.0
    for received, resolved in (
        queryset.exclude(resolved_at=None).values_list("received_at", "resolved_at").iterator(chunk_size=5000)
    ):
        total += (resolved - received).total_seconds() / 3600
    return {
        **row,
        **answers,
        "ack_timeliness": _rate(row["ack_in_time"], row["acknowledged"]),
        "resolution_timeliness": _rate(row["resolved_in_time"], row["resolved"]),
        "resolution_rate": _rate(row["remedied"], row["closed"]),
        "reopen_rate": _rate(row["reopened"], row["ever_closed"]),
        "satisfaction_rate": _rate(answers["satisfied"], answers["answers"]),
        "handling_hours_mean": round(total / row["resolved"], 1) if row["resolved"] else None,
    }


def by_category(queryset: QuerySet) -> list[dict[str, Any]]:
    rows = queryset.values("category__code", "category__name", "category__name_en").annotate(n=Count("pk"))
    return sorted(
        (
            {
                "code": r["category__code"] or "",
                "name": r["category__name"] or "",
                "name_en": r["category__name_en"] or "",
                "n": r["n"],
            }
            for r in rows
        ),
        key=lambda r: (-r["n"], r["code"]),
    )


def by_unit(queryset: QuerySet) -> list[dict[str, Any]]:
    rows = queryset.values("org_unit__name", "org_unit__parent__name").annotate(n=Count("pk"))
    return sorted(
        ({"unit": r["org_unit__name"] or "", "region": r["org_unit__parent__name"] or "", "n": r["n"]} for r in rows),
        key=lambda r: (-r["n"], r["region"], r["unit"]),
    )


def by_category_and_unit(queryset: QuerySet) -> dict[tuple[str, str, str], int]:
    rows = queryset.values("category__code", "org_unit__parent__name", "org_unit__name").annotate(n=Count("pk"))
    return {
        (r["category__code"] or "", r["org_unit__parent__name"] or "", r["org_unit__name"] or ""): r["n"] for r in rows
    }


def by_day(queryset: QuerySet, start: date, end: date) -> list[tuple[date, int]]:
    tz = timezone.get_default_timezone()
    counts = dict(
        queryset.annotate(day=TruncDate("received_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    days = (end - start).days
    return [(start + timedelta(days=i), counts.get(start + timedelta(days=i), 0)) for i in range(days)]


def by_week(daily: list[tuple[date, int]]) -> list[tuple[date, int]]:
    """Weeks starting on Monday, summed from the daily counts."""
    weeks: dict[date, int] = {}
    for day, n in daily:
        monday = day - timedelta(days=day.weekday())
        weeks[monday] = weeks.get(monday, 0) + n
    return sorted(weeks.items())


def report_figures(scope: Scope, period: Period) -> dict[str, Any]:
    """Everything a report needs for the period and the one before it."""
    current = cases(scope, period.start, period.end)
    previous_period = period.previous()
    previous = cases(scope, previous_period.start, previous_period.end)
    daily = by_day(current, period.start, period.end)
    return {
        "period": period,
        "previous_period": previous_period,
        "kpis": kpis(current),
        "previous_kpis": {"received": previous.count()},
        "by_category": by_category(current),
        "previous_by_category": {r["code"]: r["n"] for r in by_category(previous)},
        "by_unit": by_unit(current),
        "by_category_and_unit": by_category_and_unit(current),
        "previous_by_category_and_unit": by_category_and_unit(previous),
        "by_day": daily,
        "by_week": by_week(daily),
    }
