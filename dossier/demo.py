"""Demo data for this app: a regulator referral with documents exchanged, and a crisis case with its
checklist under way, added to a few of the demo cases through the real actions (ledger included).

    from dossier import demo
    demo.seed(complaints, random.Random(seed))   # called by the demo loader with its cases"""

import random
from datetime import timedelta

from django.utils import timezone

from accounts.choices import Role
from accounts.models import User
from complaints import actions as case_actions
from complaints.choices import OPEN_STATES, EscalationLevel, Status
from complaints.ledgering import Actor
from complaints.models import Complaint
from complaints.transitions import may
from core.errors import DomainError
from evidence import demo_files

from . import actions
from .crisis import open_checklist
from .models import ExternalProceeding

BODIES = ["深圳市南山区市场监督管理局", "北京市朝阳区市场监督管理局", "广州市天河区市场监督管理局"]


def _actor(complaint: Complaint, action: str, *prefer: User | None) -> Actor | None:
    """Someone who may take the action: the preferred users first, then legal/PR, supervisors, managers."""
    others = User.objects.filter(
        is_active=True, memberships__role__in=[Role.LEGAL_PR, Role.SUPERVISOR, Role.MANAGER]
    ).distinct()
    for user in [*(u for u in prefer if u is not None), *others.order_by("pk")]:
        if may(Actor.staff(user), complaint, action):
            return Actor.staff(user)
    return None


def _fresh(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_related("org_unit", "owner").get(pk=complaint.pk)


def _regulator_referral(complaint: Complaint, rng: random.Random) -> bool:
    actor = _actor(complaint, "route_external", complaint.owner)
    if actor is None:
        return False
    now = timezone.now()
    case_actions.route_external(
        complaint,
        actor=actor,
        route="regulator",
        body=rng.choice(BODIES),
        reference=f"12315-{now:%Y%m%d}{rng.randrange(1000, 9999)}",
        due_at=now + timedelta(days=15),
        note="消费者向 12315 平台投诉，市场监管局转办并要求限期答复。",
    )
    proceeding = ExternalProceeding.objects.filter(complaint=complaint).order_by("-pk").first()
    proceeding.complaint = _fresh(complaint)
    for direction, name, description, days in (
        ("received", "转办通知书.pdf", "市场监管局转办通知书", 0),
        ("sent", "书面答复.pdf", "我方书面答复及处理方案", 1),
    ):
        proceeding.complaint = _fresh(complaint)
        actions.add_external_document(
            proceeding,
            actor=actor,
            direction=direction,
            exchanged_on=timezone.localdate() - timedelta(days=1 - days),
            description=description,
            content=demo_files.pdf(),
            filename=name,
        )
    return True


def _crisis(complaint: Complaint, rng: random.Random) -> bool:
    actions.escalate_to_crisis(complaint)
    complaint = _fresh(complaint)
    if open_checklist(complaint) is None:
        return False
    legal = list(User.objects.filter(is_active=True, memberships__role=Role.LEGAL_PR).distinct().order_by("pk"))
    checker = _actor(complaint, "verify_crisis_facts", complaint.owner)
    if checker is not None:
        actions.verify_crisis_facts(complaint, actor=checker, note="已调取销售记录与门店监控，确认产品批次与投诉一致。")
    drafter = _actor(_fresh(complaint), "draft_crisis_statement", complaint.owner)
    if drafter is not None:
        actions.draft_crisis_statement(
            _fresh(complaint),
            actor=drafter,
            text="我们高度重视消费者反映的产品安全问题，已第一时间联系消费者并暂停该批次产品销售，调查结果将及时公布。",
        )
        approver = next((u for u in legal if u.pk != drafter.user.pk), None)
        if approver is not None:
            actions.approve_crisis_statement(_fresh(complaint), actor=Actor.staff(approver), note="同意发布")
    media = _actor(_fresh(complaint), "log_media_contact", *legal)
    if media is not None:
        actions.log_media_contact(
            _fresh(complaint),
            actor=media,
            outlet=rng.choice(["南方都市报", "第一财经", "澎湃新闻"]),
            person="值班记者",
            contacted_at=timezone.now() - timedelta(hours=rng.randrange(1, 12)),
            summary="记者来电核实投诉情况，已告知公司正在调查并将发布声明。",
        )
    # The media log stays unconfirmed: the case shows why it cannot go below level 3 yet.
    return True


def seed(complaints: list[Complaint], rng: random.Random) -> None:
    """A regulator referral with documents and a crisis case, on open demo cases that fit."""
    candidates = [
        _fresh(c)
        for c in complaints
        if c.status in OPEN_STATES - {Status.EXTERNAL, Status.NEW}
        and c.escalation_level < EscalationLevel.CRISIS
        and c.owner_id is not None
    ]
    rng.shuffle(candidates)
    referred = crisis = False
    for complaint in candidates:
        try:
            if not referred:
                referred = _regulator_referral(complaint, rng)
                if referred:
                    continue
            if not crisis and open_checklist(complaint) is None:
                crisis = _crisis(_fresh(complaint), rng)
        except DomainError:
            continue  # a demo case the rules refuse: take the next one
        if referred and crisis:
            return
