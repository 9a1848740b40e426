"""Forecast and spikes (DESIGN.md §7): daily complaint counts per dimension value, a four-week forecast
with 80 % and 95 % intervals, and spike detection against the forecast.

- Counts: complaints by the day they were received in the organisation's time zone (settings.TIME_ZONE),
  merged duplicates left out, per value of a dimension: the total, the top-level category, the product
  (product_name, or the SKU where no name was given), the org unit, and the unit's region (its
  nearest unit of kind region, itself included). A value's series starts on its
  first complaint in the window (default 180 days) and ends on the last *complete* day (yesterday):
  today's partial count would read as a drop.
- Forecast: a Poisson GLM (statsmodels) with day-of-week effects, a holiday indicator (a weekday that is
  no working day, counted from a Sunday's level) and a make-up working day indicator (a weekend day that
  is one, 调休, counted from a Wednesday's level) from complaints.calendar, and a linear trend once there
  are 8 weeks. The holiday and make-up effects are fitted once the history holds 3 such days. When the
  Pearson dispersion shows overdispersion the model is refitted as a negative binomial with the moment
  estimate of alpha.
  Intervals are simulated: the linear predictor with its standard error (parameter uncertainty), then
  the count (Poisson or gamma-Poisson noise). From 14 to 27 days: a seasonal mean (working days and
  days off apart). Below 14 days or 20 complaints: NotEnoughData ("数据不足"), never a crash.
- Spikes: the last 1 and the last 7 complete days of each value against the forecast fitted without
  them: one-sided test P(Y ≥ observed) under the forecast (Poisson; negative binomial when the series
  is overdispersed) below 0.01, at least 5 complaints and +50 % more than expected. An alert keeps the
  top phrases of the new complaints: jieba words and word bigrams (Chinese and English alike), scored
  by weighted log-odds with an informative Dirichlet prior (Monroe et al. 2008) against the value's
  earlier complaints. A phrase must occur in at least 3 of the new complaints, so that no single
  complainant's name, number or wording can surface.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.choices import Role

from .models import SpikeAlert, SpikeDetectionRun, TrendDimension

WINDOW_DAYS = 180  # the history a forecast is fitted on
HORIZON_DAYS = 28
MAX_HORIZON_DAYS = 90
MIN_DAYS = 14  # below this, or below MIN_COMPLAINTS, "not enough data"
MIN_COMPLAINTS = 20
FULL_MODEL_DAYS = 28  # from here the GLM with weekday effects; below, a seasonal mean
TREND_DAYS = 56  # from here a trend term
MIN_INDICATOR_DAYS = 3  # days a weekday, holiday or make-up column needs in the history to be fitted
SPIKE_WINDOWS = (1, 7)  # the last N complete days tested against the forecast
SPIKE_P_VALUE = 0.01
SPIKE_MIN_RISE = 5  # complaints more than expected
SPIKE_MIN_RATIO = 1.5  # observed ≥ expected × this (+50 %)
PHRASES = 5
PHRASE_MIN_DOCS = 3  # a phrase must occur in this many new complaints (no single person's words)
BASELINE_TEXTS = 2000  # earlier complaints the phrases are contrasted with (the latest)
ALERT_COMPLAINT_IDS = 500
SIMULATIONS = 4000
MAX_SE = 1.0  # a factor e: the cap on the linear predictor's standard error (rarely seen days)
NONE_VALUE = "-"  # complaints without a category

TREND_ROLES = frozenset({Role.SUPERVISOR, Role.MANAGER, Role.ANALYST, Role.AUDITOR, Role.ADMIN})
ACKNOWLEDGE_ROLES = TREND_ROLES - {Role.AUDITOR}  # auditors read only

WorkingDay = Callable[[date], bool]


class NotEnoughData(Exception):
    """A series too short or too thin for a forecast: an answer, not an error."""

    def __init__(self, days: int, complaints: int) -> None:
        self.days = days
        self.complaints = complaints
        super().__init__(f"not enough data: {days} days, {complaints} complaints")

    def message(self) -> str:
        return _(
            "数据不足：需要至少 %(min_days)d 天、%(min_count)d 件投诉的历史（现有 %(days)d 天、%(count)d 件）。"
        ) % {
            "min_days": MIN_DAYS,
            "min_count": MIN_COMPLAINTS,
            "days": self.days,
            "count": self.complaints,
        }


# --- time -----------------------------------------------------------------------------------------------


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_today(now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), zone()).date()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone())


def _working_day(day: date) -> bool:
    from complaints import calendar

    return calendar.is_working_day(day)


# --- the model ------------------------------------------------------------------------------------------


@dataclass
class Forecast:
    method: str  # "poisson_glm", "negbin_glm" or "seasonal_mean"
    days: list[date]
    expected: np.ndarray
    lo80: np.ndarray
    hi80: np.ndarray
    lo95: np.ndarray
    hi95: np.ndarray
    alpha: float  # negative-binomial dispersion (variance = mu + alpha mu²); 0 for Poisson
    history_days: int
    history_complaints: int

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "date": day.isoformat(),
                "expected": round(float(self.expected[i]), 2),
                "lo80": int(self.lo80[i]),
                "hi80": int(self.hi80[i]),
                "lo95": int(self.lo95[i]),
                "hi95": int(self.hi95[i]),
            }
            for i, day in enumerate(self.days)
        ]


def _design(days: Sequence[date], origin: date, working_day: WorkingDay, *, full: bool, trend: bool) -> np.ndarray:
    rows = []
    for day in days:
        works = working_day(day)
        weekend = day.weekday() >= 5
        if full:
            holiday, make_up = not works and not weekend, works and weekend
            # A holiday starts from a Sunday's level and a make-up working day from a Wednesday's; the
            # indicators then learn how they differ, once the history holds some (dropped otherwise).
            weekday = 6 if holiday else (2 if make_up else day.weekday())
            row = [1.0] + [1.0 if weekday == k else 0.0 for k in range(1, 7)]
            row += [1.0 if holiday else 0.0, 1.0 if make_up else 0.0]
            if trend:
                row.append((day - origin).days / 365.0)
        else:
            row = [1.0, 0.0 if works else 1.0]
        rows.append(row)
    return np.asarray(rows, dtype=float)


def _dispersion(y: np.ndarray, mu: np.ndarray, params: int) -> float:
    """The moment estimate of the negative-binomial alpha (Cameron & Trivedi's auxiliary regression
    (y−μ)² − y = α μ²), 0 when the counts are not overdispersed."""
    pearson = float(np.sum((y - mu) ** 2 / np.maximum(mu, 1e-9))) / max(1, len(y) - params)
    if pearson <= 1.1:
        return 0.0
    alpha = float(np.sum((y - mu) ** 2 - y) / max(np.sum(mu**2), 1e-9))
    return min(max(alpha, 0.0), 5.0)


def _glm(y: np.ndarray, x: np.ndarray, xf: np.ndarray) -> tuple[str, np.ndarray, np.ndarray, float]:
    """Fit a Poisson GLM (a negative binomial when overdispersed); the linear predictor for the future
    rows and its standard error."""
    import warnings

    import statsmodels.api as sm

    # A column is fitted when at least MIN_INDICATOR_DAYS days have it (one holiday is no evidence of
    # how holidays go); otherwise it is dropped and its days keep the level of the weekday they count as.
    keep = (x.sum(axis=0) >= MIN_INDICATOR_DAYS) & (np.ptp(x, axis=0) > 0)
    keep[0] = True  # the intercept
    if x.shape[1] > 9:
        keep[9] = np.ptp(x[:, 9]) > 0  # the trend
    x, xf = x[:, keep], xf[:, keep]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on days with no complaints
        result = sm.GLM(y, x, family=sm.families.Poisson()).fit()
        alpha = _dispersion(y, result.mu, x.shape[1])
        method = "poisson_glm"
        if alpha > 0:
            result = sm.GLM(y, x, family=sm.families.NegativeBinomial(alpha=alpha)).fit()
            method = "negbin_glm"
    params = np.asarray(result.params, dtype=float)
    cov = np.asarray(result.cov_params(), dtype=float)
    if not (np.all(np.isfinite(params)) and np.all(np.isfinite(cov))):
        raise ArithmeticError("the GLM did not converge")
    eta = xf @ params
    se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", xf, cov, xf), 0.0))
    return method, eta, se, alpha


def _seasonal_mean(y: np.ndarray, off: np.ndarray, off_future: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The mean of working days and of days off (the overall mean when there are fewer than 2 days off),
    on the log scale with the standard error of a Poisson mean."""
    eta, se = np.empty(len(off_future)), np.empty(len(off_future))
    overall = (float(y.sum()), len(y))
    groups = {}
    for flag in (False, True):
        mask = off == flag
        groups[flag] = (float(y[mask].sum()), int(mask.sum())) if mask.sum() >= 2 else overall
    for i, flag in enumerate(off_future):
        total, n = groups[bool(flag)]
        total = max(total, 0.5)  # an all-zero group: half a complaint, not log(0)
        eta[i] = math.log(total / n)
        se[i] = 1.0 / math.sqrt(total)
    mu = np.array([groups[bool(f)][0] / groups[bool(f)][1] for f in off])
    return eta, se, _dispersion(y, np.maximum(mu, 1e-9), 2)


