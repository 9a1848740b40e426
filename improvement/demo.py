"""Demo data for improvement: a completed plan whose effect is measured on the demo cases (completed a
full window ago), an overdue plan, and a few library entries from closed demo cases.

complaints.demo calls `seed(complaints, rng)`."""

import random
from collections import Counter
from datetime import timedelta

from django.utils import timezone

from accounts.choices import Role
from accounts.models import Membership

from .actions import add_to_library
from .choices import PlanAction, PlanSource, PlanStatus
from .effect import window_weeks
from .models import ImprovementPlan, LibraryEntry, PlanEvent

_LESSONS = (
    "先致歉、再核实、再给方案：首次回复中明确处理时限，投诉人情绪明显缓和。",
    "涉及质量问题时，及时请质量部检测并把检测结论写进答复，避免反复沟通。",
    "物流延误类投诉，主动提供补偿选项并同步物流轨迹，可显著减少重复来电。",
)


def seed(complaints: list, rng: random.Random) -> None:
    from investigation.models import RootCause

    if ImprovementPlan.objects.exists() or not complaints:
        return
    owner_row = Membership.objects.filter(role__in=[Role.MANAGER, Role.SUPERVISOR]).select_related("user").first()
    cause = RootCause.objects.filter(active=True).order_by("order", "pk").first()
    if owner_row is None or cause is None:
        return
    owner = owner_row.user
    now = timezone.now()
    counts = Counter(c.category_id for c in complaints if c.category_id)
    ranked = [pk for pk, _n in counts.most_common()]
    if not ranked:
        return
    main = ranked[0]
    second = ranked[1] if len(ranked) > 1 else main
    completed_at = now - timedelta(weeks=window_weeks(), days=1)
    done = ImprovementPlan.objects.create(
        title="规范门店服务话术，减少同类投诉",
        root_cause=cause,
        action="修订服务话术并对一线人员开展两轮培训；每周抽查录音。",
        owner=owner,
        due_date=(completed_at + timedelta(days=3)).date(),
        expected_effect="同类投诉减少三成",
        expected_reduction=30,
        category_id=main,
        status=PlanStatus.DONE,
        source=PlanSource.CASES,
        created_by=owner,
        created_at=completed_at - timedelta(days=30),
        updated_at=completed_at,
        completed_at=completed_at,
        completion_note="培训已完成，话术已上线。",
    )
    done.complaints.set([c for c in complaints if c.category_id == main][:20])
    overdue = ImprovementPlan.objects.create(
        title="优化配送时效承诺与延误告知",
        root_cause=cause,
        action="与承运商约定延误主动告知，超过 48 小时自动补偿。",
        owner=owner,
        due_date=(now - timedelta(days=5)).date(),
        expected_effect="延误类投诉减少两成",
        expected_reduction=20,
        category_id=second,
        status=PlanStatus.IN_PROGRESS,
        source=PlanSource.CASES,
        created_by=owner,
        created_at=now - timedelta(days=40),
        updated_at=now - timedelta(days=20),
    )
    overdue.complaints.set([c for c in complaints if c.category_id == second][:10])
    for plan in (done, overdue):
        PlanEvent.objects.create(plan=plan, action=PlanAction.CREATED, actor=owner, at=plan.created_at)
    PlanEvent.objects.create(plan=done, action=PlanAction.COMPLETED, actor=owner, at=completed_at)
    closed = [c for c in complaints if c.status in ("closed", "archived")]
    rng.shuffle(closed)
    for complaint, lessons in zip(closed[:3], _LESSONS, strict=False):
        if not LibraryEntry.objects.filter(source_complaint=complaint).exists():
            add_to_library({"complaint": complaint, "lessons": lessons, "title": "", "tags": ["培训"]}, actor=owner)
