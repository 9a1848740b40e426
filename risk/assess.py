"""The scoring (DESIGN.md §8; docs/risk.md): the measures of each subject over a window, their bands,
probability, impact and the level.

Measures, for the complaints received in the window (merged duplicates left out), from the analytics
tables (analytics.selectors, analytics.sales; never the complaints table, except the risk flags):
- frequency: complaints per 10,000 orders when the subject's orders are known (analytics.sales.totals),
  else the count;
- trend: the relative change of that frequency against the window of the same length before (a rate
  when both windows have orders, else counts); unknown when the window before had none;
- handling hours: the mean handling time in working hours over the resolved cases (analytics);
- satisfaction: the satisfaction rate (analytics; lower is worse);
- cost ratio: (compensation paid + handling cost) / revenue (analytics.sales.Sales.cost_ratio), the
  handling cost being COMPLAINTDESK_RISK_HANDLING_COST_PER_HOUR × the handling working hours; unknown
  without revenue (departments have none: sales are not divided by department);
- high-risk share: the cases with a risk flag or escalated to L1 or above / the cases.

Each measure maps to a band 1–5 by its RiskThreshold edges. Probability = the weighted mean of the
frequency (weight 2) and trend (weight 1) bands; impact = the mean of the handling-time, satisfaction,
cost-ratio and high-risk-share bands (weight 1 each); an unknown measure is left out of its mean. Both
are rounded half up. Level = from probability × impact (1–25): high from COMPLAINTDESK_RISK_HIGH_FROM,
medium from COMPLAINTDESK_RISK_MEDIUM_FROM, else low. Subjects with fewer than
COMPLAINTDESK_RISK_MIN_CASES cases in the window are not assessed.
"""

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Q

from analytics.filters import Filters
from analytics.models import SalesVolume
from analytics.sales import Sales, totals
from analytics.selectors import breakdown, facts, kpis

from .choices import LOWER_IS_WORSE, Measure, RiskLevel, SubjectKind

# The measures of each axis and their weights in the axis's mean ("frequency" is counted or a rate).
PROBABILITY_WEIGHTS = {"frequency": 2, "trend": 1}
IMPACT_WEIGHTS = {"handling_hours": 1, "satisfaction": 1, "cost_ratio": 1, "flagged_share": 1}
MEASURE_KEYS = ("frequency", "trend", "handling_hours", "satisfaction", "cost_ratio", "flagged_share")

# Default band edges, written by the data migration; admins change them (admin site or the page).
DEFAULT_EDGES: dict[str, tuple[float, float, float, float]] = {
    Measure.FREQUENCY_COUNT: (10, 25, 50, 100),  # complaints in the window (90 days by default)
    Measure.FREQUENCY_RATE: (1, 3, 10, 30),  # complaints per 10,000 orders
    Measure.TREND: (-0.1, 0.1, 0.3, 0.6),  # −10 %, +10 %, +30 %, +60 %
    Measure.HANDLING_HOURS: (8, 24, 48, 80),  # mean working hours to resolution
    Measure.SATISFACTION: (0.6, 0.7, 0.8, 0.9),  # lower is worse: ≥ 90 % is band 1
    Measure.COST_RATIO: (0.0005, 0.001, 0.005, 0.01),  # 0.05 %, 0.1 %, 0.5 %, 1 % of revenue
    Measure.FLAGGED_SHARE: (0.05, 0.1, 0.2, 0.35),
}


def window_days() -> int:
    return int(getattr(settings, "COMPLAINTDESK_RISK_WINDOW_DAYS", 90))


def min_cases() -> int:
    return int(getattr(settings, "COMPLAINTDESK_RISK_MIN_CASES", 5))


def cutoffs() -> tuple[int, int]:
    """(medium from, high from) on the probability × impact score."""
    return (
        int(getattr(settings, "COMPLAINTDESK_RISK_MEDIUM_FROM", 5)),
        int(getattr(settings, "COMPLAINTDESK_RISK_HIGH_FROM", 15)),
    )


