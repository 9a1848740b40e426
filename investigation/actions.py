"""Investigation writes: coordination tasks to departments and findings.

Case-level actions (create a task, record / confirm / reject a finding) run through
complaints.actions._run: the case row is locked, its state and the actor's role are checked
(transitions.FROM_STATES, permissions.staff_may), and one event is appended to the case's ledger
chain. Work on one task (complete, cancel, reassign, attach a file) runs through `_run_task`, the same
steps with one difference: the role check is investigation.access.may_on_task, which lets the task's
department and its assignee work on their task without seeing the rest of the case.
Free text (requests, results, reasons, facts) goes into the event encrypted; the facts (kinds,
departments, dates, natures) in clear."""

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import Department, Membership, User
from complaints import calendar
from complaints.actions import _after_commit, _lock, _notify, _run, _supervisors, add_note, check_version
from complaints.choices import Nature
from complaints.ledgering import Actor, record, snapshot
from complaints.models import Complaint
from complaints.permissions import staff_may
from complaints.transitions import FROM_STATES, guard
from core.errors import TransitionNotAllowed, ValidationError
from evidence import store
from evidence.actions import add_evidence, check_evidence, clean_filename
from evidence.choices import Via
from evidence.models import Evidence
from ledger.crypto import new_subject_key, usable

from .access import may_on_task
from .choices import NEEDS_CONFIRMATION, FindingStatus, Responsibility, TaskKind, TaskStatus
from .messages import outcome_message
from .models import CoordinationTask, Finding, RootCause

TASK_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.DEPARTMENT_HANDLER)
MAX_DUE_DAYS = 60


def _text(value: str | None, field: str, maximum: int, minimum: int = 0) -> str:
    text = (value or "").strip()
    if len(text) < minimum:
        raise ValidationError(field, _("必填，至少 %(n)d 个字。") % {"n": minimum})
    if len(text) > maximum:
        raise ValidationError(field, _("内容过长（最多 %(n)d 字）。") % {"n": maximum})
    return text


def _collect(errors: dict[str, str], field: str, check: Callable[[], Any]) -> Any:
    """Run one check; its refusal is kept under its field so that a form shows every error at once."""
    try:
        return check()
    except ValidationError as exc:
        errors.update({k: str(v) for k, v in exc.errors.items()})
        return None


# --- checks -------------------------------------------------------------------------------------


def default_due_days() -> int:
    return int(getattr(settings, "COMPLAINTDESK_TASK_DUE_WORKING_DAYS", 3))


def check_kind(kind: str) -> str:
    if kind not in TaskKind.values:
        raise ValidationError("kind", _("请选择协办任务类型。"))
    return kind


def check_department(department: Department | None) -> Department:
    if department is None:
        raise ValidationError("department", _("请选择协办部门。"))
    return department


def check_assignee(department: Department | None, assignee: User | None) -> None:
    """A named assignee must work in the task's department."""
    if assignee is None or department is None:
        return
    member = Membership.objects.filter(user=assignee, department=department, role__in=TASK_ROLES).exists()
    if not assignee.is_active or not member:
        raise ValidationError("assignee", _("协办人必须是“%(dept)s”的在职人员。") % {"dept": department.name})


def check_due(due_in_days: Any = None, due_on: Any = None) -> tuple[str, Any]:
    """("days", n) or ("date", day): the end of the n-th working day, or the end of a chosen future
    working day. Neither given: the default number of working days."""
    days_given = due_in_days not in (None, "")
    date_given = due_on not in (None, "")
    if days_given and date_given:
        raise ValidationError("due_on", _("请只填写“期限（工作日）”或“截止日期”其中一项。"))
    if date_given:
        if isinstance(due_on, datetime):
            due_on = due_on.date()
        if not isinstance(due_on, date):
            try:
                due_on = date.fromisoformat(str(due_on).strip())
            except ValueError:
                raise ValidationError("due_on", _("日期格式应为 YYYY-MM-DD。")) from None
        today = timezone.localdate()
        if due_on <= today:
            raise ValidationError("due_on", _("截止日期必须是今天之后的日期。"))
        if (due_on - today).days > 366:
            raise ValidationError("due_on", _("截止日期不能超过一年。"))
        if not calendar.is_working_day(due_on):
            raise ValidationError("due_on", _("%(day)s 不是工作日，请选择工作日。") % {"day": due_on.isoformat()})
        return "date", due_on
    if not days_given:
        return "days", default_due_days()
    try:
        days = int(str(due_in_days).strip())
    except ValueError:
        raise ValidationError("due_in_days", _("期限应为工作日天数（整数）。")) from None
    if not 1 <= days <= MAX_DUE_DAYS:
        raise ValidationError("due_in_days", _("期限应为 1 到 %(max)d 个工作日。") % {"max": MAX_DUE_DAYS})
    return "days", days


