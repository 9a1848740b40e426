"""The KPI figures of DESIGN.md §8, read from the rollups only (never the complaints table).

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
  p90 comes from CaseFact (one indexed row per case), never from sums: for many cases HandlingRollup's
  bucket counts say which bucket holds rank ⌈0.9 n⌉, and only that bucket's facts are read.
- compensation paid = the sum of remedies marked paid in CNY; remedies in another currency are not
  added in (a sum across currencies means nothing).
- complaint rate = complaints per 10,000 orders, and rights-protection cost ratio = compensation paid /
  revenue, where sales figures are imported (analytics.sales.totals); None otherwise.

Which table answers (`_plan`): the narrowest DailySlice that holds every filtered dimension, the
reader's scope and the dimension asked (at most two: O(days × values) rows whatever the number of
complaints); else DailyRollup when all of them are its dimensions (a product filter, or three
dimensions: few cases match so many conditions); else CaseFact.
"""

import math
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Count, FloatField, Q, Sum
from django.utils.translation import gettext as _

from . import rollups
from .filters import Filters
from .models import HANDLING_EDGES, CaseFact, DailyRollup, DailySlice, HandlingRollup
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
BUCKETS = {kind: [f"{kind}_{i}" for i in range(len(HANDLING_EDGES))] for kind in ("working", "calendar")}
_BUCKET_AGG = {name: Sum(name) for names in BUCKETS.values() for name in names}
# Dimensions whose slice key is an id (the others are the value itself).
_ID_DIMENSIONS = frozenset({"category", "subcategory", "org_unit", "department"})
# Below this many resolved cases the p90 is one percentile query over their facts; above, the slice's
# bucket counts locate the rank and only one bucket's facts are read.
EXACT_PERCENTILE_MAX = 5_000
HISTOGRAM_EDGES = (0, 4, 8, 24, 48, 72, 120, 240, 480)


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


def kpis_from_totals(row: dict[str, Any]) -> dict[str, Any]:
    """The counts and rates of kpis() from a totals() row (without the p90s and sales figures)."""
    return _figures(row)


def use_rollup(filters: Filters) -> bool:
    return not filters.uses_case_only_fields


_UNRESOLVED = object()


def _conditions(filters: Filters) -> dict[str, frozenset[str]] | None:
    """The filters and the reader's scope as allowed slice keys per dimension (an empty set: nothing
    matches), or None when they cannot be (a scope of org units OR departments spans two dimensions).
    Kept on the filters object: one request builds many figures from the same filters."""
    cached = filters.__dict__.get("_slice_conditions", _UNRESOLVED)
    if cached is _UNRESOLVED:
        cached = _resolve_conditions(filters)
        object.__setattr__(filters, "_slice_conditions", cached)
    return cached  # type: ignore[return-value]


def _resolve_conditions(filters: Filters) -> dict[str, frozenset[str]] | None:
    from accounts.models import Department, OrgUnit
    from complaints.models import Category

    conditions: dict[str, frozenset[str]] = {}

    def narrow(dimension: str, keys: Any) -> None:
        keys = frozenset(str(k) for k in keys)
        conditions[dimension] = conditions[dimension] & keys if dimension in conditions else keys

    def units(paths: tuple[str, ...]) -> list[int]:
        query = Q(pk__in=[])
        for path in paths:
            query |= Q(path__startswith=path)
        return list(OrgUnit.objects.filter(query).values_list("pk", flat=True))

    if filters.scope_unit_paths is not None and filters.scope_unit_paths and filters.scope_departments:
        return None
    if filters.category:
        category = Category.objects.filter(code=filters.category).values("pk", "parent_id").first()
        if category is None:
            narrow("category", [])
        else:
            narrow("category" if category["parent_id"] is None else "subcategory", [category["pk"]])
    if filters.org_unit is not None:
        path = OrgUnit.objects.filter(pk=filters.org_unit).values_list("path", flat=True).first()
        narrow("org_unit", units((path,)) if path is not None else [])
    for name in ("channel", "priority", "product"):
        if getattr(filters, name):
            narrow(name, [getattr(filters, name)])
    if filters.department:
        narrow("department", Department.objects.filter(code=filters.department).values_list("pk", flat=True))
    if filters.scope_unit_paths is not None:
        if filters.scope_departments:
            narrow("department", filters.scope_departments)
        else:
            narrow("org_unit", units(filters.scope_unit_paths))  # no paths: nothing in scope
    return conditions