def hourly_cost() -> Decimal:
    return Decimal(str(getattr(settings, "COMPLAINTDESK_RISK_HANDLING_COST_PER_HOUR", "0") or "0"))


def max_subjects() -> int:
    return int(getattr(settings, "COMPLAINTDESK_RISK_MAX_SUBJECTS", 1000))


@dataclass(frozen=True)
class Windows:
    """The assessed window (the `days` days before `day`) and the one of the same length before it."""

    day: date
    days: int

    @property
    def current(self) -> tuple[date, date]:
        return self.day - timedelta(days=self.days), self.day - timedelta(days=1)

    @property
    def previous(self) -> tuple[date, date]:
        return self.day - timedelta(days=2 * self.days), self.day - timedelta(days=self.days + 1)


# --- the arithmetic ----------------------------------------------------------------------------------


def band(measure: str, value: float, edges: Iterable[float]) -> int:
    """1–5: one plus the number of edges the value reaches (counted down where lower is worse)."""
    reached = sum(1 for edge in edges if value >= edge)
    return 5 - reached if measure in LOWER_IS_WORSE else 1 + reached


def weighted_band(bands: dict[str, int | None], weights: dict[str, int]) -> int | None:
    """The weighted mean of the known bands, rounded half up; None when none is known."""
    known = [(weights[name], value) for name, value in bands.items() if name in weights and value is not None]
    total = sum(w for w, _v in known)
    if not total:
        return None
    return math.floor(sum(w * v for w, v in known) / total + 0.5)


def level_of(probability: int, impact: int) -> str:
    medium_from, high_from = cutoffs()
    score = probability * impact
    if score >= high_from:
        return RiskLevel.HIGH
    if score >= medium_from:
        return RiskLevel.MEDIUM
    return RiskLevel.LOW


@dataclass
class Figures:
    """What the analytics tables say about one subject in the two windows."""

    kind: str
    key: str
    label: str
    org_unit_id: int | None = None
    department_id: int | None = None
    cases: int = 0
    previous_cases: int = 0
    flagged: int = 0
    resolved: int = 0
    handling_hours: float | None = None  # mean working hours over the resolved cases
    satisfaction: float | None = None
    answers: int = 0
    compensation: Decimal = Decimal("0")
    sales: Sales = field(default_factory=lambda: Sales(orders=None, revenue=None))
    previous_sales: Sales = field(default_factory=lambda: Sales(orders=None, revenue=None))


@dataclass
class Scored:
    assessed: bool
    measures: dict[str, dict[str, Any]]
    inputs: dict[str, Any]
    probability: int | None = None
    impact: int | None = None
    level: str = ""


def _entry(
    measure: str, value: float | None, edges: dict[str, tuple[float, ...]], *, unknown: str = "", note: str = ""
) -> dict[str, Any]:
    """One measure as stored: its value, band and the edges that gave it; `unknown` says why it is
    missing, `note` qualifies a known value (e.g. counted because there are no sales figures)."""
    return {
        "threshold": measure,
        "value": None if value is None else round(value, 6),
        "band": None if value is None else band(measure, value, edges[measure]),
        "edges": list(edges[measure]),
        "note": unknown if value is None else note,
    }


def _trend(figures: Figures, rate: float | None) -> tuple[float | None, str]:
    """The relative change of the frequency and what it compares ("rate" or "count")."""
    previous_rate = figures.previous_sales.complaint_rate(figures.previous_cases)
    if rate is not None and previous_rate:
        return (rate - previous_rate) / previous_rate, "rate"
    if figures.previous_cases:
        return (figures.cases - figures.previous_cases) / figures.previous_cases, "count"
    return None, ""


