"""The KPI figures of DESIGN.md §8, read from CaseFact and DailyRollup only (never the complaints table).

All figures are by cohort: the complaints RECEIVED in the period (organisation time zone, inclusive
dates) that match the filters, merged duplicates left out; each figure counts what has happened to
those complaints so far.

- acknowledgement timeliness = acknowledged within the SLA (acknowledged_at ≤ ack_due_at) / acknowledged
- resolution timeliness (及时率) = resolved within the SLA (resolved_at ≤ resolution_due_at) / resolved
- resolution rate (解决率) = closed cases resolved (outcome accepted or executed) or with a remedy paid
  / closed cases (status closed, or archived after closing; rejected and withdrawn apart, also a case
  withdrawn after a reopening)
- satisfaction (满意率) = survey answers with outcome ≥ 4 of 5 / answers
- reopen rate = cases reopened at least once / cases ever closed (closed now, or reopened since)
- escalations = cases that reached escalation level L1 or above at any time
- handling time = receipt → resolution (the current resolved_at), in calendar hours and in working
  hours (working days, COMPLAINTDESK_WORKING_HOURS); mean and p90 (nearest rank) over resolved cases.
  p90 comes from CaseFact (one indexed row per case), never from sums.
- compensation paid = the sum of remedies marked paid in CNY; remedies in another currency are not
  added in (a sum across currencies means nothing).
"""

import math
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Count, FloatField, Q, Sum
from django.utils.translation import gettext as _

from .filters import Filters
from .models import CaseFact, DailyRollup
from .rollups import FACT_SUMS

COUNTS = (
    "received",
    "acknowledged",
    "ack_in_sla",
    "resolved",
    "resolved_in_sla",
    "closed",
    "ever_closed",
    "closed_resolved",
    "closed_with_remedy",
    "reopened",
    "escalations",
    "answers",
    "satisfied",
)
SUMS = ("handling_working_seconds", "handling_calendar_seconds", "compensation_paid")
DIMENSIONS = (
    "date",
    "week",
    "month",
    "category",
    "subcategory",
    "product",
    "org_unit",
    "region",
    "channel",
    "priority",
    "department",
    "owner",
)
TIME_DIMENSIONS = frozenset({"date", "week", "month"})
# Dimensions DailyRollup holds; the others come from CaseFact.
ROLLUP_FIELDS = {
    "category": "category_id",
    "product": "product",
    "org_unit": "org_unit_id",
    "region": "region",
    "channel": "channel",
    "priority": "priority",
}
FACT_FIELDS = {**ROLLUP_FIELDS, "subcategory": "subcategory_id", "department": "department_id", "owner": "owner_id"}

_FACT_AGG = FACT_SUMS
_ROLLUP_AGG = {name: Sum(name) for name in (*COUNTS, *SUMS)}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _hours(seconds: float | None, n: int) -> float | None:
    return round(seconds / n / 3600, 2) if n and seconds is not None else None


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    counts = {name: int(row.get(name) or 0) for name in COUNTS}
    return {
        **counts,
        "ack_timeliness": _rate(counts["ack_in_sla"], counts["acknowledged"]),
        "resolution_timeliness": _rate(counts["resolved_in_sla"], counts["resolved"]),
        "resolution_rate": _rate(counts["closed_resolved"], counts["closed"]),
        "reopen_rate": _rate(counts["reopened"], counts["ever_closed"]),
        "satisfaction_rate": _rate(counts["satisfied"], counts["answers"]),
        "handling_hours_working_mean": _hours(row.get("handling_working_seconds"), counts["resolved"]),
        "handling_hours_calendar_mean": _hours(row.get("handling_calendar_seconds"), counts["resolved"]),
        "compensation_paid": Decimal(row.get("compensation_paid") or 0).quantize(Decimal("0.01")),
    }


def use_rollup(filters: Filters) -> bool:
    return not filters.uses_case_only_fields


