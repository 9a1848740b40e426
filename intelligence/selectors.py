"""Reads of predictions for the case page and the API."""

from typing import Any

from django.db.models import OuterRef, Subquery

from .models import Prediction


def _target_names() -> dict[str, Any]:
    from django.utils.translation import gettext as _

    return {"category": _("分类"), "subcategory": _("子分类"), "priority": _("优先级"), "department": _("部门")}


def predictions_for(complaint: Any) -> list[dict[str, Any]]:
    """What the models said about a case, with confidence (0..1), applied or suggested, and any
    correction. One query: the category and department names come as subqueries."""
    from accounts.models import Department
    from complaints.choices import Priority
    from complaints.models import Category

    def name_of(model: Any, field: str) -> Subquery:
        return Subquery(model.objects.filter(code=OuterRef(field)).values("name")[:1])

    rows = (
        Prediction.objects.filter(complaint_id=complaint.pk)
        .annotate(
            label_category=name_of(Category, "label"),
            label_department=name_of(Department, "label"),
            corrected_category=name_of(Category, "corrected_to"),
            corrected_department=name_of(Department, "corrected_to"),
        )
        .order_by("target")
    )
    priorities = dict(Priority.choices)

    def display(target: str, value: str, category: str | None, department: str | None) -> str:
        if not value:
            return ""
        if target in ("category", "subcategory"):
            return category or value
        if target == "department":
            return department or value
        if target == "priority":
            return str(priorities.get(value, value))
        return value

    return [
        {
            "target": p.target,
            "target_display": str(_target_names().get(p.target, p.target)),
            "label": p.label,
            "label_display": display(p.target, p.label, p.label_category, p.label_department),
            "confidence": p.confidence,
            "percent": round(p.confidence * 100),
            "applied": p.applied,
            "corrected": bool(p.corrected_to),
            "corrected_to": p.corrected_to,
            "corrected_display": display(p.target, p.corrected_to, p.corrected_category, p.corrected_department),
            "model_id": p.model_id,
        }
        for p in rows
    ]


def signals_for(complaint: Any, *, masked: bool = False) -> dict[str, Any] | None:
    """The text signals of a case for display: flags with the phrases that raised them (the clause
    around each only for users who may read the text), sentiment, intensity, type, priority."""
    from django.utils.translation import gettext as _

    from complaints.choices import ComplainantType, Priority, RiskFlag

    from .models import CaseSignals

    row = CaseSignals.objects.filter(complaint_id=complaint.pk).first()
    if row is None:
        return None
    flag_names = dict(RiskFlag.choices)
    hits = [
        {
            "flag": h["flag"],
            "flag_display": str(flag_names.get(h["flag"], h["flag"])),
            "phrase": h["phrase"],
            "context": "" if masked else h["context"],
            "negated": h["negated"],
        }
        for h in row.risk
    ]
    moods = {"negative": _("负面"), "neutral": _("中性"), "positive": _("正面")}
    mood = "negative" if row.sentiment < -0.1 else "positive" if row.sentiment > 0.1 else "neutral"
    return {
        "hits": hits,
        "flags": row.flags,
        "sentiment": row.sentiment,
        "sentiment_display": str(moods[mood]),
        "sentiment_source": row.sentiment_source,
        "intensity": row.intensity,
        "intensity_percent": round(row.intensity * 100),
        "sentiment_signals": row.sentiment_signals,
        "complainant_type": row.complainant_type,
        "complainant_type_display": str(dict(ComplainantType.choices).get(row.complainant_type, "—")),
        "type_signals": row.type_signals,
        "priority": row.priority,
        "priority_display": str(dict(Priority.choices).get(row.priority, row.priority)),
        "priority_reasons": row.priority_reasons,
    }