def score(figures: Figures, edges: dict[str, tuple[float, ...]]) -> Scored:
    """The measures, bands, probability, impact and level of one subject."""
    handling_total_hours = (figures.handling_hours or 0) * figures.resolved
    handling_cost = (hourly_cost() * Decimal(str(round(handling_total_hours, 2)))).quantize(Decimal("0.01"))
    cost = figures.compensation + handling_cost
    inputs = {
        "cases": figures.cases,
        "previous_cases": figures.previous_cases,
        "flagged": figures.flagged,
        "resolved": figures.resolved,
        "answers": figures.answers,
        "orders": figures.sales.orders,
        "previous_orders": figures.previous_sales.orders,
        "revenue": None if figures.sales.revenue is None else str(figures.sales.revenue),
        "compensation": str(figures.compensation),
        "handling_cost": str(handling_cost),
    }
    measures: dict[str, dict[str, Any]] = {}
    rate = figures.sales.complaint_rate(figures.cases)
    if rate is not None:
        measures["frequency"] = _entry(Measure.FREQUENCY_RATE, rate, edges)
    else:
        measures["frequency"] = _entry(Measure.FREQUENCY_COUNT, figures.cases, edges, note="no_sales")
    trend, basis = _trend(figures, rate)
    measures["trend"] = _entry(
        Measure.TREND,
        trend,
        edges,
        unknown="no_previous",
        note="trend_counts" if rate is not None and basis == "count" else "",
    )
    measures["handling_hours"] = _entry(Measure.HANDLING_HOURS, figures.handling_hours, edges, unknown="no_resolved")
    measures["satisfaction"] = _entry(Measure.SATISFACTION, figures.satisfaction, edges, unknown="no_answers")
    if figures.kind == SubjectKind.DEPARTMENT:
        cost_ratio, cost_note = None, "no_revenue_department"
    else:
        cost_ratio, cost_note = figures.sales.cost_ratio(cost), "no_revenue"
    measures["cost_ratio"] = _entry(Measure.COST_RATIO, cost_ratio, edges, unknown=cost_note)
    share = figures.flagged / figures.cases if figures.cases else None
    measures["flagged_share"] = _entry(Measure.FLAGGED_SHARE, share, edges)
    if figures.cases < min_cases():
        return Scored(assessed=False, measures=measures, inputs=inputs)
    bands = {name: entry["band"] for name, entry in measures.items()}
    probability = weighted_band(bands, PROBABILITY_WEIGHTS)
    impact = weighted_band(bands, IMPACT_WEIGHTS)
    assert probability is not None and impact is not None  # frequency and the share are always known
    return Scored(
        assessed=True,
        measures=measures,
        inputs=inputs,
        probability=probability,
        impact=impact,
        level=level_of(probability, impact),
    )


# --- reading the analytics tables --------------------------------------------------------------------


def flagged_q() -> Q:
    """Cases with a risk flag now, or escalated to L1 or above at any time (CaseFact.escalation_max)."""
    return Q(escalation_max__gte=1) | ~Q(complaint__risk_flags=[])


def _counts(filters: Filters, group: str, keys: list[Any], extra: Q | None = None) -> dict[Any, int]:
    """Cases per value of `group` (a CaseFact field), for the given values only."""
    counts: dict[Any, int] = {}
    for i in range(0, len(keys), 500):
        rows = facts(filters).filter(**{f"{group}__in": keys[i : i + 500]})
        if extra is not None:
            rows = rows.filter(extra)
        counts.update(rows.values_list(group).annotate(n=Count("pk")).order_by().values_list(group, "n"))
    return counts


def _sales_known(windows: Windows) -> bool:
    start, end = windows.previous[0], windows.current[1]
    return SalesVolume.objects.filter(date__gte=start, date__lte=end).exists()


def _breakdown_figures(kind: str, rows: list[dict[str, Any]], key_of: Any) -> list[Figures]:
    found = []
    for row in rows:
        if row["key"] in (None, ""):
            continue  # cases without a product / department are nobody's subject
        found.append(
            Figures(
                kind=kind,
                key=key_of(row),
                label=str(row["label"])[:200],
                department_id=row["key"] if kind == SubjectKind.DEPARTMENT else None,
                cases=row["received"],
                resolved=row["resolved"],
                handling_hours=row["handling_hours_working_mean"],
                satisfaction=row["satisfaction_rate"],
                answers=row["answers"],
                compensation=row["compensation_paid"],
            )
        )
    return found