def due_at_for(due: tuple[str, Any], now: datetime) -> datetime:
    kind, value = due
    return calendar.end_of_day(value) if kind == "date" else calendar.add_working_days(now, value)


def department_people(department: Department) -> list[User]:
    """Who hears of a task addressed to a department without a name: its handlers and supervisors."""
    return list(
        User.objects.filter(
            is_active=True,
            memberships__department=department,
            memberships__role__in=(Role.DEPARTMENT_HANDLER, Role.SUPERVISOR),
        ).distinct()
    )


def _task_event(task: CoordinationTask, **extra: Any) -> dict[str, Any]:
    """The facts of a task event, in clear (no personal data)."""
    return {
        "task_id": task.pk,
        "kind": task.kind,
        "department": task.department.code,
        "assignee": task.assignee.get_username() if task.assignee_id else None,
        "due_at": task.due_at.isoformat(),
        "blocking": task.blocking,
        "task_status": task.status,
        **extra,
    }


def _check_open(task: CoordinationTask) -> None:
    if task.status != TaskStatus.OPEN:
        raise ValidationError(
            "task", _("该协办任务当前状态为“%(status)s”，不能再操作。") % {"status": task.get_status_display()}
        )


# --- the runner for work on one task --------------------------------------------------------------


def _run_task(
    task: CoordinationTask,
    actor: Actor,
    action: str,
    change: Callable[[Complaint, CoordinationTask, datetime], dict[str, Any] | None],
    *,
    expected_version: int | None = None,
) -> CoordinationTask:
    """complaints.actions._run for one task: lock the case and the task, check the state, the guard
    and may_on_task, apply `change`, save, and record one event on the case's chain."""
    with transaction.atomic():
        locked = _lock(task.complaint_id)
        check_version(locked, expected_version)
        current = (
            CoordinationTask.objects.select_for_update(of=("self",))
            .select_related("department", "assignee")
            .get(pk=task.pk)
        )
        current.complaint = locked
        if locked.status not in FROM_STATES[action]:
            raise TransitionNotAllowed(
                action,
                locked.status,
                [],
                _("投诉当前状态为“%(state)s”，不能再办理协办任务。") % {"state": locked.get_status_display()},
            )
        reason = guard(locked, action)
        if reason is not None:
            raise TransitionNotAllowed(action, locked.status, [], reason)
        if actor.kind != "staff" or not may_on_task(actor.user, current, action):
            raise PermissionDenied(_("您不能办理此协办任务。"))
        before = snapshot(locked)
        if not usable(locked.subject_key_id):
            locked.subject_key = new_subject_key()
        now = timezone.now()
        private = change(locked, current, now) or {}
        data = private.pop("_data", {})
        locked.version += 1
        after = snapshot(locked)
        fields = [name for name in after if after[name] != before[name]]
        locked.save(update_fields=[*fields, "version"])
        record(locked, action=action, actor=actor, before=before, data=data, private=private)
        _after_commit(locked, action)
    return current


# --- coordination tasks ---------------------------------------------------------------------------


def create_task(
    complaint: Complaint,
    *,
    actor: Actor,
    kind: str,
    department: Department | None,
    request: str,
    assignee: User | None = None,
    due_in_days: Any = None,
    due_on: Any = None,
    blocking: bool = True,
    expected_version: int | None = None,
) -> CoordinationTask:
    """Ask a department for a lab test, a trace, a check or a review, due on the business calendar.
    The assignee (or, without one, the department's handlers and supervisors) is told in-app."""
    errors: dict[str, str] = {}
    _collect(errors, "kind", lambda: check_kind(kind))
    _collect(errors, "department", lambda: check_department(department))
    _collect(errors, "assignee", lambda: check_assignee(department, assignee))
    text = _collect(errors, "request", lambda: _text(request, "request", 4000, 4))
    due = _collect(errors, "due", lambda: check_due(due_in_days, due_on))
    if errors:
        raise ValidationError(errors)
    assert department is not None
    created: list[CoordinationTask] = []

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        task = CoordinationTask.objects.create(
            complaint=c,
            kind=kind,
            department=department,
            assignee=assignee,
            request=text,
            due_at=due_at_for(due, now),
            blocking=bool(blocking),
            created_by=actor.user,
            created_at=now,
        )
        created.append(task)
        recipients = [assignee] if assignee is not None else department_people(department)
        _notify(
            [u for u in recipients if u.pk != actor.user.pk],
            c,
            "coordination_task",
            _("投诉 %(no)s 有一项%(kind)s请您协办，期限 %(due)s。")
            % {
                "no": c.tracking_no,
                "kind": task.get_kind_display(),
                "due": timezone.localtime(task.due_at).strftime("%Y-%m-%d"),
            },
        )
        return {"_data": _task_event(task), "note": text}

    _run(complaint, actor, "create_task", change, expected_version=expected_version)
    return created[0]


