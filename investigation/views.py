"""The investigation panel's forms (tasks asked for, findings), the task page and "my tasks".
Thin views: parse → check access → the same actions as the API → back to the page, or the page again
with the refusal under its field."""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from complaints.ledgering import Actor
from complaints.permissions import get_complaint_for_user
from complaints.views import _conflict, _staff, case
from core.errors import DomainError, TransitionNotAllowed, ValidationError, VersionConflict
from core.validation import CONTROL
from evidence.choices import EvidenceKind, Via

from . import actions
from .choices import TaskStatus
from .inputs import department_by_code, user_by_name
from .models import CoordinationTask, Finding
from .selectors import queue_for, task_for_user, task_page


def _field(request: HttpRequest, name: str) -> str:
    value = request.POST.get(name, "")
    if CONTROL.search(value):
        raise ValidationError(name, _("含有不允许的控制字符。"))
    return value


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() else None


def _refusal(exc: Exception) -> dict[str, Any]:
    """A refused action as the page shows it: errors by field, or one message."""
    if isinstance(exc, ValidationError):
        return {"fields": {k: str(v) for k, v in exc.errors.items()}}
    if isinstance(exc, VersionConflict):
        return {"message": _conflict()}
    if isinstance(exc, TransitionNotAllowed):
        return {"message": exc.reason or str(exc)}
    return {"message": str(exc)}


def _on_case(request: HttpRequest, tracking_no: str, form: str, run: Callable[[], Any]) -> HttpResponse:
    """Run a case-panel action; a refusal re-renders the case page with the reason in the panel."""
    try:
        run()
    except (ValidationError, VersionConflict, TransitionNotAllowed, PermissionDenied, DomainError) as exc:
        return case(request, tracking_no, {"action": form, **_refusal(exc)})
    return redirect(reverse("complaints:case", args=[tracking_no]) + "#investigation")


# --- the case panel ------------------------------------------------------------------------------


@login_required
@require_POST
def create_task(request: HttpRequest, tracking_no: str) -> HttpResponse:
    user = _staff(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)

    def run() -> None:
        errors: dict[str, str] = {}
        department = assignee = None
        try:
            department = department_by_code(request.POST.get("department"))
        except ValidationError as exc:
            errors.update(exc.errors)
        try:
            assignee = user_by_name(request.POST.get("assignee"))
        except ValidationError as exc:
            errors.update(exc.errors)
        if errors:
            raise ValidationError(errors)
        actions.create_task(
            complaint,
            actor=Actor.staff(user),
            kind=request.POST.get("kind", ""),
            department=department,
            assignee=assignee,
            request=_field(request, "request"),
            due_in_days=request.POST.get("due_in_days", ""),
            due_on=request.POST.get("due_on", ""),
            blocking=request.POST.get("blocking") == "on",
            expected_version=_version(request),
        )

    return _on_case(request, tracking_no, "create_task", run)


@login_required
@require_POST
def record_finding(request: HttpRequest, tracking_no: str) -> HttpResponse:
    user = _staff(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)

    def run() -> None:
        actions.record_finding(
            complaint,
            actor=Actor.staff(user),
            facts=_field(request, "facts"),
            root_cause=request.POST.get("root_cause", ""),
            responsibility=request.POST.get("responsibility", ""),
            nature=request.POST.get("nature", ""),
            justification=_field(request, "justification"),
            evidence=request.POST.getlist("evidence"),
            expected_version=_version(request),
        )

    return _on_case(request, tracking_no, "record_finding", run)


@login_required
@require_POST
def decide_finding(request: HttpRequest, tracking_no: str, pk: int, verb: str) -> HttpResponse:
    user = _staff(request)
    if verb not in {"confirm", "reject"}:
        raise Http404
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    finding = Finding.objects.filter(pk=pk, complaint_id=complaint.pk).first()
    if finding is None:
        raise Http404
    finding.complaint = complaint
    decide = actions.confirm_finding if verb == "confirm" else actions.reject_finding

    def run() -> None:
        decide(finding, actor=Actor.staff(user), comment=_field(request, "comment"), expected_version=_version(request))

    return _on_case(request, tracking_no, "decide_finding", run)


# --- my tasks and the task page --------------------------------------------------------------------


@login_required
@require_GET
def tasks(request: HttpRequest) -> HttpResponse:
    """Tasks for me and my departments; open ones by due date, so the overdue come first, highlighted."""
    user = _staff(request)
    state = request.GET.get("state", TaskStatus.OPEN)
    if state not in TaskStatus.values:
        state = TaskStatus.OPEN
    now = timezone.now()
    rows = [{"task": t, "overdue": t.is_overdue(now)} for t in queue_for(user, state)[:200]]
    return render(
        request,
        "investigation/tasks.html",
        {"rows": rows, "state": state, "states": TaskStatus.choices, "overdue": sum(r["overdue"] for r in rows)},
    )


def _task_page(request: HttpRequest, task: CoordinationTask, error: dict[str, Any] | None = None) -> HttpResponse:
    context = {**task_page(task, request.user), "error": error or {}, "evidence_kinds": EvidenceKind.choices}  # type: ignore[arg-type]
    return render(request, "investigation/task.html", context, status=422 if error else 200)


@login_required
@require_GET
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    return _task_page(request, task_for_user(user, pk))


def _on_task(request: HttpRequest, task: CoordinationTask, form: str, run: Callable[[], Any]) -> HttpResponse:
    try:
        run()
    except (ValidationError, VersionConflict, TransitionNotAllowed, PermissionDenied, DomainError) as exc:
        fresh = task_for_user(request.user, task.pk)  # type: ignore[arg-type]
        return _task_page(request, fresh, {"action": form, **_refusal(exc)})
    return redirect(reverse("investigation:task", args=[task.pk]))


@login_required
@require_POST
def complete_task(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    task = task_for_user(user, pk)
    return _on_task(
        request,
        task,
        "complete_task",
        lambda: actions.complete_task(
            task, actor=Actor.staff(user), result=_field(request, "result"), expected_version=_version(request)
        ),
    )


@login_required
@require_POST
def cancel_task(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    task = task_for_user(user, pk)
    return _on_task(
        request,
        task,
        "cancel_task",
        lambda: actions.cancel_task(
            task, actor=Actor.staff(user), reason=_field(request, "reason"), expected_version=_version(request)
        ),
    )


@login_required
@require_POST
def reassign_task(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    task = task_for_user(user, pk)

    def run() -> None:
        actions.reassign_task(
            task,
            actor=Actor.staff(user),
            department=department_by_code(request.POST.get("department")),
            assignee=user_by_name(request.POST.get("assignee")),
            due_in_days=request.POST.get("due_in_days", ""),
            due_on=request.POST.get("due_on", ""),
            note=_field(request, "note"),
            expected_version=_version(request),
        )

    return _on_task(request, task, "reassign_task", run)


@login_required
@require_POST
def attach(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    task = task_for_user(user, pk)

    def run() -> None:
        files = request.FILES.getlist("file")
        kind = request.POST.get("kind", "")
        errors: dict[str, str] = {}
        if not files:
            errors["file"] = _("请选择要上传的文件。")
        if kind not in EvidenceKind.values:
            errors["kind"] = _("请选择证据类型。")
        if errors:
            raise ValidationError(errors)
        for upload in files:
            actions.attach_to_task(
                task,
                actor=Actor.staff(user),
                content=upload,
                filename=upload.name or "file",
                kind=kind,
                via=Via.STAFF,
                description=_field(request, "description"),
            )

    return _on_task(request, task, "attach", run)