def _plan(filters: Filters, *dimensions: str | None) -> tuple[tuple[str, ...], dict[str, frozenset[str]]] | None:
    """The slice that answers these filters (and these dimensions), with its key conditions; None when
    no kept slice holds them all."""
    conditions = _conditions(filters)
    if conditions is None:
        return None
    dims = set(conditions) | {d for d in dimensions if d is not None}
    spec = rollups.slice_for(dims)
    return None if spec is None else (spec, conditions)


def _slice_rows(filters: Filters, plan: tuple[tuple[str, ...], dict[str, frozenset[str]]]) -> Any:
    spec, conditions = plan
    dim_a, dim_b = (*spec, "", "")[:2]
    rows = DailySlice.objects.filter(dim_a=dim_a, dim_b=dim_b, date__gte=filters.date_from, date__lte=filters.date_to)
    for dimension, keys in conditions.items():
        column = "key_a" if dimension == dim_a else "key_b"
        if len(keys) == 1:
            rows = rows.filter(**{column: next(iter(keys))})
        else:
            rows = rows.filter(**{f"{column}__in": sorted(keys)})
    return rows


def _handling_rows(filters: Filters) -> Any | None:
    """The HandlingRollup rows of the filters (all cases, or one dimension's values), or None when the
    filters span more dimensions than it keeps."""
    plan = _plan(filters)
    if plan is None or len(plan[0]) > 1:
        return None
    spec, conditions = plan
    rows = HandlingRollup.objects.filter(
        dim=spec[0] if spec else "", date__gte=filters.date_from, date__lte=filters.date_to
    )
    for keys in conditions.values():
        rows = rows.filter(key=next(iter(keys))) if len(keys) == 1 else rows.filter(key__in=sorted(keys))
    return rows


def _bucket_counts(filters: Filters) -> dict[str, Any] | None:
    """Every handling-time bucket count of the filters (HandlingRollup, one query kept on the filters
    object for the p90 and both histograms), or None when HandlingRollup cannot answer."""
    cached = filters.__dict__.get("_bucket_counts", _UNRESOLVED)
    if cached is _UNRESOLVED:
        rows = _handling_rows(filters)
        cached = None if rows is None else rows.aggregate(**_BUCKET_AGG)
        object.__setattr__(filters, "_bucket_counts", cached)
    return cached  # type: ignore[return-value]


def _slice_key(dimension: str, key: str) -> Any:
    """A slice key as the dimension's value (an id as int, "" as None for the id dimensions)."""
    if dimension in _ID_DIMENSIONS:
        return int(key) if key else None
    return key


def facts(filters: Filters) -> Any:
    return CaseFact.objects.filter(filters.q(date_field="received_date", rollup=False))


def _key_q(dimension: str, keys: frozenset[str]) -> Q:
    """A condition on a fact/rollup column from slice keys (ids as ints, "" as NULL for the id dimensions)."""
    column = rollups.DIMENSIONS[dimension]
    if dimension not in _ID_DIMENSIONS:
        return Q(**{f"{column}__in": sorted(keys)})
    query = Q(**{f"{column}__in": sorted(int(k) for k in keys if k)})
    return query | Q(**{f"{column}__isnull": True}) if "" in keys else query


def _by_keys(model: Any, filters: Filters, date_field: str, extra: Q) -> Any:
    """The rows of the filters with org units (and their subtrees) and codes resolved to ids once:
    indexed IN lists instead of a join on the org-unit path per query; Filters.q where they cannot be."""
    conditions = _conditions(filters)
    if conditions is None:
        return model.objects.filter(filters.q(date_field=date_field, rollup=model is DailyRollup))
    query = Q(**{f"{date_field}__gte": filters.date_from, f"{date_field}__lte": filters.date_to}) & extra
    for dimension, keys in conditions.items():
        query &= _key_q(dimension, keys)
    return model.objects.filter(query)