def complete_task(
    task: CoordinationTask, *, actor: Actor, result: str, expected_version: int | None = None
) -> CoordinationTask:
    """The department's answer. The case's owner (and whoever asked) are told in-app."""
    text = _text(result, "result", 8000, 2)

    def change(c: Complaint, t: CoordinationTask, now: datetime) -> dict[str, Any]:
        _check_open(t)
        t.status = TaskStatus.DONE
        t.result = text
        t.completed_by = actor.user
        t.completed_at = now
        t.save(update_fields=["status", "result", "completed_by", "completed_at"])
        told = {u for u in (c.owner_id, t.created_by_id) if u and u != actor.user.pk}
        _notify(
            list(User.objects.filter(pk__in=told, is_active=True)),
            c,
            "coordination_task_done",
            _("投诉 %(no)s 的%(kind)s已完成。") % {"no": c.tracking_no, "kind": t.get_kind_display()},
        )
        attachments = sorted(t.attachments.values_list("pk", flat=True))
        return {"_data": _task_event(t, attachments=attachments), "note": text}

    return _run_task(task, actor, "complete_task", change, expected_version=expected_version)


def cancel_task(
    task: CoordinationTask, *, actor: Actor, reason: str, expected_version: int | None = None
) -> CoordinationTask:
    text = _text(reason, "reason", 2000, 2)

    def change(c: Complaint, t: CoordinationTask, now: datetime) -> dict[str, Any]:
        _check_open(t)
        t.status = TaskStatus.CANCELLED
        t.cancel_reason = text
        t.completed_by = actor.user
        t.completed_at = now
        t.save(update_fields=["status", "cancel_reason", "completed_by", "completed_at"])
        if t.assignee_id and t.assignee_id != actor.user.pk:
            _notify(
                [t.assignee],
                c,
                "coordination_task_cancelled",
                _("投诉 %(no)s 的%(kind)s已取消。") % {"no": c.tracking_no, "kind": t.get_kind_display()},
            )
        return {"_data": _task_event(t), "note": text}

    return _run_task(task, actor, "cancel_task", change, expected_version=expected_version)


def reassign_task(
    task: CoordinationTask,
    *,
    actor: Actor,
    department: Department | None = None,
    assignee: User | None = None,
    due_in_days: Any = None,
    due_on: Any = None,
    note: str = "",
    expected_version: int | None = None,
) -> CoordinationTask:
    """Hand the task to another department or person (and optionally move its due date). The
    task's own supervisor may hand it on inside the department; the case's side anywhere."""
    department = department or task.department
    errors: dict[str, str] = {}
    _collect(errors, "assignee", lambda: check_assignee(department, assignee))
    new_due = None
    if due_in_days not in (None, "") or due_on not in (None, ""):
        new_due = _collect(errors, "due", lambda: check_due(due_in_days, due_on))
    text = _collect(errors, "note", lambda: _text(note, "note", 2000))
    if department.pk == task.department_id and (assignee.pk if assignee else None) == task.assignee_id:
        if not new_due and "due_in_days" not in errors and "due_on" not in errors:
            errors.setdefault("assignee", _("请选择新的协办部门或协办人。"))
    if errors:
        raise ValidationError(errors)

    def change(c: Complaint, t: CoordinationTask, now: datetime) -> dict[str, Any]:
        _check_open(t)
        if department.pk != t.department_id and not staff_may(actor.user, c, "reassign_task"):
            raise ValidationError("department", _("您只能在本部门内转派此任务。"))
        before = {"department": t.department.code, "assignee": t.assignee.get_username() if t.assignee_id else None}
        t.department = department
        t.assignee = assignee
        if new_due:
            t.due_at = due_at_for(new_due, now)
        t.overdue_notified_at = None
        t.save(update_fields=["department", "assignee", "due_at", "overdue_notified_at"])
        recipients = [assignee] if assignee is not None else department_people(department)
        _notify(
            [u for u in recipients if u.pk != actor.user.pk],
            c,
            "coordination_task",
            _("投诉 %(no)s 有一项%(kind)s转给您协办，期限 %(due)s。")
            % {
                "no": c.tracking_no,
                "kind": t.get_kind_display(),
                "due": timezone.localtime(t.due_at).strftime("%Y-%m-%d"),
            },
        )
        return {"_data": _task_event(t, previous=before), "note": text}

    return _run_task(task, actor, "reassign_task", change, expected_version=expected_version)


