"""Reads of surveys and call-backs that more than one view needs: the customer's satisfaction history,
the case panel, the call-back list, and the satisfaction figures (DESIGN.md §8)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.choices import Role
from accounts.models import User
from complaints.choices import Status
from complaints.models import Complaint
from complaints.permissions import Principal
from complaints.selectors import mask

from .choices import CallbackStatus, SurveyStatus
from .models import Callback, Survey, SurveyAnswer

# 满意率 is defined on the "outcome" question: answers of 4 or 5 (of 5) over all answers (DESIGN.md §8).
SATISFIED_AT_LEAST = 4
# Who sees the satisfaction figures: managers, supervisors, analysts, auditors (each in their scope).
ANALYTICS_ROLES = (Role.MANAGER, Role.SUPERVISOR, Role.ANALYST, Role.AUDITOR)


def satisfaction_for_customer(customer_id: int) -> list[dict[str, Any]]:
    """The survey answers of a customer's cases, newest first (customers app: satisfaction history)."""
    rows = (
        SurveyAnswer.objects.filter(complaint__customer_id=customer_id)
        .select_related("complaint")
        .order_by("-answered_at", "-id")
    )
    return [
        {
            "answered_at": a.answered_at,
            "tracking_no": a.complaint.tracking_no,
            "outcome": a.outcome,
            "handling": a.handling,
            "solved": a.solved,
            "solved_label": str(a.get_solved_display()),
            "comment": a.comment,
        }
        for a in rows
    ]


def callbacks_for_customer(customer_id: int) -> list[Callback]:
    return list(
        Callback.objects.filter(complaint__customer_id=customer_id)
        .select_related("complaint", "linked_complaint")
        .order_by("-created_at", "-id")
    )


# --- the case panel ----------------------------------------------------------------------------------


def panel_for(complaint: Complaint, user: User) -> dict[str, Any]:
    """Survey, answer and call-backs of one case in two queries (no N+1); none for a case that was
    never closed (surveys and call-backs start at closing)."""
    if complaint.closed_at is None and not complaint.reopen_count and complaint.status != Status.ARCHIVED:
        return {"survey": None, "answer": None, "callbacks": [], "masked": False, "may_record": {}}
    survey = Survey.objects.filter(complaint_id=complaint.pk).select_related("answer").first()
    answer = getattr(survey, "answer", None) if survey is not None else None
    callbacks = list(
        Callback.objects.filter(complaint_id=complaint.pk).select_related(
            "assignee", "linked_complaint", "completed_by"
        )
    )
    principal = Principal.of(user)
    return {
        "survey": survey,
        "answer": answer,
        "callbacks": callbacks,
        "masked": principal.masked_for(complaint),
        "may_record": {cb.pk: may_record_callback(user, cb, complaint) for cb in callbacks},
    }


# --- call-backs --------------------------------------------------------------------------------------


def may_record_callback(user: User, callback: Callback, complaint: Complaint | None = None) -> bool:
    """The assignee, the case owner or a supervisor/manager of the case records the outcome."""
    from complaints.permissions import staff_may

    complaint = complaint or callback.complaint
    principal = Principal.of(user)
    if not principal.is_writer:
        return False
    if callback.assignee_id == user.pk:
        return True
    return staff_may(user, complaint, "record_callback")


def callbacks_visible_to(user: User) -> QuerySet[Callback]:
    """Mine, the ones of the departments I supervise, the org units I manage; everything for auditors."""
    principal = Principal.of(user)
    queryset = Callback.objects.select_related("complaint__org_unit", "assignee", "linked_complaint")
    if not principal.roles:
        return queryset.none()
    if principal.has(Role.AUDITOR):
        return queryset
    query = Q(assignee_id=user.pk)
    if principal.supervised_departments:
        query |= Q(complaint__department_id__in=principal.supervised_departments)
    for path in principal.manager_unit_paths:
        query |= Q(complaint__org_unit__path__startswith=path)
    return queryset.filter(query)


def callback_list(user: User, *, mine: bool = False, status: str = CallbackStatus.OPEN) -> QuerySet[Callback]:
    """Open ones by due date: the overdue come first."""
    queryset = callbacks_visible_to(user)
    if mine:
        queryset = queryset.filter(assignee_id=user.pk)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("due_at", "id")


def describe_callback(callback: Callback, *, masked: bool = False, contact: bool = False) -> dict[str, Any]:
    """A call-back for the API. In a list the name is masked and the phone left out; `contact=True`
    (one call-back, the caller records the view: privacy.audit) gives the name and phone in full."""
    c = callback.complaint
    contact_fields: dict[str, Any] = {"complainant_name": mask("complainant_name", c.complainant_name)}
    if contact:
        contact_fields = {
            "complainant_name": "***" if masked else c.complainant_name,
            "complainant_phone": "***" if masked else c.complainant_phone,
        }
    return {
        "id": callback.pk,
        "tracking_no": c.tracking_no,
        **contact_fields,
        "assignee": callback.assignee.get_username() if callback.assignee_id else None,
        "due_at": callback.due_at.isoformat(),
        "overdue": callback.overdue,
        "source": callback.source,
        "reason": callback.reason,
        "status": callback.status,
        "attempts": callback.attempts,
        "last_attempt_at": callback.last_attempt_at.isoformat() if callback.last_attempt_at else None,
        "reached": callback.reached,
        "satisfied": callback.satisfied,
        "note": "***" if masked and callback.note else callback.note,
        "linked_tracking_no": callback.linked_complaint.tracking_no if callback.linked_complaint_id else None,
    }


