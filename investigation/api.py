"""Coordination tasks and findings over the API (staff: token or session). Writes may carry the case
version (If-Match or `version`); without one they apply to the current version.

Tasks have their own address (/coordination-tasks/{id}) so that the task's department and assignee,
who may not see the case, reach their task; everything else goes through the case."""

from datetime import date
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from pydantic import ConfigDict, Field

from accounts.models import User
from complaints.api import StaffSession, TokenAuth, _expected_version, _user
from complaints.ledgering import Actor
from complaints.models import Complaint
from complaints.permissions import Principal, get_complaint_for_user
from core.api_schema import documented
from core.http import json_response
from core.validation import CleanText
from evidence.choices import EvidenceKind, Via
from evidence.selectors import describe as describe_evidence
from privacy.audit import record_case_read

from . import actions
from .choices import Responsibility, TaskKind, TaskStatus
from .inputs import department_by_code, user_by_name
from .models import Finding, RootCause
from .selectors import (
    case_essentials,
    describe_finding,
    describe_task,
    findings_of,
    queue_for,
    task_for_user,
    tasks_of,
)

router = Router(tags=["investigation"], auth=[TokenAuth(), StaffSession()])


def _version(request: HttpRequest, version: int | None) -> int | None:
    if version is None and not request.headers.get("If-Match", "").strip():
        return None
    return _expected_version(request, version)


def _task_answer(task_id: int, user: User, status: int = 200) -> HttpResponse:
    task = task_for_user(user, task_id)
    sees = Principal.of(user).can_see(task.complaint)
    masked = sees and Principal.of(user).masked_for(task.complaint)
    body = {**describe_task(task, masked=masked), "case": case_essentials(task.complaint)}
    response = json_response(body, status=status)
    response["ETag"] = f'"{Complaint.objects.values_list("version", flat=True).get(pk=task.complaint_id)}"'
    return response


# --- tasks ----------------------------------------------------------------------------------------


@router.get("/complaints/{tracking_no}/coordination-tasks", summary="The case's coordination tasks")
def list_case_tasks(request: HttpRequest, tracking_no: str) -> list[dict[str, Any]]:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no)
    masked = Principal.of(user).masked_for(complaint)
    record_case_read(user, complaint, "coordination_tasks")  # issue 9: a read of personal data is a ledger event
    return [describe_task(t, masked=masked) for t in tasks_of(complaint)]


class TaskIn(Schema):
    model_config = ConfigDict(extra="forbid")
    kind: TaskKind
    department: CleanText = Field(max_length=40)
    assignee: CleanText = Field("", max_length=150)
    request: CleanText = Field(max_length=4000)
    # Either a number of working days (the deadline is the end of the last one) or a future working day.
    due_in_days: int | None = None
    due_on: date | None = None
    blocking: bool = True
    version: int | None = Field(None, ge=1)


@router.post(
    "/complaints/{tracking_no}/coordination-tasks",
    summary="Ask a department for a coordination task",
    openapi_extra=documented(created="The task", ok=False),
)
def create_task(request: HttpRequest, tracking_no: str, payload: TaskIn) -> HttpResponse:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    task = actions.create_task(
        complaint,
        actor=Actor.staff(user),
        kind=payload.kind,
        department=department_by_code(payload.department),
        assignee=user_by_name(payload.assignee),
        request=payload.request,
        due_in_days=payload.due_in_days,
        due_on=payload.due_on,
        blocking=payload.blocking,
        expected_version=_version(request, payload.version),
    )
    return _task_answer(task.pk, user, status=201)


@router.get("/coordination-tasks", summary="My tasks: to me and to my departments (open ones, overdue first)")
def my_tasks(request: HttpRequest, status: TaskStatus = TaskStatus.OPEN) -> list[dict[str, Any]]:
    user = _user(request)
    return [describe_task(t) for t in queue_for(user, status)[:200]]


@router.get("/coordination-tasks/{task_id}", summary="One task: the request, the result, the case's essentials")
def get_task(request: HttpRequest, task_id: int) -> HttpResponse:
    return _task_answer(task_id, _user(request))


@router.post(
    "/coordination-tasks/{task_id}/attachments",
    summary="Attach a file to the task (an evidence item)",
    openapi_extra=documented(created="The evidence item", ok=False),
)
def attach(
    request: HttpRequest,
    task_id: int,
    file: File[UploadedFile],
    kind: Form[EvidenceKind] = EvidenceKind.THIRD_PARTY_PROOF,
    description: Form[str] = "",
) -> HttpResponse:
    user = _user(request)
    task = task_for_user(user, task_id)
    item = actions.attach_to_task(
        task,
        actor=Actor.staff(user),
        content=file,
        filename=file.name or "file",
        kind=kind,
        via=Via.API,
        description=description,
    )
    return json_response({**describe_evidence(item), "task_id": task.pk}, status=201)


class ResultIn(Schema):
    model_config = ConfigDict(extra="forbid")
    result: CleanText = Field("", max_length=8000)
    version: int | None = Field(None, ge=1)


@router.post("/coordination-tasks/{task_id}/complete", summary="Record the department's result")
def complete(request: HttpRequest, task_id: int, payload: ResultIn) -> HttpResponse:
    user = _user(request)
    task = task_for_user(user, task_id)
    actions.complete_task(
        task, actor=Actor.staff(user), result=payload.result, expected_version=_version(request, payload.version)
    )
    return _task_answer(task.pk, user)