def attach_to_task(
    task: CoordinationTask,
    *,
    actor: Actor,
    content: bytes | BinaryIO | File,
    filename: str,
    kind: str,
    via: str = Via.STAFF,
    description: str = "",
) -> Evidence:
    """A file for the task (a lab report, a waybill): an evidence item of the case, linked to the task.

    Who may add evidence to the case goes through evidence.actions.add_evidence. The task's department
    people who do not see the case cannot pass its role check, so their file takes the same steps
    here (the same content checks and store, the same `add_evidence` ledger event) under
    may_on_task."""
    filename = clean_filename(filename)
    description = (description or "").strip()[:500]
    complaint = task.complaint
    if actor.kind == "staff" and staff_may(actor.user, complaint, "add_evidence"):
        with transaction.atomic():
            item = add_evidence(
                complaint,
                content=content,
                filename=filename,
                kind=kind,
                actor=actor,
                via=via,
                description=description,
                shown_to_consumer=False,
            )
            locked = CoordinationTask.objects.select_for_update().get(pk=task.pk)
            _check_open(locked)
            locked.attachments.add(item)
        return item
    data, size, content_type = check_evidence(content, filename, kind)
    if actor.kind != "staff" or not may_on_task(actor.user, task, "add_evidence"):
        raise PermissionDenied(_("您不能办理此协办任务。"))  # before storing: a refusal leaves no blob
    _check_open(task)
    sha256, size = store.put(data)
    created: list[Evidence] = []

    def change(c: Complaint, t: CoordinationTask, now: datetime) -> dict[str, Any]:
        _check_open(t)
        item = Evidence.objects.create(
            complaint=c,
            kind=kind,
            sha256=sha256,
            size=size,
            content_type=content_type,
            filename=filename,
            description=description,
            via=via,
            added_by=actor.ref,
            added_by_user=actor.user,
            shown_to_consumer=False,
        )
        t.attachments.add(item)
        created.append(item)
        return {
            "_data": {
                "evidence_id": item.pk,
                "sha256": sha256,
                "size": size,
                "content_type": content_type,
                "kind": kind,
                "via": via,
                "task_id": t.pk,
            },
            "filename": filename,
            "description": description,
        }

    _run_task(task, actor, "add_evidence", change)
    return created[0]


def notify_overdue(now: datetime | None = None) -> int:
    """Tell the assignee (or the department) and the case's owner once when a task passes its due
    date. For the worker's scheduler loop; safe to run concurrently (rows are claimed one by one)."""
    now = now or timezone.now()
    told = 0
    due = CoordinationTask.objects.filter(
        status=TaskStatus.OPEN, due_at__lt=now, overdue_notified_at__isnull=True
    ).values_list("pk", flat=True)
    for pk in list(due[:500]):
        with transaction.atomic():
            claimed = CoordinationTask.objects.filter(pk=pk, overdue_notified_at__isnull=True).update(
                overdue_notified_at=now
            )
            if not claimed:
                continue
            task = CoordinationTask.objects.select_related("complaint__owner", "department", "assignee").get(pk=pk)
            recipients = {
                u.pk: u for u in ([task.assignee] if task.assignee_id else department_people(task.department))
            }
            if task.complaint.owner_id:
                recipients[task.complaint.owner_id] = task.complaint.owner
            _notify(
                [u for u in recipients.values() if u.is_active],
                task.complaint,
                "coordination_task_overdue",
                _("投诉 %(no)s 的%(kind)s（%(dept)s）已超过期限。")
                % {"no": task.complaint.tracking_no, "kind": task.get_kind_display(), "dept": task.department.name},
            )
            told += 1
    return told


# --- findings -------------------------------------------------------------------------------------