def _simulate(eta: np.ndarray, se: np.ndarray, alpha: float, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    draws = eta[None, :] + np.minimum(se, MAX_SE)[None, :] * rng.standard_normal((SIMULATIONS, len(eta)))
    mu = np.exp(np.minimum(draws, 30.0))
    if alpha > 0:
        mu = rng.gamma(shape=1.0 / alpha, scale=alpha * mu)
    counts = rng.poisson(mu)
    lo95, lo80, hi80, hi95 = np.quantile(counts, [0.025, 0.10, 0.90, 0.975], axis=0)
    return {"lo95": lo95, "lo80": lo80, "hi80": hi80, "hi95": hi95}


def fit(
    counts: Sequence[int],
    start: date,
    *,
    horizon: int = HORIZON_DAYS,
    working_day: WorkingDay | None = None,
) -> Forecast:
    """Forecast the `horizon` days after a daily series that starts on `start`. Raises NotEnoughData."""
    working_day = working_day or _working_day
    y = np.asarray(counts, dtype=float)
    n, total = len(y), int(y.sum())
    if n < MIN_DAYS or total < MIN_COMPLAINTS:
        raise NotEnoughData(n, total)
    days = [start + timedelta(days=i) for i in range(n)]
    future = [start + timedelta(days=n + i) for i in range(horizon)]
    method = ""
    if n >= FULL_MODEL_DAYS:
        trend = n >= TREND_DAYS
        x = _design(days, start, working_day, full=True, trend=trend)
        xf = _design(future, start, working_day, full=True, trend=trend)
        try:
            method, eta, se, alpha = _glm(y, x, xf)
        except (ArithmeticError, ValueError, np.linalg.LinAlgError):
            method = ""  # a degenerate series (e.g. all on one weekday): the seasonal mean below
    if not method:
        off = np.array([not working_day(d) for d in days])
        off_future = np.array([not working_day(d) for d in future])
        eta, se, alpha = _seasonal_mean(y, off, off_future)
        method = "seasonal_mean"
    bands = _simulate(eta, se, alpha)
    return Forecast(
        method=method,
        days=future,
        expected=np.exp(eta),
        alpha=alpha,
        history_days=n,
        history_complaints=total,
        **bands,
    )


def upper_tail(observed: int, expected: Sequence[float], alpha: float) -> float:
    """P(Y ≥ observed) for the sum of the window's days under the forecast: Poisson, or a negative
    binomial with the same mean and variance Σ(μ + α μ²) when the series is overdispersed."""
    from scipy import stats

    mean = float(np.sum(expected))
    if observed <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    if alpha <= 0:
        return float(stats.poisson.sf(observed - 1, mean))
    variance = mean + alpha * float(np.sum(np.square(expected)))
    size = mean**2 / (variance - mean)
    return float(stats.nbinom.sf(observed - 1, size, size / (size + mean)))


# --- counts ---------------------------------------------------------------------------------------------


@dataclass
class Series:
    dimension: str
    value: str
    label: str
    start: date
    counts: list[int] = field(default_factory=list)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(len(self.counts))]