def _facts(filters: Filters) -> Any:
    """facts(filters), with the filters resolved to indexed conditions (the same rows)."""
    return _by_keys(CaseFact, filters, "received_date", Q(merged=False))


def _rollups(filters: Filters) -> Any:
    return _by_keys(DailyRollup, filters, "date", Q())


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
    resolved = _facts(filters).filter(resolved=True)
    if connection.vendor == "postgresql":
        return resolved.aggregate(**{f: _PercentileDisc(f, fraction) for f in fields})
    return {f: percentile(filters, f, fraction) for f in fields}


def percentile(filters: Filters, field: str, fraction: float = 0.9) -> float | None:
    """The nearest-rank percentile of one handling time, by count and offset (any database)."""
    values = _facts(filters).filter(resolved=True, **{f"{field}__isnull": False})
    n = values.count()
    if not n:
        return None
    rank = max(math.ceil(fraction * n), 1)
    return values.order_by(field).values_list(field, flat=True)[rank - 1]


def _bucketed_percentile(filters: Filters, counts: list[int], field: str, fraction: float = 0.9) -> float | None:
    """The nearest-rank percentile, exactly: the bucket counts (HandlingRollup) give the bucket holding
    rank ⌈fraction × n⌉ and the rank inside it; one ordered offset over that bucket's facts gives the value."""
    n = sum(counts)
    if not n:
        return None
    rank = max(math.ceil(fraction * n), 1)
    below = 0
    bucket_field = "working_bucket" if field == "handling_working_seconds" else "calendar_bucket"
    for bucket, count in enumerate(counts):
        if below + count >= rank:
            values = _facts(filters).filter(**{bucket_field: bucket}).order_by(field)
            return values.values_list(field, flat=True)[rank - below - 1]
        below += count
    return None  # the counts add up to n: not reached


def totals(filters: Filters) -> dict[str, Any]:
    """The counts and sums behind the KPIs (received … compensation_paid, handling seconds), from the
    narrowest table that answers."""
    plan = _plan(filters)
    if plan is not None:
        return _slice_rows(filters, plan).aggregate(**_ROLLUP_AGG)
    if use_rollup(filters):
        return _rollups(filters).aggregate(**_ROLLUP_AGG)
    return _facts(filters).aggregate(**_FACT_AGG)


def cross_counts(filters: Filters, first: str, second: str) -> dict[tuple[Any, Any], int]:
    """Complaints received per pair of values of two dimensions (ids for category, sub-category, org
    unit and department; None for no value), e.g. category × org unit for a report's findings."""
    plan = _plan(filters, first, second)
    if plan is not None:
        spec = plan[0]
        columns = {name: "key_a" if spec[0] == name else "key_b" for name in (first, second)}
        rows = _slice_rows(filters, plan).values(columns[first], columns[second]).annotate(n=Sum("received"))
        return {
            (_slice_key(first, r[columns[first]]), _slice_key(second, r[columns[second]])): int(r["n"])
            for r in rows.order_by()
        }
    a, b = FACT_FIELDS[first], FACT_FIELDS[second]
    rows = _facts(filters).values(a, b).annotate(n=Count("pk")).order_by()
    return {(r[a], r[b]): int(r["n"]) for r in rows}


def kpis(filters: Filters, *, sales: bool = True) -> dict[str, Any]:
    """All KPIs for the filters (see the module docstring for the definitions); with `sales`, also the
    complaint rate and the rights-protection cost ratio (orders, revenue) where sales are imported."""
    result = _figures(totals(filters))
    p90: dict[str, float | None] = {}
    counts = _bucket_counts(filters) if result["resolved"] > EXACT_PERCENTILE_MAX else None
    if counts is not None:
        p90 = {
            field: _bucketed_percentile(filters, [int(counts[name] or 0) for name in BUCKETS[kind]], field)
            for kind, field in (("working", "handling_working_seconds"), ("calendar", "handling_calendar_seconds"))
        }
    elif result["resolved"]:
        p90 = percentiles(filters, ("handling_working_seconds", "handling_calendar_seconds"))
    p90_w, p90_c = p90.get("handling_working_seconds"), p90.get("handling_calendar_seconds")
    result["handling_hours_working_p90"] = round(p90_w / 3600, 2) if p90_w is not None else None
    result["handling_hours_calendar_p90"] = round(p90_c / 3600, 2) if p90_c is not None else None
    if sales:
        result.update(sales_figures(filters, result))
    return result


