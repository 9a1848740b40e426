"""The reads of the risk app, shared by the page and the API: the latest snapshots a reader may see,
each with the explanation of its level, the matrix, the alerts and the high-risk case list."""

from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.dashboard import case_list_url
from analytics.filters import Filters
from complaints.choices import OPEN_STATES, Channel, EscalationLevel, ExternalRoute, RiskFlag, Status
from complaints.models import Complaint
from core.errors import ValidationError

from . import assess
from .access import Scope
from .choices import LEVEL_RANK, SHARES, Measure, RiskLevel, SubjectKind
from .models import RiskAlert, RiskAssessment, RiskRun

CASES_PAGE = 50
MAX_CASES_PAGE = 200
# Where the n-th point of a crowded matrix cell goes: the 25 spots of a 5×5 grid (steps of 0.15 around
# the cell's centre), nearest the centre first.
SPREAD = sorted(
    ((x * 0.15, y * 0.15) for x in range(-2, 3) for y in range(-2, 3)), key=lambda d: (d[0] ** 2 + d[1] ** 2, d)
)


# --- which run -------------------------------------------------------------------------------------------


def parse_day(params: Any) -> date | None:
    """The optional ?day= (a past run); errors name the field."""
    raw = (params.get("day") or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError("day", _("应为日期（YYYY-MM-DD）。")) from None


def run_for(day: date | None) -> RiskRun | None:
    """The finished run of that day, or the latest finished run; None when there is none (yet)."""
    runs = RiskRun.objects.filter(finished_at__isnull=False)
    if day is not None:
        found = runs.filter(day=day).first()
        if found is None:
            raise ValidationError("day", _("这一天没有风险评估。"))
        return found
    return runs.order_by("-day").first()


# --- describing a snapshot --------------------------------------------------------------------------------

MEASURE_LABELS = {
    "frequency": Measure.FREQUENCY_COUNT,
    "trend": Measure.TREND,
    "handling_hours": Measure.HANDLING_HOURS,
    "satisfaction": Measure.SATISFACTION,
    "cost_ratio": Measure.COST_RATIO,
    "flagged_share": Measure.FLAGGED_SHARE,
}


def _notes() -> dict[str, str]:
    return {
        "no_sales": _("无该主体的销量数据：频次按投诉件数计，不计算投诉率。"),
        "no_previous": _("前一窗口没有投诉，无法计算趋势：不计入。"),
        "trend_counts": _("前一窗口无销量数据：趋势按投诉件数计算。"),
        "no_resolved": _("窗口内没有已解决的投诉：不计入。"),
        "no_answers": _("窗口内没有满意度回答：不计入。"),
        "no_revenue": _("无该主体的营收数据：不计算维权成本率。"),
        "no_revenue_department": _("销售数据不按部门划分：部门不计算维权成本率。"),
    }


def fmt(measure: str, value: float | None) -> str:
    """A measure's value as people read it: shares in per cent, trends signed, hours and rates rounded."""
    if value is None:
        return "—"
    if measure == Measure.TREND:
        return f"{value * 100:+.0f}%"
    if measure == Measure.COST_RATIO:
        return f"{value * 100:.3g}%"
    if measure in SHARES:
        return f"{value * 100:.0f}%"
    if measure == Measure.FREQUENCY_COUNT:
        return f"{value:.0f}"
    return f"{value:.1f}"


def _axis(bands: dict[str, int | None], weights: dict[str, int], labels: dict[str, str]) -> str:
    known = [(name, weights[name], bands.get(name)) for name in weights if bands.get(name) is not None]
    total = sum(w for _n, w, _b in known)
    if not total:
        return "—"
    terms = " + ".join(f"{w}×{labels[name]} {b}" for name, w, b in known)
    mean = sum(w * b for _n, w, b in known if b is not None) / total
    return f"({terms}) ÷ {total} = {mean:.2f}"


def describe(a: RiskAssessment) -> dict[str, Any]:
    """A snapshot with what led to its level: each measure's value, band and edges, the notes on what
    was left out, and the arithmetic of probability, impact and level."""
    notes = _notes()
    names = {
        "frequency": str(_("频次")),
        "trend": str(_("趋势")),
        "handling_hours": str(_("处理时长")),
        "satisfaction": str(_("满意率")),
        "cost_ratio": str(_("成本率")),
        "flagged_share": str(_("高风险占比")),
    }
    measures = []
    for key in assess.MEASURE_KEYS:
        entry = a.measures.get(key)
        if entry is None:
            continue
        threshold = entry["threshold"]
        measures.append(
            {
                "key": key,
                "threshold": threshold,
                "label": str(Measure(threshold).label),
                "value": entry["value"],
                "display": fmt(threshold, entry["value"]),
                "band": entry["band"],
                "edges": entry["edges"],
                "edges_display": " / ".join(fmt(threshold, e) for e in entry["edges"]),
                "lower_is_worse": threshold == Measure.SATISFACTION,
                "note": str(notes.get(entry["note"], "")) if entry["note"] else "",
            }
        )
    bands = {m["key"]: m["band"] for m in measures}
    medium_from, high_from = assess.cutoffs()
    explanation = {
        "probability": _axis(bands, assess.PROBABILITY_WEIGHTS, names),
        "impact": _axis(bands, assess.IMPACT_WEIGHTS, names),
        "level": (
            f"{a.probability} × {a.impact} = {a.score} → {RiskLevel(a.level).label}"
            f"（{_('中')} ≥ {medium_from}，{_('高')} ≥ {high_from}）"
            if a.assessed
            else _("投诉少于 %(n)d 件，不评估。") % {"n": assess.min_cases()}
        ),
    }
    return {
        "id": a.pk,
        "day": a.day.isoformat(),
        "kind": a.kind,
        "kind_label": str(SubjectKind(a.kind).label),
        "key": a.key,
        "label": a.label,
        "window": {"from": a.window_from.isoformat(), "to": a.window_to.isoformat()},
        "cases": a.cases,
        "previous_cases": a.previous_cases,
        "assessed": a.assessed,
        "probability": a.probability,
        "impact": a.impact,
        "score": a.score,
        "level": a.level or None,
        "level_label": str(RiskLevel(a.level).label) if a.level else str(_("未评估")),
        "measures": measures,
        "explanation": explanation,
        "cases_url": drill_down(a),
    }


def drill_down(a: RiskAssessment) -> str:
    """The case queue with the subject's cases of the window (complaints.views.DRILL_FILTERS)."""
    filters = Filters(date_from=a.window_from, date_to=a.window_to)
    if a.kind == SubjectKind.PRODUCT:
        return case_list_url(filters, product=a.key)
    if a.kind == SubjectKind.ORG_UNIT:
        return case_list_url(filters, org_unit=a.key)
    return case_list_url(filters, department=a.key)


def _rank(a: RiskAssessment) -> tuple[int, int, int, str]:
    return (-LEVEL_RANK.get(a.level, 0), -(a.score or 0), -a.cases, a.label)


def assessments(scope: Scope, run: RiskRun, *, kind: str = "", level: str = "") -> list[RiskAssessment]:
    """The run's snapshots inside the scope, highest level first (then score, then cases)."""
    rows = RiskAssessment.objects.filter(day=run.day).filter(scope.assessments_q())
    if kind:
        rows = rows.filter(kind=kind)
    if level:
        rows = rows.filter(level=level)
    return sorted(rows, key=_rank)


def parse_list_filters(params: Any) -> dict[str, str]:
    errors: dict[str, str] = {}
    kind = (params.get("kind") or "").strip()
    level = (params.get("level") or "").strip()
    if kind and kind not in SubjectKind.values:
        errors["kind"] = _("取值无效，可选：%(expected)s。") % {"expected": "、".join(SubjectKind.values)}
    if level and level not in RiskLevel.values:
        errors["level"] = _("取值无效，可选：%(expected)s。") % {"expected": "、".join(RiskLevel.values)}
    if errors:
        raise ValidationError(errors)
    return {"kind": kind, "level": level}


def matrix(rows: list[RiskAssessment]) -> dict[str, Any]:
    """The probability × impact chart: the 5×5 cells with their level, and one point per assessed
    subject (several in a cell are spread around its centre so that each can be seen and clicked)."""
    cells = [{"impact": i, "probability": p, "level": assess.level_of(p, i)} for p in range(1, 6) for i in range(1, 6)]
    crowd: dict[tuple[int, int], int] = {}
    points = []
    for a in rows:
        if not a.assessed or a.probability is None or a.impact is None:
            continue
        cell = (a.impact, a.probability)
        n = crowd.get(cell, 0)
        crowd[cell] = n + 1
        dx, dy = SPREAD[n % len(SPREAD)]
        points.append(
            {
                "impact": a.impact,
                "probability": a.probability,
                "x": round(a.impact + dx, 2),
                "y": round(a.probability + dy, 2),
                "level": a.level,
                "kind": str(SubjectKind(a.kind).label),
                "label": a.label,
                "cases": a.cases,
                "url": drill_down(a),
            }
        )
    medium_from, high_from = assess.cutoffs()
    return {
        "cells": cells,
        "points": points,
        "levels": {level.value: str(level.label) for level in RiskLevel},
        "axes": {"x": str(_("影响")), "y": str(_("可能性"))},
        "cutoffs": {"medium": medium_from, "high": high_from},
    }


# --- alerts ---------------------------------------------------------------------------------------------


def alerts(scope: Scope, *, open_only: bool = True) -> QuerySet:
    rows = RiskAlert.objects.select_related("assessment", "acknowledged_by").filter(scope.assessments_q("assessment__"))
    if open_only:
        rows = rows.filter(acknowledged_at__isnull=True)
    return rows.order_by("-assessment__day", "-pk")


def describe_alert(alert: RiskAlert) -> dict[str, Any]:
    a = alert.assessment
    return {
        "id": alert.pk,
        "day": a.day.isoformat(),
        "kind": a.kind,
        "kind_label": str(SubjectKind(a.kind).label),
        "key": a.key,
        "label": a.label,
        "previous_level": alert.previous_level or None,
        "previous_level_label": str(RiskLevel(alert.previous_level).label)
        if alert.previous_level
        else str(_("未评估")),
        "level": alert.level,
        "level_label": str(RiskLevel(alert.level).label),
        "cases": a.cases,
        "created_at": alert.created_at.isoformat(),
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
        "acknowledged_by": alert.acknowledged_by.get_username() if alert.acknowledged_by else None,
        "note": alert.note,
        "assessment_id": a.pk,
        "cases_url": drill_down(a),
    }


def alert_for(scope: Scope, alert_id: int) -> RiskAlert | None:
    return alerts(scope, open_only=False).filter(pk=alert_id).first()


# --- the high-risk case list ------------------------------------------------------------------------------


def high_risk_cases(user: Any) -> QuerySet:
    """Open cases the user may see with a risk flag, escalated to L1 or above, or referred to a
    regulator (a regulator's due date, the 12315 channel, or a regulator proceeding). Most escalated
    first, then the nearest regulator due date, then the oldest."""
    from django.db.models import F

    from dossier.models import ExternalProceeding

    referred = ExternalProceeding.objects.filter(complaint=OuterRef("pk"), route=ExternalRoute.REGULATOR)
    return (
        Complaint.objects.visible_to(user)
        .filter(status__in=OPEN_STATES)
        .annotate(regulator_proceeding=Exists(referred))
        .filter(
            Q(escalation_level__gte=EscalationLevel.SUPERVISOR)
            | ~Q(risk_flags=[])
            | Q(regulator_due_at__isnull=False)
            | Q(channel=Channel.REGULATOR_REFERRAL)
            | Q(regulator_proceeding=True)
        )
        .select_related("category", "org_unit", "department")
        .only(
            "pk",
            "tracking_no",
            "received_at",
            "status",
            "priority",
            "channel",
            "escalation_level",
            "risk_flags",
            "regulator_due_at",
            "category__name",
            "org_unit__name",
            "department__name",
        )
        .order_by("-escalation_level", F("regulator_due_at").asc(nulls_last=True), "received_at", "pk")
    )


def parse_page(params: Any) -> tuple[int, int]:
    """?limit= (1–200, default 50) and ?offset= (≥ 0) of the case list; errors name the field."""
    errors: dict[str, str] = {}
    raw_limit = (params.get("limit") or str(CASES_PAGE)).strip()
    raw_offset = (params.get("offset") or "0").strip()
    limit = int(raw_limit) if raw_limit.isdigit() else 0
    if not 1 <= limit <= MAX_CASES_PAGE:
        errors["limit"] = _("应为 1 到 %(max)d 之间的整数。") % {"max": MAX_CASES_PAGE}
    if not raw_offset.isdigit():
        errors["offset"] = _("应为不小于 0 的整数。")
    if errors:
        raise ValidationError(errors)
    return limit, int(raw_offset)


def describe_case(c: Complaint) -> dict[str, Any]:
    """A high-risk case without personal data: what makes it high-risk and where it stands."""
    flags = [str(RiskFlag(f).label) if f in RiskFlag.values else str(f) for f in (c.risk_flags or [])]
    reasons = []
    if c.escalation_level:
        reasons.append(str(EscalationLevel(c.escalation_level).label))
    if flags:
        reasons.append(_("风险标记：%(flags)s") % {"flags": "、".join(flags)})
    regulator = bool(
        c.regulator_due_at or c.channel == Channel.REGULATOR_REFERRAL or getattr(c, "regulator_proceeding", False)
    )
    if regulator:
        reasons.append(str(_("监管转办")))
    overdue = bool(c.regulator_due_at and c.regulator_due_at < timezone.now())
    return {
        "tracking_no": c.tracking_no,
        "url": reverse("complaints:case", args=[c.tracking_no]),
        "received_date": timezone.localtime(c.received_at).date().isoformat(),
        "status": c.status,
        "status_label": str(Status(c.status).label),
        "priority": c.priority,
        "category": c.category.name if c.category_id else "",
        "org_unit": c.org_unit.name if c.org_unit_id else "",
        "department": c.department.name if c.department_id else "",
        "escalation_level": c.escalation_level,
        "risk_flags": list(c.risk_flags or []),
        "risk_flag_labels": flags,
        "regulator_referral": regulator,
        "regulator_due_date": timezone.localtime(c.regulator_due_at).date().isoformat() if c.regulator_due_at else None,
        "regulator_overdue": overdue,
        "reasons": reasons,
    }