_FIELDS = {
    TrendDimension.TOTAL: (),
    TrendDimension.CATEGORY: (
        "category__code",
        "category__name",
        "category__parent__code",
        "category__parent__name",
    ),
    TrendDimension.PRODUCT: ("product_name", "product_sku"),
    TrendDimension.ORG_UNIT: ("org_unit_id", "org_unit__name"),
    TrendDimension.REGION: ("org_unit__path",),
}


def _regions() -> dict[str, tuple[str, str]]:
    """Every unit of kind region by its path: (id, name)."""
    from accounts.choices import OrgUnitKind
    from accounts.models import OrgUnit

    units = OrgUnit.objects.filter(kind=OrgUnitKind.REGION).values_list("path", "pk", "name")
    return {path: (str(pk), name) for path, pk, name in units}


def _region_of(path: str, regions: dict[str, tuple[str, str]]) -> tuple[str, str] | None:
    """The nearest unit of kind region on a unit's path ("/1/5/12/"), the unit itself included."""
    ids = path.strip("/").split("/") if path else []
    for depth in range(len(ids), 0, -1):
        found = regions.get("/" + "/".join(ids[:depth]) + "/")
        if found is not None:
            return found
    return None


def _key(dimension: str, row: dict[str, Any], regions: dict[str, tuple[str, str]]) -> tuple[str, str] | None:
    """(value, label) of a row grouped by _FIELDS; None when the case has no value for the dimension."""
    if dimension == TrendDimension.TOTAL:
        return "all", _("全部投诉")
    if dimension == TrendDimension.CATEGORY:
        if row["category__parent__code"]:
            return row["category__parent__code"], row["category__parent__name"]
        if row["category__code"]:
            return row["category__code"], row["category__name"]
        return NONE_VALUE, _("未分类")
    if dimension == TrendDimension.PRODUCT:
        name, sku = row["product_name"].strip(), row["product_sku"].strip()
        return (name, name) if name else ((sku, sku) if sku else None)
    if dimension == TrendDimension.REGION:
        return _region_of(row["org_unit__path"] or "", regions)
    if row["org_unit_id"] is None:
        return None
    return str(row["org_unit_id"]), row["org_unit__name"]