def justification_min_chars() -> int:
    return int(getattr(settings, "COMPLAINTDESK_FINDING_JUSTIFICATION_MIN_CHARS", 20))


def check_root_cause(root_cause: RootCause | str | None) -> RootCause:
    if isinstance(root_cause, RootCause):
        found: RootCause | None = root_cause if root_cause.active else None
    else:
        found = RootCause.objects.filter(code=(root_cause or "").strip(), active=True).first()
    if found is None:
        raise ValidationError("root_cause", _("请从列表中选择根本原因。"))
    return found


def _evidence_of(complaint: Complaint, evidence: list[Any]) -> list[Evidence]:
    ids: set[int] = set()
    for item in evidence or []:
        pk = item.pk if isinstance(item, Evidence) else item
        try:
            ids.add(int(pk))
        except (TypeError, ValueError):
            raise ValidationError("evidence", _("证据编号无效：%(id)s") % {"id": str(pk)[:20]}) from None
    items = list(Evidence.objects.filter(pk__in=ids, complaint_id=complaint.pk, deleted_at__isnull=True))
    if len(items) != len(ids):
        raise ValidationError("evidence", _("只能引用本投诉的证据。"))
    return items


def check_finding(
    complaint: Complaint,
    *,
    facts: str,
    root_cause: RootCause | str | None,
    responsibility: str,
    nature: str,
    justification: str,
    evidence: list[Any],
) -> tuple[str, RootCause, str, list[Evidence]]:
    """Validate a finding; every refusal names its field, all of them at once."""
    errors: dict[str, str] = {}
    facts = _collect(errors, "facts", lambda: _text(facts, "facts", 8000, 10))
    cause = _collect(errors, "root_cause", lambda: check_root_cause(root_cause))
    if responsibility not in Responsibility.values:
        errors["responsibility"] = _("请选择责任方。")
    if nature not in Nature.values:
        errors["nature"] = _("请选择投诉性质。")
    justification = _collect(errors, "justification", lambda: _text(justification, "justification", 8000))
    items = _collect(errors, "evidence", lambda: _evidence_of(complaint, evidence)) or []
    if nature in NEEDS_CONFIRMATION:
        minimum = justification_min_chars()
        if "justification" not in errors and len(justification or "") < minimum:
            errors["justification"] = _("认定为不实或恶意投诉须写明理由，至少 %(n)d 个字。") % {"n": minimum}
        if "evidence" not in errors and not items:
            errors["evidence"] = _("认定为不实或恶意投诉须引用至少一项本案证据。")
    if errors:
        raise ValidationError(errors)
    return justification or "", cause, facts, items


def _finding_event(finding: Finding, **extra: Any) -> dict[str, Any]:
    return {
        "finding_id": finding.pk,
        "root_cause": finding.root_cause.code,
        "responsibility": finding.responsibility,
        "nature": finding.nature,
        "finding_status": finding.status,
        "evidence": sorted(e.pk for e in finding.evidence.all()),
        **extra,
    }


def _take_effect(c: Complaint, finding: Finding, now: datetime) -> None:
    """The finding becomes the case's: its nature is set (a ledgered field), earlier ones step aside."""
    Finding.objects.filter(complaint=c, status=FindingStatus.EFFECTIVE).exclude(pk=finding.pk).update(
        status=FindingStatus.SUPERSEDED
    )
    finding.status = FindingStatus.EFFECTIVE
    c.nature = finding.nature


def _tell_consumer(complaint: Complaint, actor: Actor, nature: str) -> None:
    """A consumer-visible note (ComplaintMessage internal=False; the status page shows it)."""
    add_note(complaint, actor=actor, text=outcome_message(complaint, nature), internal=False)


