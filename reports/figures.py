"""The figures a report states, read from analytics (analytics.selectors over the rollups: CaseFact,
DailyRollup and the narrow DailySlice tables), never from the complaints table: a month's report costs
a few indexed queries over O(days × values) rows whatever the number of complaints.

KPIs as DESIGN.md §8 and the dashboard (analytics.selectors), over the cases received in the period,
merged duplicates left out:
- ack_timeliness = acknowledged by ack_due_at / acknowledged;
- resolution_timeliness = resolved with resolved_at ≤ resolution_due_at / resolved;
- resolution_rate = closed cases whose outcome is accepted or executed, or with a remedy paid / closed
  cases (closed now, or archived after closing; rejected and withdrawn apart);
- satisfaction_rate = survey answers with outcome ≥ 4 / answers;
- reopen_rate = reopened (reopen_count > 0) / ever closed (closed now, or reopened since a closing);
- escalated = cases that ever reached L1 or above;
- handling_hours_mean = mean calendar hours from receipt to resolution.
Where these differed from the earlier raw-complaint figures (resolution timeliness by the breach stamp,
the resolution rate counting "external decision" and not remedies paid, escalations at the current
level), the analytics definitions now apply, so that a report and the dashboard agree.

Scope: the reader's analytics scope (analytics.filters.Filters.scoped: analysts and auditors see every
case, managers their org units' subtrees, supervisors their departments' cases), narrowed to the
report's org unit (subtree) and department.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from accounts.models import Department, OrgUnit, User
from analytics import selectors
from analytics.filters import Filters
from complaints.models import Category

from .inputs import Period


@dataclass(frozen=True)
class Scope:
    """Whose cases: the user's (None: all, for tests and jobs run as the system), within an
    organisation unit's subtree and/or a department."""

    user: User | None = None
    org_unit: OrgUnit | None = None
    department: Department | None = None


def filters_for(scope: Scope, start: date, end: date) -> Filters:
    """The analytics filters of the received days [start, end) in the scope."""
    filters = Filters(
        date_from=start,
        date_to=end - timedelta(days=1),
        org_unit=scope.org_unit.pk if scope.org_unit is not None else None,
        department=scope.department.code if scope.department is not None else "",
    )
    return filters.scoped(scope.user) if scope.user is not None else filters


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def kpis(filters: Filters) -> dict[str, Any]:
    row = selectors.totals(filters)
    k = selectors.kpis_from_totals(row)
    seconds = row.get("handling_calendar_seconds")
    return {
        "received": k["received"],
        "acknowledged": k["acknowledged"],
        "ack_in_time": k["ack_in_sla"],
        "resolved": k["resolved"],
        "resolved_in_time": k["resolved_in_sla"],
        "closed": k["closed"],
        "remedied": k["closed_resolved"],
        "ever_closed": k["ever_closed"],
        "reopened": k["reopened"],
        "escalated": k["escalations"],
        "answers": k["answers"],
        "satisfied": k["satisfied"],
        "ack_timeliness": k["ack_timeliness"],
        "resolution_timeliness": k["resolution_timeliness"],
        "resolution_rate": k["resolution_rate"],
        "reopen_rate": k["reopen_rate"],
        "satisfaction_rate": k["satisfaction_rate"],
        "handling_hours_mean": round(float(seconds) / k["resolved"] / 3600, 1) if k["resolved"] else None,
        "compensation_paid": k["compensation_paid"],
    }


def by_category(filters: Filters) -> list[dict[str, Any]]:
    """Top-level categories (code "" for the uncategorised) by count, then code."""
    rows = selectors.breakdown(filters, "category", limit=10_000)
    names = {
        c["pk"]: c
        for c in Category.objects.filter(pk__in=[r["key"] for r in rows if r["key"]]).values(
            "pk", "code", "name", "name_en"
        )
    }
    result = []
    for r in rows:
        category = names.get(r["key"], {})
        result.append(
            {
                "code": category.get("code", ""),
                "name": category.get("name", ""),
                "name_en": category.get("name_en", ""),
                "n": r["received"],
            }
        )
    return sorted(result, key=lambda r: (-r["n"], r["code"]))


def _units(ids: list[int | None]) -> dict[int | None, tuple[str, str]]:
    """(region, unit): the unit's parent's name and its own name; ("", "") for no unit."""
    found = OrgUnit.objects.filter(pk__in=[i for i in ids if i is not None]).values_list("pk", "name", "parent__name")
    names: dict[int | None, tuple[str, str]] = {pk: (parent or "", name or "") for pk, name, parent in found}
    names[None] = ("", "")
    return names


def by_unit(filters: Filters) -> list[dict[str, Any]]:
    rows = selectors.breakdown(filters, "org_unit", limit=10_000)
    names = _units([r["key"] for r in rows])
    return sorted(
        (
            {"unit": names.get(r["key"], ("", ""))[1], "region": names.get(r["key"], ("", ""))[0], "n": r["received"]}
            for r in rows
        ),
        key=lambda r: (-r["n"], r["region"], r["unit"]),
    )


def by_category_and_unit(filters: Filters) -> dict[tuple[str, str, str], int]:
    counts = selectors.cross_counts(filters, "category", "org_unit")
    codes = dict(Category.objects.filter(pk__in={c for c, _u in counts if c}).values_list("pk", "code"))
    names = _units([u for _c, u in counts])
    result: dict[tuple[str, str, str], int] = {}
    for (category, unit), n in counts.items():
        region, unit_name = names.get(unit, ("", ""))
        key = (codes.get(category, ""), region, unit_name)
        result[key] = result.get(key, 0) + n  # two units of the same name and region count together
    return result


def by_day(filters: Filters) -> list[tuple[date, int]]:
    return selectors.daily_counts(filters)


def by_week(daily: list[tuple[date, int]]) -> list[tuple[date, int]]:
    """Weeks starting on Monday, summed from the daily counts."""
    weeks: dict[date, int] = {}
    for day, n in daily:
        monday = day - timedelta(days=day.weekday())
        weeks[monday] = weeks.get(monday, 0) + n
    return sorted(weeks.items())


def report_figures(scope: Scope, period: Period) -> dict[str, Any]:
    """Everything a report needs for the period and the one before it."""
    current = filters_for(scope, period.start, period.end)
    previous_period = period.previous()
    previous = filters_for(scope, previous_period.start, previous_period.end)
    daily = by_day(current)
    return {
        "period": period,
        "previous_period": previous_period,
        "kpis": kpis(current),
        "previous_kpis": {"received": int(selectors.totals(previous)["received"] or 0)},
        "by_category": by_category(current),
        "previous_by_category": {r["code"]: r["n"] for r in by_category(previous)},
        "by_unit": by_unit(current),
        "by_category_and_unit": by_category_and_unit(current),
        "previous_by_category_and_unit": by_category_and_unit(previous),
        "by_day": daily,
        "by_week": by_week(daily),
    }