def value_q(dimension: str, value: str) -> Q:
    """The cases of one value of a dimension."""
    if dimension == TrendDimension.TOTAL:
        return Q()
    if dimension == TrendDimension.CATEGORY:
        if value == NONE_VALUE:
            return Q(category__isnull=True)
        return Q(category__parent__code=value) | Q(category__parent__isnull=True, category__code=value)
    if dimension == TrendDimension.PRODUCT:
        return Q(product_name=value) | Q(product_name="", product_sku=value)
    if not value.isdigit():
        return Q(pk__in=[])
    if dimension == TrendDimension.REGION:
        return _region_q(int(value))
    return Q(org_unit_id=int(value))


def _region_q(unit_id: int) -> Q:
    """The cases of a region's units, less those of the regions inside it (they keep their own)."""
    from accounts.choices import OrgUnitKind
    from accounts.models import OrgUnit

    path = OrgUnit.objects.filter(pk=unit_id, kind=OrgUnitKind.REGION).values_list("path", flat=True).first()
    if not path:
        return Q(pk__in=[])
    q = Q(org_unit__path__startswith=path)
    inner = OrgUnit.objects.filter(kind=OrgUnitKind.REGION, path__startswith=path).exclude(pk=unit_id)
    for inner_path in inner.values_list("path", flat=True):
        q &= ~Q(org_unit__path__startswith=inner_path)
    return q


def base_queryset() -> QuerySet:
    from complaints.choices import Status
    from complaints.models import Complaint

    return Complaint.objects.exclude(status=Status.MERGED)