def record_finding(
    complaint: Complaint,
    *,
    actor: Actor,
    facts: str,
    root_cause: RootCause | str | None,
    responsibility: str,
    nature: str,
    justification: str = "",
    evidence: list[Any] | None = None,
    expected_version: int | None = None,
) -> Finding:
    """Record what the investigation established. Valid: the case's nature is set at once and the
    consumer told. Unfounded or malicious: pending until a supervisor who is not the author confirms."""
    justification, cause, facts, items = check_finding(
        complaint,
        facts=facts,
        root_cause=root_cause,
        responsibility=responsibility,
        nature=nature,
        justification=justification,
        evidence=evidence or [],
    )
    created: list[Finding] = []

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        if Finding.objects.filter(complaint=c, status=FindingStatus.PENDING).exists():
            raise ValidationError("nature", _("本案已有一项待主管确认的调查结论，请先确认或驳回。"))
        finding = Finding.objects.create(
            complaint=c,
            facts=facts,
            root_cause=cause,
            responsibility=responsibility,
            nature=nature,
            justification=justification,
            status=FindingStatus.PENDING,
            recorded_by=actor.user,
            recorded_at=now,
        )
        finding.evidence.set(items)
        if nature in NEEDS_CONFIRMATION:
            _notify(
                [u for u in _supervisors(c) if u.pk != actor.user.pk],
                c,
                "finding_confirmation",
                _("投诉 %(no)s 的调查结论“%(nature)s”待您确认。")
                % {"no": c.tracking_no, "nature": finding.get_nature_display()},
            )
        else:
            _take_effect(c, finding, now)
            finding.save(update_fields=["status"])
        created.append(finding)
        return {"_data": _finding_event(finding), "note": facts, "justification": justification}

    with transaction.atomic():
        updated = _run(complaint, actor, "record_finding", change, expected_version=expected_version)
        if created[0].status == FindingStatus.EFFECTIVE:
            _tell_consumer(updated, actor, nature)
    return created[0]


def _locked_finding(complaint: Complaint, finding: Finding) -> Finding:
    locked = Finding.objects.select_related("root_cause").filter(pk=finding.pk, complaint_id=complaint.pk).first()
    if locked is None:
        raise ValidationError("finding", _("该调查结论不属于此投诉。"))
    if locked.status != FindingStatus.PENDING:
        raise ValidationError(
            "finding",
            _("该调查结论当前状态为“%(status)s”，不能再确认或驳回。") % {"status": locked.get_status_display()},
        )
    return locked


def _check_not_own(finding: Finding, actor: Actor) -> None:
    # Said before the role check: the author's own finding is the clearest reason.
    if actor.kind == "staff" and finding.recorded_by_id == actor.user.pk:
        raise PermissionDenied(_("不能确认或驳回自己提出的调查结论，须由其他主管确认。"))


def confirm_finding(
    finding: Finding, *, actor: Actor, comment: str = "", expected_version: int | None = None
) -> Finding:
    """A supervisor of the case's department (or a manager above) confirms an unfounded or malicious
    finding: only now is the case's nature set and the consumer told, courteously."""
    comment = _text(comment, "comment", 2000)
    _check_not_own(finding, actor)
    result: list[Finding] = []

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        f = _locked_finding(c, finding)
        _take_effect(c, f, now)
        f.confirmed_by = actor.user
        f.confirmed_at = now
        f.decision_comment = comment
        f.save(update_fields=["status", "confirmed_by", "confirmed_at", "decision_comment"])
        _notify(
            [f.recorded_by],
            c,
            "finding_confirmed",
            _("投诉 %(no)s 的调查结论已确认。") % {"no": c.tracking_no},
        )
        result.append(f)
        return {"_data": _finding_event(f), "note": comment}

    with transaction.atomic():
        updated = _run(finding.complaint, actor, "confirm_finding", change, expected_version=expected_version)
        _tell_consumer(updated, actor, result[0].nature)
    return result[0]


def reject_finding(finding: Finding, *, actor: Actor, comment: str, expected_version: int | None = None) -> Finding:
    """The supervisor does not confirm it (with the reason); the case's nature stays as it was."""
    comment = _text(comment, "comment", 2000, 2)
    _check_not_own(finding, actor)
    result: list[Finding] = []

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        f = _locked_finding(c, finding)
        f.status = FindingStatus.REJECTED
        f.confirmed_by = actor.user
        f.confirmed_at = now
        f.decision_comment = comment
        f.save(update_fields=["status", "confirmed_by", "confirmed_at", "decision_comment"])
        _notify(
            [f.recorded_by],
            c,
            "finding_rejected",
            # The comment stays in the case (encrypted in the ledger); the notice only points there.
            _("投诉 %(no)s 的调查结论被驳回，意见见投诉页面。") % {"no": c.tracking_no},
        )
        result.append(f)
        return {"_data": _finding_event(f), "note": comment}

    _run(finding.complaint, actor, "reject_finding", change, expected_version=expected_version)
    return result[0]


__all__ = [
    "attach_to_task",
    "cancel_task",
    "complete_task",
    "confirm_finding",
    "create_task",
    "notify_overdue",
    "reassign_task",
    "record_finding",
    "reject_finding",
]