def facts(filters: Filters) -> Any:
    return CaseFact.objects.filter(filters.q(date_field="received_date", rollup=False))


def _rollups(filters: Filters) -> Any:
    return DailyRollup.objects.filter(filters.q(date_field="date", rollup=True))


class _PercentileDisc(Aggregate):
    """PostgreSQL's percentile_disc(f) WITHIN GROUP (ORDER BY expr): the nearest-rank percentile."""

    function = "percentile_disc"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


def percentiles(filters: Filters, fields: tuple[str, ...], fraction: float = 0.9) -> dict[str, float | None]:
    """The nearest-rank percentile of handling times (seconds) over the resolved cases: the value at
    rank ceil(fraction × n) in ascending order. PostgreSQL: one aggregate query for every field;
    elsewhere (SQLite) a count and one ordered offset per field on CaseFact."""
    resolved = facts(filters).filter(resolved=True)
    if connection.vendor == "postgresql":
        return resolved.aggregate(**{f: _PercentileDisc(f, fraction) for f in fields})
    return {f: percentile(filters, f, fraction) for f in fields}


def percentile(filters: Filters, field: str, fraction: float = 0.9) -> float | None:
    """The nearest-rank percentile of one handling time, by count and offset (any database)."""
    values = facts(filters).filter(resolved=True, **{f"{field}__isnull": False})
    n = values.count()
    if not n:
        return None
    rank = max(math.ceil(fraction * n), 1)
    return values.order_by(field).values_list(field, flat=True)[rank - 1]


def kpis(filters: Filters) -> dict[str, Any]:
    """All KPIs for the filters (see the module docstring for the definitions)."""
    if use_rollup(filters):
        row = _rollups(filters).aggregate(**_ROLLUP_AGG)
    else:
        row = facts(filters).aggregate(**_FACT_AGG)
    result = _figures(row)
    p90: dict[str, float | None] = {}
    if result["resolved"]:
        p90 = percentiles(filters, ("handling_working_seconds", "handling_calendar_seconds"))
    p90_w, p90_c = p90.get("handling_working_seconds"), p90.get("handling_calendar_seconds")
    result["handling_hours_working_p90"] = round(p90_w / 3600, 2) if p90_w is not None else None
    result["handling_hours_calendar_p90"] = round(p90_c / 3600, 2) if p90_c is not None else None
    return result


def _labels(dimension: str, keys: list[Any]) -> dict[Any, str]:
    from accounts.models import Department, OrgUnit, User
    from complaints.choices import Channel, Priority
    from complaints.models import Category

    present = [k for k in keys if k not in (None, "")]
    if dimension in ("category", "subcategory"):
        return dict(Category.objects.filter(pk__in=present).values_list("pk", "name"))
    if dimension == "org_unit":
        return dict(OrgUnit.objects.filter(pk__in=present).values_list("pk", "name"))
    if dimension == "department":
        return dict(Department.objects.filter(pk__in=present).values_list("pk", "name"))
    if dimension == "owner":
        return dict(User.objects.filter(pk__in=present).values_list("pk", "username"))
    if dimension == "channel":
        return {k: str(Channel(k).label) for k in present if k in Channel.values}
    if dimension == "priority":
        return {k: str(Priority(k).label) for k in present if k in Priority.values}
    if dimension == "region":
        from core.models import Region

        names = dict(Region.objects.filter(code__in=present).values_list("code", "name"))
        return {k: names.get(k, k) for k in present}
    return {k: str(k) for k in present}


def _codes(dimension: str, keys: list[Any]) -> dict[Any, str]:
    """The value the case list filter takes (a category or department code, a username)."""
    from accounts.models import Department, User
    from complaints.models import Category

    present = [k for k in keys if k not in (None, "")]
    if dimension in ("category", "subcategory"):
        return dict(Category.objects.filter(pk__in=present).values_list("pk", "code"))
    if dimension == "department":
        return dict(Department.objects.filter(pk__in=present).values_list("pk", "code"))
    if dimension == "owner":
        return dict(User.objects.filter(pk__in=present).values_list("pk", "username"))
    return {k: str(k) for k in present}


