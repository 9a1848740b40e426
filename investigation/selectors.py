"""Reads of the investigation: the case panel, the task queue, the supervisor's overdue list, the
API's descriptions, and the guard's reason for refusing to resolve."""

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Department, User
from complaints.actions import check_may
from complaints.choices import Nature
from complaints.ledgering import Actor
from complaints.models import Complaint
from complaints.permissions import Principal
from core.errors import TransitionNotAllowed

from .access import mine_q, sees_case, tasks_visible_to
from .choices import FindingStatus, Responsibility, TaskKind, TaskStatus
from .models import CoordinationTask, Finding, RootCause


def _with_related(queryset: QuerySet[CoordinationTask]) -> QuerySet[CoordinationTask]:
    return queryset.select_related(
        "complaint", "complaint__category", "department", "assignee", "created_by", "completed_by"
    ).prefetch_related("attachments")


def tasks_of(complaint: Complaint) -> QuerySet[CoordinationTask]:
    return _with_related(CoordinationTask.objects.filter(complaint=complaint)).order_by("status", "due_at", "pk")


def overdue_q(now: datetime | None = None) -> Q:
    return Q(status=TaskStatus.OPEN, due_at__lt=now or timezone.now())


def open_blocking(complaint: Complaint) -> list[CoordinationTask]:
    """The case's open blocking tasks, read once per case instance: the case page asks for every
    action it might offer (an action locks and reads a fresh instance, so it never sees a stale list)."""
    cached = getattr(complaint, "_open_blocking_tasks", None)
    if cached is None:
        cached = list(
            CoordinationTask.objects.filter(complaint=complaint, status=TaskStatus.OPEN, blocking=True)
            .select_related("department")
            .order_by("due_at", "pk")
        )
        complaint._open_blocking_tasks = cached  # type: ignore[attr-defined]
    return cached


def blocking_reason(complaint: Complaint, tasks: list[CoordinationTask] | None = None) -> str | None:
    """Why the case cannot be resolved yet: its open blocking tasks, named (None when there are none).
    `tasks`: the case's tasks already read (the panel), so that no query is made again."""
    if complaint.pk is None:
        return None
    if tasks is None:
        tasks = open_blocking(complaint)
    else:
        tasks = [t for t in tasks if t.status == TaskStatus.OPEN and t.blocking]
        tasks.sort(key=lambda t: (t.due_at, t.pk))
    if not tasks:
        return None
    names = "；".join(
        _("%(kind)s（%(dept)s，期限 %(due)s）")
        % {
            "kind": t.get_kind_display(),
            "dept": t.department.name,
            "due": timezone.localtime(t.due_at).strftime("%Y-%m-%d"),
        }
        for t in tasks
    )
    return _("尚有未完成的阻断性协办任务，不能办结：%(tasks)s。") % {"tasks": names}


def case_essentials(complaint: Complaint) -> dict[str, Any]:
    """What a task's department sees of a case it cannot otherwise see: no personal data."""
    return {
        "tracking_no": complaint.tracking_no,
        "status": complaint.status,
        "status_label": str(complaint.get_status_display()),
        "received_at": complaint.received_at.isoformat(),
        "category": complaint.category.name if complaint.category_id else None,
        "product_name": complaint.product_name,
        "product_model": complaint.product_model,
        "product_sku": complaint.product_sku,
        "product_batch": complaint.product_batch,
    }


def describe_task(task: CoordinationTask, *, masked: bool = False, now: datetime | None = None) -> dict[str, Any]:
    """A task for the API (free text withheld from a masked reader)."""

    def text(value: str) -> str:
        return "***" if masked and value else value

    return {
        "id": task.pk,
        "tracking_no": task.complaint.tracking_no,
        "kind": task.kind,
        "kind_label": str(task.get_kind_display()),
        "department": task.department.code,
        "department_name": task.department.name,
        "assignee": task.assignee.get_username() if task.assignee_id else None,
        "request": text(task.request),
        "due_at": task.due_at.isoformat(),
        "blocking": task.blocking,
        "status": task.status,
        "status_label": str(task.get_status_display()),
        "overdue": task.is_overdue(now),
        "result": text(task.result),
        "cancel_reason": text(task.cancel_reason),
        "created_by": task.created_by.get_username(),
        "created_at": task.created_at.isoformat(),
        "completed_by": task.completed_by.get_username() if task.completed_by_id else None,
        "completed_at": task.completed_at.isoformat() if task.completed_at else None,
        "attachments": [
            {"id": e.pk, "filename": "***" if masked else e.filename, "sha256": e.sha256, "size": e.size}
            for e in task.attachments.all()
        ],
    }


def findings_of(complaint: Complaint) -> QuerySet[Finding]:
    return (
        Finding.objects.filter(complaint=complaint)
        .select_related("root_cause", "recorded_by", "confirmed_by")
        .prefetch_related("evidence")
        .order_by("recorded_at", "pk")
    )


def describe_finding(finding: Finding, *, masked: bool = False) -> dict[str, Any]:
    def text(value: str) -> str:
        return "***" if masked and value else value

    return {
        "id": finding.pk,
        "facts": text(finding.facts),
        "root_cause": finding.root_cause.code,
        "root_cause_label": finding.root_cause.name,
        "responsibility": finding.responsibility,
        "responsibility_label": str(finding.get_responsibility_display()),
        "nature": finding.nature,
        "nature_label": str(finding.get_nature_display()),
        "justification": text(finding.justification),
        "evidence": [e.pk for e in finding.evidence.all()],
        "status": finding.status,
        "status_label": str(finding.get_status_display()),
        "recorded_by": finding.recorded_by.get_username(),
        "recorded_at": finding.recorded_at.isoformat(),
        "confirmed_by": finding.confirmed_by.get_username() if finding.confirmed_by_id else None,
        "confirmed_at": finding.confirmed_at.isoformat() if finding.confirmed_at else None,
        "decision_comment": text(finding.decision_comment),
    }


