"""What the dashboard page shows: the KPIs and every chart's data, each item with its drill-down link
to the case list. Reads CaseFact/DailyRollup (analytics.selectors) and the spike alerts, never the
complaints table."""

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from .filters import Filters
from .selectors import breakdown, handling_histogram, kpis

FORECAST_HORIZON = 14


def case_list_url(filters: Filters, **extra: str) -> str:
    """The staff case queue narrowed to the chart's cases: it reads the received period, category,
    channel, priority, org unit (with its subtree), department, owner, region, product, the SLA result
    of acknowledgement and resolution (`ack`, `resolution`) and a handling-time bucket (`handling`) as
    the figures count them (complaints.views.DRILL_FILTERS)."""
    params: dict[str, str] = {"scope": "all", "state": "all"}
    params["from"] = filters.date_from.isoformat()
    params["to"] = filters.date_to.isoformat()
    for name in ("category", "channel", "priority", "department", "product"):
        value = getattr(filters, name)
        if value:
            params[name] = value
    if filters.org_unit is not None:
        params["org_unit"] = str(filters.org_unit)
    params.update({k: v for k, v in extra.items() if v})
    return reverse("complaints:queue") + "?" + urlencode(params)


def _drill_param(dimension: str) -> str:
    return {"owner": "owner", "subcategory": "category", "region": "region"}.get(dimension, dimension)


def _bar_url(filters: Filters, dimension: str, row: dict[str, Any]) -> str | None:
    """The bar's cases; None (no link) for the "(未填写)" bar, which the queue cannot select: without the
    value the link would list every case of the period instead."""
    value = row["code"] or row["key"]
    if value in (None, ""):
        return None
    return case_list_url(filters, **{_drill_param(dimension): str(value)})