def sales_figures(filters: Filters, figures: dict[str, Any]) -> dict[str, Any]:
    """Complaints per 10,000 orders and compensation paid / revenue (DESIGN.md §8), where the sales
    figures for the period (and org unit, product, scope) are imported; None otherwise. The cost ratio
    holds the compensation paid only: handling cost is not recorded."""
    from .sales import totals

    found = totals(filters)
    rate = found.complaint_rate(figures["received"])
    ratio = found.cost_ratio(figures["compensation_paid"])
    return {
        "orders": found.orders,
        "revenue": found.revenue,
        "complaint_rate": round(rate, 2) if rate is not None else None,
        "cost_ratio": round(ratio, 4) if ratio is not None else None,
    }


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
    plan = _plan(filters, None if dimension in TIME_DIMENSIONS else dimension) if dimension != "owner" else None
    rollup = use_rollup(filters) and (dimension in TIME_DIMENSIONS or dimension in ROLLUP_FIELDS)
    if plan is not None:
        spec = plan[0]
        group = "date" if dimension in TIME_DIMENSIONS else ("key_a" if spec[0] == dimension else "key_b")
        queryset = _slice_rows(filters, plan).values(group).annotate(**_ROLLUP_AGG)
    else:
        if dimension in TIME_DIMENSIONS:
            group = "date" if rollup else "received_date"
        else:
            group = ROLLUP_FIELDS[dimension] if rollup else FACT_FIELDS[dimension]
        queryset = (
            _rollups(filters).values(group).annotate(**_ROLLUP_AGG)
            if rollup
            else _facts(filters).values(group).annotate(**_FACT_AGG)
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
    if plan is not None:
        for row in rows:
            row[group] = _slice_key(dimension, row[group])
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
    """Resolved cases by handling time bucket (hours, HISTOGRAM_EDGES): HandlingRollup's finer buckets
    added up, or a count per bucket over CaseFact where the filters span two dimensions or more."""
    fine = _bucket_counts(filters)
    if fine is not None:
        kind = "working" if field == "handling_working_seconds" else "calendar"
        counts = [0] * len(HISTOGRAM_EDGES)
        for i, edge in enumerate(HANDLING_EDGES):
            target = max(j for j, low in enumerate(HISTOGRAM_EDGES) if low <= edge)
            counts[target] += int(fine[f"{kind}_{i}"] or 0)
    else:
        aggregates = {}
        for i, low in enumerate(HISTOGRAM_EDGES):
            high = HISTOGRAM_EDGES[i + 1] if i + 1 < len(HISTOGRAM_EDGES) else None
            q = Q(**{f"{field}__gte": low * 3600})
            if high is not None:
                q &= Q(**{f"{field}__lt": high * 3600})
            aggregates[f"b{i}"] = Count("pk", filter=q)
        found = _facts(filters).filter(resolved=True).aggregate(**aggregates)
        counts = [found[f"b{i}"] for i in range(len(HISTOGRAM_EDGES))]
    result = []
    for i, low in enumerate(HISTOGRAM_EDGES):
        high = HISTOGRAM_EDGES[i + 1] if i + 1 < len(HISTOGRAM_EDGES) else None
        label = f"{low}–{high}h" if high is not None else f"≥{low}h"
        result.append({"label": label, "low": low, "high": high, "count": counts[i]})
    return result


def daily_counts(filters: Filters) -> list[tuple[date, int]]:
    rows = breakdown(filters, "date")
    return [(date.fromisoformat(r["key"]), r["received"]) for r in rows]