def queue_for(user: User, state: str = "open") -> QuerySet[CoordinationTask]:
    """My tasks: to me by name or to my departments; open ones by due date, so the overdue come first."""
    tasks = _with_related(CoordinationTask.objects.filter(mine_q(user)))
    if state in TaskStatus.values:
        tasks = tasks.filter(status=state)
    if state == TaskStatus.OPEN:
        return tasks.order_by("due_at", "pk")
    return tasks.order_by("-created_at", "-pk")


def overdue_for_supervisor(principal: Principal, now: datetime | None = None) -> QuerySet[CoordinationTask]:
    """Overdue tasks on the supervisor's cases and those addressed to the departments they supervise."""
    scope = Q(complaint__in=Complaint.objects.filter(principal.scope_q()).values("pk"))
    if principal.supervised_departments:
        scope |= Q(department_id__in=principal.supervised_departments)
    return (
        CoordinationTask.objects.filter(overdue_q(now))
        .filter(scope)
        .select_related("complaint", "department", "assignee")
        .order_by("due_at", "pk")
    )


def _may(complaint: Complaint, actor: Actor, action: str) -> bool:
    try:
        check_may(complaint, actor, action)
    except (TransitionNotAllowed, PermissionDenied):
        return False
    return True


def assignee_choices() -> list[tuple[str, str]]:
    """Staff who may be named on a task: everyone with a role in a department, with the department."""
    from accounts.models import Membership

    from .actions import TASK_ROLES

    rows = (
        Membership.objects.filter(role__in=TASK_ROLES, user__is_active=True, department__isnull=False)
        .select_related("user", "department")
        .order_by("department_id", "user__username")
    )
    seen: set[tuple[int, int]] = set()
    choices = []
    for m in rows:
        key = (m.user_id, m.department_id)  # type: ignore[assignment]
        if key in seen:
            continue
        seen.add(key)
        choices.append((m.user.get_username(), f"{m.user.get_username()}（{m.department.name}）"))  # type: ignore[union-attr]
    return choices


def panel_for(complaint: Complaint, user: User, recorded: set[str] | None = None) -> dict[str, Any]:
    """Everything the case page's investigation panel shows, read once (query count does not grow
    with the number of tasks or findings). `recorded`: the actions on the case's timeline, when the
    page has read it; every task and finding starts with a ledger event, so a case without one
    needs no query at all."""
    from evidence.selectors import items_for_staff

    actor = Actor.staff(user)
    masked = Principal.of(user).masked_for(complaint)
    now = timezone.now()
    tasks = list(tasks_of(complaint)) if recorded is None or "create_task" in recorded else []
    findings = list(findings_of(complaint)) if recorded is None or "record_finding" in recorded else []
    may_decide = _may(complaint, actor, "confirm_finding")
    may_record = _may(complaint, actor, "record_finding")
    may_create = _may(complaint, actor, "create_task")
    return {
        "masked": masked,
        "now": now,
        "tasks": [{"task": t, "overdue": t.is_overdue(now)} for t in tasks],
        "overdue_count": sum(1 for t in tasks if t.is_overdue(now)),
        "blocking_reason": blocking_reason(complaint, tasks),
        "findings": [
            {
                "finding": f,
                "may_decide": may_decide and f.status == FindingStatus.PENDING and f.recorded_by_id != user.pk,
            }
            for f in findings
        ],
        "may_create_task": may_create,
        "may_record_finding": may_record,
        "kinds": TaskKind.choices,
        "departments": list(Department.objects.all()) if may_create else [],
        "assignees": assignee_choices() if may_create else [],
        "root_causes": list(RootCause.objects.filter(active=True)) if may_record else [],
        "responsibilities": Responsibility.choices,
        "natures": Nature.choices,
        "evidence": list(items_for_staff(complaint).filter(complaint_id=complaint.pk, deleted_at__isnull=True))
        if may_record
        else [],
    }


def task_for_user(user: User, pk: int) -> CoordinationTask:
    """One task this user may see (404 otherwise, so existence does not leak)."""
    from django.http import Http404

    task = _with_related(tasks_visible_to(user)).filter(pk=pk).first()
    if task is None:
        raise Http404("task not found")
    return task


def task_page(task: CoordinationTask, user: User) -> dict[str, Any]:
    """The task page: the request, the case's essentials, and what this user may do with the task."""
    from .access import may_on_task

    now = timezone.now()
    complaint = task.complaint
    principal = Principal.of(user)
    from complaints.transitions import FROM_STATES

    def works(action: str) -> bool:
        return (
            task.status == TaskStatus.OPEN
            and complaint.status in FROM_STATES[action]
            and may_on_task(user, task, action)
        )

    return {
        "task": task,
        "overdue": task.is_overdue(now),
        "case": case_essentials(complaint),
        "sees_case": sees_case(user, complaint),
        "masked": principal.masked_for(complaint) if sees_case(user, complaint) else False,
        "may_complete": works("complete_task"),
        "may_attach": works("add_evidence"),
        "may_cancel": works("cancel_task"),
        "may_reassign": works("reassign_task"),
        "departments": list(Department.objects.all()),
        "assignees": assignee_choices(),
    }
