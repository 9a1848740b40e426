"""Reads shared by the pages and the API: the plan list (overdue first, filtered), one plan described
with its effect, and the library search."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.models import Category, Complaint
from core.errors import ValidationError

from .access import plans_visible_to
from .choices import ACTIVE_STATES, PlanStatus
from .effect import measure
from .models import ImprovementPlan, LibraryEntry

PLAN_FILTERS = ("status", "overdue", "owner", "category")


def today() -> date:
    return timezone.localdate(timezone.now(), timezone.get_default_timezone())


def parse_plan_filters(params: Any) -> dict[str, Any]:
    """?status=&overdue=1&owner=me&category=code — an unknown name or value is a 422 naming it."""
    errors: dict[str, str] = {}
    filters: dict[str, Any] = {}
    for name in params:
        if name not in PLAN_FILTERS:
            errors[name] = _("未知的筛选条件。")
    status = params.get("status", "")
    if status and status not in PlanStatus.values and status != "active":
        errors["status"] = _("取值无效，可选：%(expected)s。") % {"expected": ", ".join(["active", *PlanStatus.values])}
    filters["status"] = status
    overdue = params.get("overdue", "")
    if overdue not in ("", "0", "1", "true", "false"):
        errors["overdue"] = _("应为 true 或 false。")
    filters["overdue"] = overdue in ("1", "true")
    owner = params.get("owner", "")
    if owner not in ("", "me"):
        errors["owner"] = _("取值无效，可选：%(expected)s。") % {"expected": "me"}
    filters["owner"] = owner
    category = params.get("category", "")
    if category and not Category.objects.filter(code=category).exists():
        errors["category"] = _("未知的类别：%(value)s") % {"value": category}
    filters["category"] = category
    if errors:
        raise ValidationError(errors)
    return filters


def plan_list(user: Any, filters: dict[str, Any]) -> QuerySet:
    now_day = today()
    queryset = plans_visible_to(user)
    if filters.get("status") == "active":
        queryset = queryset.filter(status__in=ACTIVE_STATES)
    elif filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    if filters.get("overdue"):
        queryset = queryset.filter(status__in=ACTIVE_STATES, due_date__lt=now_day)
    if filters.get("owner") == "me":
        queryset = queryset.filter(owner_id=user.pk)
    if filters.get("category"):
        queryset = queryset.filter(category__code=filters["category"])
    return queryset.annotate(
        late=Case(
            When(status__in=list(ACTIVE_STATES), due_date__lt=now_day, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("late", "due_date", "pk")


def is_overdue(plan: ImprovementPlan) -> bool:
    return plan.status in ACTIVE_STATES and plan.due_date < today()


def describe_plan(plan: ImprovementPlan, user: Any, *, detail: bool = True) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": plan.pk,
        "title": plan.title,
        "status": plan.status,
        "status_display": str(plan.get_status_display()),
        "root_cause": plan.root_cause.code,
        "root_cause_name": plan.root_cause.name,
        "owner": plan.owner.get_username(),
        "due_date": plan.due_date.isoformat(),
        "overdue": is_overdue(plan),
        "expected_reduction": plan.expected_reduction,
        "category": plan.category.code if plan.category_id else None,
        "product_sku": plan.product_sku,
        "org_unit": plan.org_unit_id,
        "source": plan.source,
        "completed_at": plan.completed_at.isoformat() if plan.completed_at else None,
    }
    if detail:
        visible = Complaint.objects.visible_to(user).filter(pk__in=plan.complaints.values("pk"))
        row.update(
            action=plan.action,
            expected_effect=plan.expected_effect,
            spike_alert=plan.spike_alert_id,
            created_by=plan.created_by.get_username(),
            created_at=plan.created_at.isoformat(),
            completion_note=plan.completion_note,
            linked_total=plan.complaints.count(),
            complaints=sorted(visible.values_list("tracking_no", flat=True)),
            effect=_effect_json(measure(plan)),
            history=[
                {
                    "action": e.action,
                    "actor": e.actor.get_username() if e.actor_id else None,
                    "at": e.at.isoformat(),
                    "changes": e.changes,
                }
                for e in plan.events.select_related("actor")
            ],
        )
    return row


def _effect_json(effect: dict[str, Any] | None) -> dict[str, Any] | None:
    if effect is None:
        return None
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in effect.items()}


def library_search(params: Any) -> tuple[QuerySet, dict[str, str]]:
    """(entries, errors): ?q= text (any length, matched on the library's own text) and ?category=code."""
    errors: dict[str, str] = {}
    queryset = LibraryEntry.objects.select_related("category")
    query = (params.get("q") or "").strip()
    if len(query) > 100:
        errors["q"] = _("过长：最多 %(max_length)s 个字符。") % {"max_length": 100}
    elif query:
        for word in query.lower().split():
            queryset = queryset.filter(search_text__contains=word)
    category = params.get("category") or ""
    if category:
        found = Category.objects.filter(code=category).first()
        if found is None:
            errors["category"] = _("未知的类别：%(value)s") % {"value": category}
        else:
            queryset = queryset.filter(category__in=[found.pk, *found.children.values_list("pk", flat=True)])
    return (queryset.none() if errors else queryset), errors