def _time_key(dimension: str, day: date) -> str:
    if dimension == "week":
        year, week, _weekday = day.isocalendar()
        return f"{year}-W{week:02d}"
    if dimension == "month":
        return f"{day.year}-{day.month:02d}"
    return day.isoformat()


def breakdown(filters: Filters, dimension: str, limit: int = 20) -> list[dict[str, Any]]:
    """One row per value of the dimension: key, label, code (for drill-down), received and the rates.
    Time dimensions give every period in order (empty days included for "date"); the others the
    `limit` largest by received, then by key."""
    if dimension not in DIMENSIONS:
        from core.errors import ValidationError

        raise ValidationError("dimension", _("未知的维度。可用：%(names)s。") % {"names": "、".join(DIMENSIONS)})
    rollup = use_rollup(filters) and (dimension in TIME_DIMENSIONS or dimension in ROLLUP_FIELDS)
    if dimension in TIME_DIMENSIONS:
        group = "date" if rollup else "received_date"
    else:
        group = ROLLUP_FIELDS[dimension] if rollup else FACT_FIELDS[dimension]
    queryset = (
        _rollups(filters).values(group).annotate(**_ROLLUP_AGG)
        if rollup
        else facts(filters).values(group).annotate(**_FACT_AGG)
    )
    if dimension in TIME_DIMENSIONS:
        rows = list(queryset.order_by())
        merged: dict[str, dict[str, Any]] = defaultdict(lambda: {name: 0 for name in (*COUNTS, *SUMS)})
        day = filters.date_from
        while day <= filters.date_to:
            merged[_time_key(dimension, day)]  # every period, the empty ones too
            day += timedelta(days=1)
        for row in rows:
            target = merged[_time_key(dimension, row[group])]
            for name in (*COUNTS, *SUMS):
                target[name] += row[name] or 0
        return [{"key": key, "label": key, "code": key, **_figures(row)} for key, row in sorted(merged.items())]
    # The top `limit` in SQL: a product or region dimension can have thousands of values.
    rows = list(queryset.order_by("-received", group)[:limit])
    keys = [r[group] for r in rows]
    labels, codes = _labels(dimension, keys), _codes(dimension, keys)
    none_label = _("（未填写）")
    return [
        {
            "key": r[group],
            "label": labels.get(r[group], none_label if r[group] in (None, "") else str(r[group])),
            "code": codes.get(r[group], ""),
            **_figures(r),
        }
        for r in rows
    ]


def handling_histogram(filters: Filters, field: str = "handling_working_seconds") -> list[dict[str, Any]]:
    """Resolved cases by handling time bucket (hours), from CaseFact."""
    edges = (0, 4, 8, 24, 48, 72, 120, 240, 480)
    queryset = facts(filters).filter(resolved=True)
    aggregates = {}
    for i, low in enumerate(edges):
        high = edges[i + 1] if i + 1 < len(edges) else None
        q = Q(**{f"{field}__gte": low * 3600})
        if high is not None:
            q &= Q(**{f"{field}__lt": high * 3600})
        aggregates[f"b{i}"] = Count("pk", filter=q)
    counts = queryset.aggregate(**aggregates)
    result = []
    for i, low in enumerate(edges):
        high = edges[i + 1] if i + 1 < len(edges) else None
        result.append({"label": f"{low}–{high}h" if high is not None else f"≥{low}h", "count": counts[f"b{i}"]})
    return result


def daily_counts(filters: Filters) -> list[tuple[date, int]]:
    rows = breakdown(filters, "date")
    return [(date.fromisoformat(r["key"]), r["received"]) for r in rows]
