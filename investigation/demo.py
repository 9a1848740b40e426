"""Demo data for the investigation: coordination tasks (some done, one overdue) and findings on a few
of the demo cases, written through investigation.actions like any real ones.

complaints.demo calls `seed(complaints, rng)` after the stories are told."""

import random
from datetime import timedelta

import time_machine
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.utils import timezone

from accounts.choices import Role
from accounts.models import Department, Membership, User
from complaints.choices import Status
from complaints.ledgering import Actor
from complaints.models import Complaint
from core.errors import DomainError
from evidence.models import Evidence
from ledger.models import LedgerEvent

from . import actions
from .choices import TaskKind

# kind, department code, request, result (中文, English)
_TASKS = [
    (
        TaskKind.QUALITY_LAB_TEST,
        "quality",
        (
            "请对投诉人退回的样品做安全与性能检测，并出具检测报告。",
            "Please test the returned sample for safety and performance and issue a report.",
        ),
        (
            "样品检测完成：发现底座接线松动，属制造缺陷，报告已上传。",
            "Sample tested: loose wiring in the base, a manufacturing defect; report uploaded.",
        ),
    ),
    (
        TaskKind.LOGISTICS_TRACE,
        "logistics",
        (
            "请追踪该订单的配送轨迹，核实签收人和签收时间。",
            "Please trace the delivery of this order and confirm who signed for it and when.",
        ),
        (
            "已核实：包裹由快递柜代收，签收时间与投诉人所述一致。",
            "Confirmed: the parcel went to a locker; the time matches the complainant's account.",
        ),
    ),
    (
        TaskKind.BILLING_CHECK,
        "finance",
        (
            "请核对该订单的扣款与退款流水，确认是否重复扣费。",
            "Please check the charges and refunds of this order for a double charge.",
        ),
        (
            "确认重复扣款一笔，已安排原路退回。",
            "One duplicate charge confirmed; the refund to the original payment method is arranged.",
        ),
    ),
    (
        TaskKind.LEGAL_REVIEW,
        "legal",
        (
            "投诉人提出诉讼威胁，请审核拟定的答复与补偿方案。",
            "The complainant threatens to sue: please review the draft reply and remedy.",
        ),
        ("答复措辞已修改，补偿方案符合法律规定。", "Reply wording revised; the remedy is lawful."),
    ),
]

_FACTS_VALID = (
    "经检测与调取记录，投诉人反映的问题属实，责任在我方。",
    "Tests and records confirm the complainant's account; we are responsible.",
)
_FACTS_UNFOUNDED = (
    "检测报告显示产品各项指标合格，使用记录显示产品被非正常拆改。",
    "The test report shows the product within specification; usage records show it was tampered with.",
)
_JUSTIFICATION = (
    "第三方检测报告与现场照片均显示产品合格，损坏系人为拆改所致，与投诉所述不符。",
    "The third-party report and the photographs show the product was sound and damaged by tampering.",
)


def _say(complaint: Complaint, pair: tuple[str, str]) -> str:
    return pair[1] if (complaint.language or "").startswith("en") else pair[0]


def _people(department: Department, *roles: str) -> list[User]:
    return list(
        User.objects.filter(is_active=True, memberships__department=department, memberships__role__in=roles)
        .distinct()
        .order_by("username")
    )


def _confirmer(complaint: Complaint, author: User) -> User | None:
    """A supervisor of the case's department, or a manager above its org unit (not the author)."""
    candidates = _people(complaint.department, Role.SUPERVISOR) if complaint.department_id else []
    candidates += [
        m.user
        for m in Membership.objects.filter(role=Role.MANAGER, user__is_active=True).select_related("user", "org_unit")
        if complaint.org_unit_id and complaint.org_unit.path.startswith(m.org_unit.path)  # type: ignore[union-attr]
    ]
    return next((u for u in candidates if u.pk != author.pk), None)


def seed(complaints: list, rng: random.Random) -> None:
    """Tasks on up to five cases in progress (most answered, one left open, one overdue) and findings
    on three: two valid, one unfounded confirmed by a supervisor."""
    departments = {d.code: d for d in Department.objects.all()}
    working = [
        c
        for c in complaints
        if c.status == Status.IN_PROGRESS and c.owner_id and c.department_id and not c.coordination_tasks.exists()
    ]
    rng.shuffle(working)
    last_event = dict(
        LedgerEvent.objects.filter(complaint__in=working)
        .values("complaint")
        .annotate(at=Max("created_at"))
        .values_list("complaint", "at")
    )
    now = timezone.now()
    # the overdue one: a case untouched for over a week gets a task asked for back then, due in 2 days
    stale = next((c for c in working if now - last_event.get(c.pk, now) > timedelta(days=7)), None)
    if stale is not None:
        working.remove(stale)
        _task(stale, _TASKS[0], departments, rng, complete=False, at=last_event[stale.pk] + timedelta(hours=2))
    for n, complaint in enumerate(working[:4]):
        _task(complaint, _TASKS[n % len(_TASKS)], departments, rng, complete=n != 3)
    for n, complaint in enumerate(working[4:7]):
        _finding(complaint, unfounded=n == 2)


def _task(complaint, spec, departments, rng, *, complete: bool, at=None) -> None:  # type: ignore[no-untyped-def]
    kind, code, request, result = spec
    department = departments.get(code)
    if department is None:
        return
    workers = _people(department, Role.DEPARTMENT_HANDLER, Role.AGENT)
    owner = Actor.staff(complaint.owner)
    travel = time_machine.travel(at, tick=False) if at is not None else None
    try:
        if travel:
            travel.start()
        task = actions.create_task(
            complaint,
            actor=owner,
            kind=kind,
            department=department,
            assignee=workers[0] if workers else None,
            request=_say(complaint, request),
            due_in_days=2 if at is not None else rng.choice([2, 3, 5]),
        )
    except (DomainError, PermissionDenied):
        return
    finally:
        if travel:
            travel.stop()
    if complete and workers:
        actions.complete_task(task, actor=Actor.staff(workers[0]), result=_say(complaint, result))


def _finding(complaint: Complaint, *, unfounded: bool) -> None:
    author = complaint.owner
    evidence = list(Evidence.objects.filter(complaint=complaint, deleted_at__isnull=True)[:1])
    try:
        if not unfounded or not evidence:
            actions.record_finding(
                complaint,
                actor=Actor.staff(author),
                facts=_say(complaint, _FACTS_VALID),
                root_cause="manufacturing",
                responsibility="ours",
                nature="valid",
            )
            return
        finding = actions.record_finding(
            complaint,
            actor=Actor.staff(author),
            facts=_say(complaint, _FACTS_UNFOUNDED),
            root_cause="consumer_misuse",
            responsibility="consumer",
            nature="unfounded",
            justification=_say(complaint, _JUSTIFICATION),
            evidence=evidence,
        )
        confirmer = _confirmer(complaint, author)
        if confirmer is not None:
            actions.confirm_finding(finding, actor=Actor.staff(confirmer), comment="证据充分，同意认定。")
    except (DomainError, PermissionDenied):
        return