# --- satisfaction figures -------------------------------------------------------------------------


@dataclass
class Filters:
    start: date | None = None
    end: date | None = None
    category: str = ""  # a category code (top level)
    department: str = ""  # a department code


def _bounds(filters: Filters) -> tuple[datetime | None, datetime | None]:
    tz = timezone.get_default_timezone()
    start = datetime.combine(filters.start, time.min, tzinfo=tz) if filters.start else None
    end = datetime.combine(filters.end + timedelta(days=1), time.min, tzinfo=tz) if filters.end else None
    return start, end


def _cases(user: User, filters: Filters) -> QuerySet[Complaint]:
    cases = Complaint.objects.visible_to(user)
    if filters.category:
        cases = cases.filter(category__code=filters.category)
    if filters.department:
        cases = cases.filter(department__code=filters.department)
    return cases


def _rate(satisfied: int, answers: int) -> float | None:
    return round(satisfied / answers, 4) if answers else None


def _group(rows: QuerySet[Any], key: str, label: str) -> list[dict[str, Any]]:
    result = []
    for row in rows:
        result.append(
            {
                "key": row[key],
                "label": row[label] if label else row[key],
                "answers": row["answers"],
                "satisfied": row["satisfied"],
                "satisfaction": _rate(row["satisfied"], row["answers"]),
                "mean_outcome": round(row["mean_outcome"], 2) if row["mean_outcome"] is not None else None,
                "mean_handling": round(row["mean_handling"], 2) if row["mean_handling"] is not None else None,
            }
        )
    return result


_FIGURES = {
    "answers": Count("id"),
    "satisfied": Count("id", filter=Q(outcome__gte=SATISFIED_AT_LEAST)),
    "mean_outcome": Avg("outcome"),
    "mean_handling": Avg("handling"),
}


def satisfaction(user: User, filters: Filters) -> dict[str, Any]:
    """满意率 and mean scores overall and per month, category, department and owner; the solved
    distribution; the response rate (answered / sent) — over the cases the user may see. Each figure
    is one GROUP BY query, not a scan in Python."""
    start, end = _bounds(filters)
    cases = _cases(user, filters)
    answers = SurveyAnswer.objects.filter(complaint__in=cases)
    surveys = Survey.objects.filter(complaint__in=cases, sent_at__isnull=False)
    if start is not None:
        answers = answers.filter(answered_at__gte=start)
        surveys = surveys.filter(sent_at__gte=start)
    if end is not None:
        answers = answers.filter(answered_at__lt=end)
        surveys = surveys.filter(sent_at__lt=end)
    total = answers.aggregate(**_FIGURES)
    sent = surveys.aggregate(sent=Count("id"), answered=Count("id", filter=Q(status=SurveyStatus.ANSWERED)))
    solved = {row["solved"]: row["n"] for row in answers.values("solved").annotate(n=Count("id")).order_by()}
    tz = timezone.get_default_timezone()
    by_month = (
        answers.annotate(month=TruncMonth("answered_at", tzinfo=tz))
        .values("month")
        .annotate(**_FIGURES)
        .order_by("month")
    )
    by_category = (
        answers.values("complaint__category__code", "complaint__category__name")
        .annotate(**_FIGURES)
        .order_by("complaint__category__code")
    )
    by_department = (
        answers.values("complaint__department__code", "complaint__department__name")
        .annotate(**_FIGURES)
        .order_by("complaint__department__code")
    )
    by_owner = answers.values("complaint__owner__username").annotate(**_FIGURES).order_by("complaint__owner__username")
    months = _group(by_month, "month", "")
    for row in months:
        row["key"] = row["label"] = row["key"].strftime("%Y-%m") if row["key"] else None
    return {
        "definition": "satisfaction = answers with outcome >= 4 (of 5) / answers",
        "answers": total["answers"],
        "satisfied": total["satisfied"],
        "satisfaction": _rate(total["satisfied"], total["answers"]),
        "mean_outcome": round(total["mean_outcome"], 2) if total["mean_outcome"] is not None else None,
        "mean_handling": round(total["mean_handling"], 2) if total["mean_handling"] is not None else None,
        "solved": {"yes": solved.get("yes", 0), "partly": solved.get("partly", 0), "no": solved.get("no", 0)},
        "sent": sent["sent"],
        "answered_of_sent": sent["answered"],
        "response_rate": _rate(sent["answered"], sent["sent"]),
        "by_month": months,
        "by_category": _group(by_category, "complaint__category__code", "complaint__category__name"),
        "by_department": _group(by_department, "complaint__department__code", "complaint__department__name"),
        "by_owner": _group(by_owner, "complaint__owner__username", ""),
    }