def _month_url(filters: Filters, month: str) -> str:
    """The cases received in one month of the chart (clipped to the filtered period)."""
    year, number = (int(part) for part in month.split("-"))
    first = date(year, number, 1)
    last = date(year + number // 12, number % 12 + 1, 1) - timedelta(days=1)
    start, end = max(first, filters.date_from), min(last, filters.date_to)
    return case_list_url(filters, **{"from": start.isoformat(), "to": end.isoformat()})


def _bar(filters: Filters, dimension: str, title: str, measure: str = "received", limit: int = 10) -> dict[str, Any]:
    rows = breakdown(filters, dimension, limit=limit)
    return {
        "id": f"chart-{dimension}-{measure}",
        "title": title,
        "type": "bar",
        "measure": measure,
        "labels": [str(r["label"]) for r in rows],
        "values": [float(r[measure]) if r[measure] is not None else None for r in rows],
        "urls": [_bar_url(filters, dimension, r) for r in rows],
    }


def _alert_matches(filters: Filters, dimension: str, value: str) -> bool:
    """An alert belongs on the chart when it is about the series drawn: the "total" series without a
    category/product/org-unit filter, else the alert on the filtered value."""
    wanted = {
        "category": filters.category,
        "product": filters.product,
        "org_unit": str(filters.org_unit) if filters.org_unit is not None else "",
    }
    active = {k: v for k, v in wanted.items() if v}
    if not active:
        return dimension == "total"
    return active.get(dimension) == value


def _spikes(filters: Filters, user: Any) -> list[dict[str, Any]]:
    """The spike alerts the reader may see (intelligence.forecast.alerts_for: scoped like the trends
    page), of the series drawn, in the period."""
    from intelligence import forecast

    alerts = [
        a
        for a in forecast.alerts_for(user, open_only=False, limit=500)
        if filters.date_from <= a.day <= filters.date_to and _alert_matches(filters, a.dimension, a.value)
    ]
    alerts.sort(key=lambda a: a.day)
    return [
        {"day": a.day.isoformat(), "label": a.value_label, "observed": a.observed, "expected": round(a.expected, 1)}
        for a in alerts[:50]
    ]


def _trend(filters: Filters, user: Any) -> dict[str, Any]:
    from intelligence import forecast

    rows = breakdown(filters, "date")
    days = [r["key"] for r in rows]
    counts = [r["received"] for r in rows]
    band: dict[str, Any] = {"days": [], "expected": [], "lo80": [], "hi80": [], "lo95": [], "hi95": []}
    method = ""
    try:
        # Fitted on the last WINDOW_DAYS at most, as intelligence does (a longer history costs time, not accuracy).
        history = counts[-forecast.WINDOW_DAYS :]
        start = filters.date_from + timedelta(days=len(counts) - len(history))
        fit = forecast.fit(history, start, horizon=FORECAST_HORIZON)
        method = fit.method
        for row in fit.rows():
            band["days"].append(row["date"])
            for key in ("expected", "lo80", "hi80", "lo95", "hi95"):
                band[key].append(row[key])
    except forecast.NotEnoughData as exc:
        method = exc.message()
    spikes = _spikes(filters, user)
    return {
        "id": "chart-trend",
        "title": _("每日投诉量、预测区间与激增预警"),
        "type": "trend",
        "days": days,
        "values": counts,
        "urls": [case_list_url(filters, **{"from": d, "to": d}) for d in days],
        "band": band,
        "method": method,
        "spikes": spikes,
    }


def build(filters: Filters, user: Any) -> dict[str, Any]:
    """The page's data for a reader; `filters` already scoped to the user (Filters.scoped)."""
    figures = kpis(filters)
    if figures["cost_ratio"] is not None:
        figures["cost_ratio_percent"] = round(figures["cost_ratio"] * 100, 2)
    if not figures["received"]:
        return {"kpis": figures, "charts": [], "empty": True}
    rates = [
        ("ack_timeliness", _("受理及时率")),
        ("resolution_timeliness", _("办结及时率")),
        ("resolution_rate", _("解决率")),
        ("satisfaction_rate", _("满意率")),
        ("reopen_rate", _("重开率")),
    ]
    timeliness = {
        "id": "chart-rates",
        "title": _("及时率、解决率、满意率与重开率"),
        "type": "bar",
        "measure": "rate",
        "labels": [str(label) for _key, label in rates],
        "values": [figures[key] for key, _label in rates],
        # The timeliness bars open the cases that missed the SLA (the ones to look at); the others the
        # closed and the reopened cases.
        "urls": [
            case_list_url(filters, ack="late"),
            case_list_url(filters, resolution="late"),
            case_list_url(filters, state="closed"),
            case_list_url(filters, state="closed"),
            case_list_url(filters, state="reopened"),
        ],
    }
    histograms = []
    for field, kind, title in (
        ("handling_working_seconds", "working", _("处理时长分布（工作小时）")),
        ("handling_calendar_seconds", "calendar", _("处理时长分布（自然小时）")),
    ):
        buckets = handling_histogram(filters, field)
        histograms.append(
            {
                "id": f"chart-{field}",
                "title": title,
                "type": "bar",
                "measure": "count",
                "labels": [b["label"] for b in buckets],
                "values": [b["count"] for b in buckets],
                "urls": [
                    case_list_url(filters, handling=f"{kind}:{b['low']}-{b['high'] if b['high'] is not None else ''}")
                    for b in buckets
                ],
            }
        )
    monthly = breakdown(filters, "month")
    money = {
        "id": "chart-escalations-remedies",
        "title": _("每月升级案件与已支付补偿（元）"),
        "type": "bar",
        "measure": "mixed",
        "labels": [r["label"] for r in monthly],
        "values": [r["escalations"] for r in monthly],
        "values2": [float(r["compensation_paid"]) for r in monthly],
        "series": [str(_("升级案件")), str(_("已支付补偿（元）"))],
        "urls": [_month_url(filters, r["key"]) for r in monthly],
    }
    charts = [
        _trend(filters, user),
        _bar(filters, "category", _("分类分布")),
        _bar(filters, "subcategory", _("子分类分布")),
        _bar(filters, "region", _("地区分布")),
        _bar(filters, "channel", _("渠道分布")),
        _bar(filters, "product", _("投诉最多的产品")),
        _bar(filters, "org_unit", _("投诉最多的组织单元")),
        timeliness,
        *histograms,
        _bar(filters, "department", _("各部门办结及时率"), measure="resolution_timeliness"),
        money,
    ]
    return {"kpis": figures, "charts": charts, "empty": False}