def _with_previous_and_flags(found: list[Figures], current: Filters, previous: Filters, group: str, ids: Any) -> None:
    keys = [ids(f) for f in found]
    before = _counts(previous, group, keys)
    flagged = _counts(current, group, keys, flagged_q())
    for f, key in zip(found, keys, strict=True):
        f.previous_cases = before.get(key, 0)
        f.flagged = flagged.get(key, 0)


def products(windows: Windows, sales: bool) -> list[Figures]:
    current = Filters(*windows.current)
    previous = Filters(*windows.previous)
    found = _breakdown_figures(
        SubjectKind.PRODUCT, breakdown(current, "product", limit=max_subjects()), lambda r: str(r["key"])[:200]
    )
    _with_previous_and_flags(found, current, previous, "product", lambda f: f.key)
    if sales:
        for f in found:
            f.sales = totals(replace(current, product=f.key))
            f.previous_sales = totals(replace(previous, product=f.key))
    return found


def departments(windows: Windows) -> list[Figures]:
    current = Filters(*windows.current)
    previous = Filters(*windows.previous)
    found = _breakdown_figures(
        SubjectKind.DEPARTMENT, breakdown(current, "department", limit=max_subjects()), lambda r: str(r["code"])
    )
    _with_previous_and_flags(found, current, previous, "department_id", lambda f: f.department_id)
    return found


def org_units(windows: Windows, sales: bool) -> list[Figures]:
    """Each org unit with its whole subtree (as the analytics org-unit filter and the case queue count).
    Cases per unit are summed up the tree; the KPIs of units with enough cases come from
    analytics.selectors.kpis with the unit as filter."""
    from accounts.models import OrgUnit

    current = Filters(*windows.current)
    previous = Filters(*windows.previous)
    units = list(OrgUnit.objects.values_list("pk", "name", "path"))

    def per_subtree(direct: dict[Any, int]) -> dict[int, int]:
        """Each unit's own cases added to it and to every unit above it (the ids in its path)."""
        summed: dict[int, int] = defaultdict(int)
        for pk, _name, path in units:
            own = direct.get(pk, 0)
            if own:
                for part in path.strip("/").split("/"):
                    summed[int(part)] += own
        return summed

    def direct(filters: Filters, extra: Q | None = None) -> dict[Any, int]:
        rows = facts(filters).filter(org_unit__isnull=False)
        if extra is not None:
            rows = rows.filter(extra)
        return dict(rows.values_list("org_unit_id").annotate(n=Count("pk")).order_by().values_list("org_unit_id", "n"))

    now = per_subtree(direct(current))
    before = per_subtree(direct(previous))
    flagged = per_subtree(direct(current, flagged_q()))
    ranked = sorted((u for u in units if now[u[0]]), key=lambda u: (-now[u[0]], u[2]))[: max_subjects()]
    found = []
    for pk, name, _path in ranked:
        f = Figures(
            kind=SubjectKind.ORG_UNIT,
            key=str(pk),
            label=name[:200],
            org_unit_id=pk,
            cases=now[pk],
            previous_cases=before[pk],
            flagged=flagged[pk],
        )
        if f.cases >= min_cases():
            unit_filters = replace(current, org_unit=pk)
            figures = kpis(unit_filters)
            f.resolved = figures["resolved"]
            f.handling_hours = figures["handling_hours_working_mean"]
            f.satisfaction = figures["satisfaction_rate"]
            f.answers = figures["answers"]
            f.compensation = figures["compensation_paid"]
            if sales:
                f.sales = totals(unit_filters)
                f.previous_sales = totals(replace(previous, org_unit=pk))
        found.append(f)
    return found


def gather(windows: Windows) -> list[Figures]:
    """Every subject with at least one case in the window, of the three kinds."""
    sales = _sales_known(windows)
    return [*products(windows, sales), *org_units(windows, sales), *departments(windows)]


def thresholds() -> dict[str, tuple[float, ...]]:
    """The band edges in force: the RiskThreshold rows, the defaults for a measure without one."""
    from .models import RiskThreshold

    edges: dict[str, tuple[float, ...]] = dict(DEFAULT_EDGES)
    for row in RiskThreshold.objects.all():
        edges[row.measure] = row.edges
    return edges