class CancelIn(Schema):
    model_config = ConfigDict(extra="forbid")
    reason: CleanText = Field("", max_length=2000)
    version: int | None = Field(None, ge=1)


@router.post("/coordination-tasks/{task_id}/cancel", summary="Cancel a task no longer needed, with the reason")
def cancel(request: HttpRequest, task_id: int, payload: CancelIn) -> HttpResponse:
    user = _user(request)
    task = task_for_user(user, task_id)
    actions.cancel_task(
        task, actor=Actor.staff(user), reason=payload.reason, expected_version=_version(request, payload.version)
    )
    return _task_answer(task.pk, user)


class ReassignIn(Schema):
    model_config = ConfigDict(extra="forbid")
    department: CleanText = Field("", max_length=40)
    assignee: CleanText = Field("", max_length=150)
    due_in_days: int | None = None
    due_on: date | None = None
    note: CleanText = Field("", max_length=2000)
    version: int | None = Field(None, ge=1)


@router.post("/coordination-tasks/{task_id}/reassign", summary="Hand the task to another department or person")
def reassign(request: HttpRequest, task_id: int, payload: ReassignIn) -> HttpResponse:
    user = _user(request)
    task = task_for_user(user, task_id)
    actions.reassign_task(
        task,
        actor=Actor.staff(user),
        department=department_by_code(payload.department),
        assignee=user_by_name(payload.assignee),
        due_in_days=payload.due_in_days,
        due_on=payload.due_on,
        note=payload.note,
        expected_version=_version(request, payload.version),
    )
    return _task_answer(task.pk, user)


# --- findings -------------------------------------------------------------------------------------


@router.get("/root-causes", summary="The root-cause taxonomy (active causes)")
def root_causes(request: HttpRequest) -> list[dict[str, Any]]:
    _user(request)
    return [{"code": r.code, "name": r.name, "name_en": r.name_en} for r in RootCause.objects.filter(active=True)]


@router.get("/complaints/{tracking_no}/findings", summary="The case's findings")
def list_findings(request: HttpRequest, tracking_no: str) -> list[dict[str, Any]]:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no)
    masked = Principal.of(user).masked_for(complaint)
    record_case_read(user, complaint, "findings")  # issue 9: a read of personal data is a ledger event
    return [describe_finding(f, masked=masked) for f in findings_of(complaint)]


class FindingIn(Schema):
    model_config = ConfigDict(extra="forbid")
    facts: CleanText = Field("", max_length=8000)
    root_cause: CleanText = Field("", max_length=40)
    responsibility: Responsibility
    nature: CleanText = Field(max_length=20)
    justification: CleanText = Field("", max_length=8000)
    evidence: list[int] = Field([], max_length=50)
    version: int | None = Field(None, ge=1)


def _finding_answer(finding: Finding, complaint: Complaint, status: int = 200) -> HttpResponse:
    finding = findings_of(complaint).get(pk=finding.pk)
    response = json_response(describe_finding(finding), status=status)
    response["ETag"] = f'"{Complaint.objects.values_list("version", flat=True).get(pk=complaint.pk)}"'
    return response


@router.post(
    "/complaints/{tracking_no}/findings",
    summary="Record a finding (unfounded/malicious wait)",
    openapi_extra=documented(created="The finding", ok=False),
)
def record_finding(request: HttpRequest, tracking_no: str, payload: FindingIn) -> HttpResponse:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    finding = actions.record_finding(
        complaint,
        actor=Actor.staff(user),
        facts=payload.facts,
        root_cause=payload.root_cause,
        responsibility=payload.responsibility,
        nature=payload.nature,
        justification=payload.justification,
        evidence=payload.evidence,
        expected_version=_version(request, payload.version),
    )
    return _finding_answer(finding, complaint, status=201)


class DecisionIn(Schema):
    model_config = ConfigDict(extra="forbid")
    comment: CleanText = Field("", max_length=2000)
    version: int | None = Field(None, ge=1)


def _decide(request: HttpRequest, tracking_no: str, finding_id: int, verb: str, payload: DecisionIn) -> HttpResponse:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    finding = Finding.objects.filter(pk=finding_id, complaint_id=complaint.pk).first()
    if finding is None:
        raise Http404
    finding.complaint = complaint
    decide = actions.confirm_finding if verb == "confirm" else actions.reject_finding
    decide(
        finding, actor=Actor.staff(user), comment=payload.comment, expected_version=_version(request, payload.version)
    )
    return _finding_answer(finding, complaint)


@router.post("/complaints/{tracking_no}/findings/{finding_id}/confirm", summary="Confirm a pending finding")
def confirm(request: HttpRequest, tracking_no: str, finding_id: int, payload: DecisionIn) -> HttpResponse:
    return _decide(request, tracking_no, finding_id, "confirm", payload)


@router.post("/complaints/{tracking_no}/findings/{finding_id}/reject", summary="Reject a pending finding")
def reject(request: HttpRequest, tracking_no: str, finding_id: int, payload: DecisionIn) -> HttpResponse:
    return _decide(request, tracking_no, finding_id, "reject", payload)