def daily_counts(queryset: QuerySet, dimension: str, *, end: date, window_days: int = WINDOW_DAYS) -> dict[str, Series]:
    """Every value's daily series over the window ending on `end` (inclusive), each starting on the
    value's first complaint in the window. One grouped query."""
    first = end - timedelta(days=window_days - 1)
    rows = (
        queryset.filter(received_at__gte=_midnight(first), received_at__lt=_midnight(end + timedelta(days=1)))
        .annotate(day=TruncDate("received_at", tzinfo=zone()))
        .values("day", *_FIELDS[dimension])
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_value: dict[str, dict[date, int]] = defaultdict(dict)
    labels: dict[str, str] = {}
    regions = _regions() if dimension == TrendDimension.REGION else {}
    for row in rows:
        key = _key(dimension, row, regions)
        if key is None:
            continue
        value, label = key
        labels[value] = label
        day = row["day"]
        by_value[value][day] = by_value[value].get(day, 0) + row["n"]
    result = {}
    for value, per_day in by_value.items():
        start = min(per_day)
        counts = [per_day.get(start + timedelta(days=i), 0) for i in range((end - start).days + 1)]
        result[value] = Series(dimension, value, labels[value], start, counts)
    return result


def series_for(queryset: QuerySet, dimension: str, value: str, *, end: date, window_days: int = WINDOW_DAYS) -> Series:
    found = daily_counts(queryset.filter(value_q(dimension, value)), dimension, end=end, window_days=window_days)
    if dimension != TrendDimension.TOTAL:
        found = {k: s for k, s in found.items() if k == value}
    if found:
        return next(iter(found.values()))
    return Series(dimension, value, label_of(dimension, value), end + timedelta(days=1), [])


def label_of(dimension: str, value: str) -> str:
    from accounts.choices import OrgUnitKind
    from accounts.models import OrgUnit
    from complaints.models import Category

    if dimension == TrendDimension.TOTAL:
        return _("全部投诉")
    if dimension == TrendDimension.CATEGORY:
        if value == NONE_VALUE:
            return _("未分类")
        return Category.objects.filter(code=value).values_list("name", flat=True).first() or value
    if dimension in (TrendDimension.ORG_UNIT, TrendDimension.REGION) and value.isdigit():
        units = OrgUnit.objects.filter(pk=int(value))
        if dimension == TrendDimension.REGION:
            units = units.filter(kind=OrgUnitKind.REGION)
        return units.values_list("name", flat=True).first() or value
    return value


def values_for(queryset: QuerySet, dimension: str, *, end: date, limit: int = 50) -> list[dict[str, Any]]:
    """The values of a dimension with the most complaints in the window, for a chooser."""
    found = daily_counts(queryset, dimension, end=end)
    ranked = sorted(found.values(), key=lambda s: (-sum(s.counts), s.label))[:limit]
    return [{"value": s.value, "label": s.label, "complaints": sum(s.counts)} for s in ranked]


# --- who sees what --------------------------------------------------------------------------------------


def trend_scope(user: Any) -> tuple[QuerySet, bool]:
    """The cases a user's trend counts are made of, and whether that is the whole organisation.
    Analysts and auditors read every case, so they see org-wide trends; admins too (counts and
    phrases only, no case). Supervisors and managers see the trends of the cases they may see."""
    from complaints.permissions import Principal

    principal = Principal.of(user)
    if not principal.has(*TREND_ROLES):
        raise PermissionDenied
    if principal.sees_everything or principal.has(Role.ADMIN):
        return base_queryset(), True
    return base_queryset().filter(principal.scope_q()), False


def forecast_for(user: Any, dimension: str, value: str, *, horizon: int = HORIZON_DAYS) -> dict[str, Any]:
    """What the page and the API show: the history, the forecast and its intervals, or "not enough data"."""
    queryset, org_wide = trend_scope(user)
    end = local_today() - timedelta(days=1)
    if dimension == TrendDimension.TOTAL:
        value = "all"
    if value:
        series = series_for(queryset, dimension, value, end=end)
    else:  # no value chosen (none has complaints yet): an empty series, not the cases without a value
        series = Series(dimension, value, "", end + timedelta(days=1), [])
    label = series.label
    if not org_wide and not series.counts and dimension in (TrendDimension.ORG_UNIT, TrendDimension.REGION):
        label = value  # no case of theirs there: a unit's name is not told by its id alone
    answer: dict[str, Any] = {
        "dimension": dimension,
        "value": value,
        "label": label,
        "org_wide": org_wide,
        "history": [{"date": d.isoformat(), "count": c} for d, c in zip(series.days, series.counts, strict=True)],
        "history_complaints": sum(series.counts),
    }
    try:
        forecast = fit(series.counts, series.start, horizon=horizon)
    except NotEnoughData as shortage:
        answer.update(status="not_enough_data", message=shortage.message(), method="", forecast=[])
        return answer
    answer.update(status="ok", message="", method=forecast.method, alpha=round(forecast.alpha, 4))
    answer["forecast"] = forecast.rows()
    return answer


def alerts_for(user: Any, *, open_only: bool = True, limit: int = 100) -> list[SpikeAlert]:
    """The alerts a user may see: all of them org-wide; for supervisors and managers those with at
    least one complaint they may see."""
    queryset, org_wide = trend_scope(user)
    alerts = SpikeAlert.objects.all()
    if open_only:
        alerts = alerts.filter(acknowledged_at__isnull=True)
    alerts = list(alerts.select_related("acknowledged_by").order_by("-day", "-rise_percent")[: limit * 4])
    if not org_wide:
        wanted = {pk for a in alerts for pk in a.complaint_ids}
        visible = set(queryset.filter(pk__in=wanted).values_list("pk", flat=True))
        alerts = [a for a in alerts if visible.intersection(a.complaint_ids)]
    return alerts[:limit]


def acknowledge(alert_id: int, *, actor: Any) -> SpikeAlert:
    """Mark an alert seen (once; acknowledging again changes nothing)."""
    from django.http import Http404

    from complaints.permissions import Principal

    if not Principal.of(actor).has(*ACKNOWLEDGE_ROLES):
        raise PermissionDenied
    queryset, org_wide = trend_scope(actor)
    with transaction.atomic():
        alert = SpikeAlert.objects.select_for_update().filter(pk=alert_id).first()
        if alert is None or not (org_wide or queryset.filter(pk__in=alert.complaint_ids).exists()):
            raise Http404("alert not found")
        if alert.acknowledged_at is None:
            alert.acknowledged_by = actor
            alert.acknowledged_at = timezone.now()
            alert.save(update_fields=["acknowledged_by", "acknowledged_at"])
    return alert


def alert_row(alert: SpikeAlert) -> dict[str, Any]:
    return {
        "id": alert.pk,
        "dimension": alert.dimension,
        "dimension_display": alert.get_dimension_display(),
        "value": alert.value,
        "value_label": alert.value_label,
        "day": alert.day.isoformat(),
        "window_days": alert.window_days,
        "observed": alert.observed,
        "expected": round(alert.expected, 2),
        "rise_percent": round(alert.rise_percent, 1),
        "p_value": alert.p_value,
        "phrases": alert.phrases,
        "method": alert.method,
        "created_at": alert.created_at.isoformat(),
        "acknowledged_by": alert.acknowledged_by.get_username() if alert.acknowledged_by else None,
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
    }


# --- phrases --------------------------------------------------------------------------------------------

_CJK = re.compile(r"[\u3400-\u9fff]+")
_LATIN = re.compile(r"[a-z][a-z'-]*[a-z]")
_SPACE = re.compile(r"\s+")
_STOP_ZH = frozenset(
    "我们 你们 他们 她们 一个 一些 没有 什么 这个 那个 这些 那些 因为 所以 但是 就是 还是 已经 可以 自己 现在 "
    "时候 然后 如果 这样 那样 怎么 为什么 进行 以及 而且 或者 还有 只是 不是 不能 不会 一直 一下 之后 之前 "
    "今天 昨天 非常 特别 比较 真的 这么 那么 我的 你们的 他们的 的话 这种 那种 的是 就是说 也是 都是".split()
)
_STOP_EN = frozenset(
    "the and for that this with was were are have has had not but you your they them their there from "
    "which what when who will would could should been being into about after before than then also just "
    "very its our out off all any can did does doing she her his him how more most other some such only "
    "own same too why where while again further once here both each few nor xxxx xx my me we us an "
    "am is it of on or so to up as at be by do if in no".split()
)


def _tokens(text: str) -> list[list[str]]:
    """Runs of words (a run ends at punctuation): jieba words of 2+ Chinese characters, Latin words
    of 3+ letters, lower case; stop words, numbers and single characters left out."""
    from complaints.search import jieba

    runs: list[list[str]] = [[]]
    for piece in jieba().lcut(text.lower()[:3000]):
        if _SPACE.fullmatch(piece):
            continue
        if _CJK.fullmatch(piece):
            if len(piece) >= 2 and piece not in _STOP_ZH:
                runs[-1].append(piece)
        elif _LATIN.fullmatch(piece):
            if len(piece) >= 3 and piece not in _STOP_EN:
                runs[-1].append(piece)
        elif not piece.isalnum() and runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def _terms(text: str) -> set[str]:
    """The document's words and adjacent word pairs (the pair joined as written: no space in Chinese)."""
    found: set[str] = set()
    for run in _tokens(text):
        found.update(run)
        for left, right in itertools.pairwise(run):
            latin = left[-1].isascii() or right[0].isascii()
            found.add(f"{left} {right}" if latin else left + right)
    return found


def top_phrases(new_texts: Iterable[str], baseline_texts: Iterable[str], k: int = PHRASES) -> list[dict[str, Any]]:
    """The words and bigrams most typical of the new texts against the baseline: weighted log-odds with
    an informative Dirichlet prior (the two sets together), on document counts, z-scored."""
    new_docs = [_terms(t) for t in new_texts]
    base_docs = [_terms(t) for t in baseline_texts]
    new_counts = Counter(term for doc in new_docs for term in doc)
    base_counts = Counter(term for doc in base_docs for term in doc)
    min_docs = min(PHRASE_MIN_DOCS, max(1, len(new_docs)))
    n_new, n_base = sum(new_counts.values()), sum(base_counts.values())
    prior_total = 0.5 * (n_new + n_base)
    if not n_new or not prior_total:
        return []
    scored = []
    for term, y_new in new_counts.items():
        if y_new < min_docs:
            continue
        y_base = base_counts.get(term, 0)
        a = max(0.5 * (y_new + y_base), 0.01)
        odds_new = math.log((y_new + a) / max(n_new + prior_total - y_new - a, 1e-9))
        odds_base = math.log((y_base + a) / max(n_base + prior_total - y_base - a, 1e-9))
        z = (odds_new - odds_base) / math.sqrt(1.0 / (y_new + a) + 1.0 / (y_base + a))
        if z > 0:
            scored.append((z, y_new, term))
    scored.sort(key=lambda item: (-item[0], -item[1], item[2]))
    chosen: list[tuple[float, int, str]] = []
    for z, y_new, term in scored:
        if any(term in other for _z, _y, other in chosen):
            continue  # a word of a pair already chosen
        chosen = [c for c in chosen if c[2] not in term]  # a pair replaces its own word
        chosen.append((z, y_new, term))
        if len(chosen) == k:
            break
    docs = max(1, len(new_docs))
    return [{"phrase": t, "count": y, "share": round(y / docs, 2), "score": round(z, 2)} for z, y, t in chosen]


# --- detection ------------------------------------------------------------------------------------------


@dataclass
class Spike:
    series: Series
    day: date
    window_days: int
    observed: int
    expected: float
    p_value: float
    method: str

    @property
    def rise_percent(self) -> float:
        return 100.0 * (self.observed - self.expected) / max(self.expected, 1e-9)


def spike_in(
    series: Series, *, windows: Sequence[int] = SPIKE_WINDOWS, working_day: WorkingDay | None = None
) -> Spike | None:
    """The shortest window whose last days rose significantly above the forecast fitted without them."""
    for window in sorted(windows):
        if len(series.counts) <= window:
            continue
        observed = sum(series.counts[-window:])
        if observed < SPIKE_MIN_RISE:
            continue
        try:
            forecast = fit(series.counts[:-window], series.start, horizon=window, working_day=working_day)
        except NotEnoughData:
            return None  # a shorter history only for the longer window: no use trying
        expected = float(forecast.expected.sum())
        if observed - expected < SPIKE_MIN_RISE or observed < SPIKE_MIN_RATIO * expected:
            continue
        p_value = upper_tail(observed, forecast.expected, forecast.alpha)
        if p_value < SPIKE_P_VALUE:
            day = series.start + timedelta(days=len(series.counts) - 1)
            return Spike(series, day, window, observed, expected, p_value, forecast.method)
    return None


def _texts(queryset: QuerySet, start: date, end: date, limit: int | None = None) -> tuple[list[int], list[str]]:
    rows = queryset.filter(received_at__gte=_midnight(start), received_at__lt=_midnight(end + timedelta(days=1)))
    rows = rows.order_by("-received_at").values_list("pk", "title", "description")
    if limit:
        rows = rows[:limit]
    ids, texts = [], []
    for pk, title, description in rows:
        ids.append(pk)
        texts.append(f"{title}\n{description}" if title else description)
    return ids, texts


def _recipients(complaint_ids: list[int]) -> list[Any]:
    """Supervisors of the departments and managers of the units of the spike's complaints; all active
    supervisors and managers when none is found (e.g. cases not yet routed)."""
    from accounts.models import Membership, User
    from complaints.models import Complaint

    cases = list(Complaint.objects.filter(pk__in=complaint_ids).values_list("department_id", "org_unit__path"))
    departments = {d for d, _p in cases if d}
    paths = [p for _d, p in cases if p]
    memberships = Membership.objects.filter(user__is_active=True).filter(
        Q(role=Role.SUPERVISOR, department_id__in=departments) | Q(role=Role.MANAGER, org_unit__isnull=False)
    )
    users: set[int] = set()
    for user_id, role, unit_path in memberships.values_list("user_id", "role", "org_unit__path"):
        if role == Role.SUPERVISOR or any(p.startswith(unit_path) for p in paths):
            users.add(user_id)
    if not users:
        users = set(
            Membership.objects.filter(user__is_active=True, role__in=[Role.SUPERVISOR, Role.MANAGER]).values_list(
                "user_id", flat=True
            )
        )
    return list(User.objects.filter(pk__in=users))


def _notify(alert: SpikeAlert) -> int:
    from accounts.models import Notification

    with translation.override(settings.LANGUAGE_CODE):
        message = _(
            "投诉激增：%(dimension)s“%(label)s”截至 %(day)s 的 %(window)d 天内 %(observed)d 件，"
            "预期 %(expected).1f 件（+%(rise).0f%%）。%(phrases)s"
        ) % {
            "dimension": "" if alert.dimension == TrendDimension.TOTAL else alert.get_dimension_display(),
            "label": alert.value_label,
            "day": alert.day.isoformat(),
            "window": alert.window_days,
            "observed": alert.observed,
            "expected": alert.expected,
            "rise": alert.rise_percent,
            "phrases": (_("高频短语：") + "、".join(p["phrase"] for p in alert.phrases)) if alert.phrases else "",
        }
    recipients = _recipients(alert.complaint_ids)
    Notification.objects.bulk_create(
        [Notification(recipient=u, kind="spike_alert", message=message[:500]) for u in recipients]
    )
    return len(recipients)


def _raise(spike: Spike) -> SpikeAlert | None:
    """Store the alert (with the new complaints' phrases) unless this spike was already raised: the same
    day and window, or an alert of the same window whose days overlap (a rise that goes on)."""
    s = spike.series
    recent = SpikeAlert.objects.filter(
        dimension=s.dimension,
        value=s.value[:200],
        window_days=spike.window_days,
        day__gt=spike.day - timedelta(days=spike.window_days),
        day__lte=spike.day,
    )
    if recent.exists():
        return None
    cases = base_queryset().filter(value_q(s.dimension, s.value))
    first_new = spike.day - timedelta(days=spike.window_days - 1)
    ids, new_texts = _texts(cases, first_new, spike.day)
    _ids, baseline = _texts(cases, s.start, first_new - timedelta(days=1), limit=BASELINE_TEXTS)
    try:
        with transaction.atomic():
            alert = SpikeAlert.objects.create(
                dimension=s.dimension,
                value=s.value[:200],
                value_label=s.label[:200],
                day=spike.day,
                window_days=spike.window_days,
                observed=spike.observed,
                expected=spike.expected,
                rise_percent=spike.rise_percent,
                p_value=spike.p_value,
                phrases=top_phrases(new_texts, baseline),
                complaint_ids=sorted(ids)[:ALERT_COMPLAINT_IDS],
                method=spike.method,
            )
    except IntegrityError:  # raised meanwhile by another worker
        return None
    return alert


# The most specific dimension first: a rise on one product also lifts its unit, its category and the
# total; those alerts are kept and shown, but nobody is told about the same complaints twice.
DETECTION_ORDER = (
    TrendDimension.PRODUCT,
    TrendDimension.ORG_UNIT,
    TrendDimension.REGION,
    TrendDimension.CATEGORY,
    TrendDimension.TOTAL,
)


def detect(*, end: date | None = None, windows: Sequence[int] = SPIKE_WINDOWS) -> list[SpikeAlert]:
    """Test every value of every dimension over the days up to `end` (default yesterday); store new
    alerts and tell the supervisors and managers, unless an alert already told explains the rise."""
    end = end or local_today() - timedelta(days=1)
    raised = []
    told: set[int] = set()
    for dimension in DETECTION_ORDER:
        for series in daily_counts(base_queryset(), dimension, end=end).values():
            if sum(series.counts[-max(windows) :]) < SPIKE_MIN_RISE:
                continue  # cannot rise by 5: no model needed
            spike = spike_in(series, windows=windows)
            if spike is None:
                continue
            alert = _raise(spike)
            if alert is None:
                continue
            raised.append(alert)
            if len(told.intersection(alert.complaint_ids)) < alert.observed - alert.expected:
                _notify(alert)
                told.update(alert.complaint_ids)
    return raised


def detect_spikes(now: datetime | None = None) -> dict[str, Any]:
    """The scheduler's job: at most once per clock hour (one worker wins the hour's row), and the models
    are fitted only when the day or the newest complaint changed since the last run."""
    from complaints.models import Complaint

    now = now or timezone.now()
    local = timezone.localtime(now, zone())
    hour = local.replace(minute=0, second=0, microsecond=0)
    if SpikeDetectionRun.objects.filter(hour=hour).exists():
        return {"skipped": "ran this hour"}
    day = local.date() - timedelta(days=1)
    last_id = Complaint.objects.aggregate(last=Max("pk"))["last"] or 0
    previous = SpikeDetectionRun.objects.order_by("-hour").first()
    unchanged = previous is not None and previous.day == day and previous.last_complaint_id == last_id
    try:
        with transaction.atomic():
            run = SpikeDetectionRun.objects.create(
                hour=hour, day=day, last_complaint_id=last_id, started_at=now, skipped=unchanged
            )
    except IntegrityError:
        return {"skipped": "ran this hour"}
    if unchanged:
        return {"skipped": "nothing changed"}
    alerts = detect(end=day)
    run.finished_at = timezone.now()
    run.summary = {"alerts": [a.pk for a in alerts]}
    run.save(update_fields=["finished_at", "summary"])
    return {"alerts": len(alerts)}
