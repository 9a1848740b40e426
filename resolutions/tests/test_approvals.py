"""The approval matrix: who may grant how much, the chain above each limit, and the refusals. Every
step is one event in the case's ledger chain, and the chain verifies."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import Notification
from complaints.ledgering import Actor
from complaints.models import CaseShare, Complaint
from core.errors import TransitionNotAllowed, ValidationError
from ledger.models import LedgerEvent
from ledger.verify import verify
from resolutions import actions
from resolutions.models import Approval, AuthorityLimit, Remedy
from resolutions.selectors import totals_for_case


def add(case, user, amount, kind="compensation", **kwargs) -> Remedy:
    return actions.add_remedy(case, actor=Actor.staff(user), kind=kind, amount=amount, **kwargs)


def events(case) -> list[str]:
    return list(LedgerEvent.objects.filter(complaint=case).order_by("seq").values_list("action", flat=True))


def test_agent_within_200_pays_directly(cast, case):
    remedy = add(case, cast.agent, "200")
    assert remedy.status == "proposed" and remedy.required_steps == []
    paid = actions.mark_remedy_paid(remedy, actor=Actor.staff(cast.agent), reference="WX20250301001")
    assert paid.status == "paid" and paid.paid_reference == "WX20250301001" and paid.paid_at is not None
    assert events(case)[-2:] == ["add_remedy", "mark_remedy_paid"]
    assert verify().ok


def test_non_monetary_remedies_need_no_approval(cast, case):
    apology = add(case, cast.agent, None, kind="apology", description="书面致歉")
    refund = add(case, cast.agent, "5000", kind="return_refund", description="退货退款")
    assert apology.status == refund.status == "proposed"


def test_500_needs_a_supervisor(cast, case, executive):
    remedy = add(case, cast.agent, "500")
    assert remedy.status == "pending_approval" and remedy.required_steps == ["supervisor"]
    told = set(Notification.objects.filter(kind="remedy_approval").values_list("recipient__username", flat=True))
    assert {"supervisor", "manager", "executive"} <= told and "agent" not in told
    with pytest.raises(PermissionDenied):
        actions.mark_remedy_paid(remedy, actor=Actor.staff(cast.outsider), reference="X1")  # another department
    with pytest.raises(ValidationError, match="批准后才能"):
        actions.mark_remedy_paid(remedy, actor=Actor.staff(cast.agent), reference="X1")
    approved = actions.approve_remedy(remedy, actor=Actor.staff(cast.supervisor), comment="同意")
    assert approved.status == "approved"
    assert Notification.objects.filter(recipient=cast.agent, kind="remedy_approved").exists()
    actions.mark_remedy_paid(remedy, actor=Actor.staff(cast.agent), reference="X1")
    assert events(case)[-3:] == ["add_remedy", "approve_remedy", "mark_remedy_paid"]
    assert verify().ok


def test_5000_needs_a_manager_not_a_supervisor(cast, case):
    remedy = add(case, cast.agent, "5000")
    assert remedy.required_steps == ["manager"]
    with pytest.raises(PermissionDenied, match="权限不足"):
        actions.approve_remedy(remedy, actor=Actor.staff(cast.supervisor))
    assert actions.approve_remedy(remedy, actor=Actor.staff(cast.manager)).status == "approved"


def test_a_supervisor_proposing_5000_also_needs_a_manager(cast, case):
    remedy = add(case, cast.supervisor, "2000")
    assert remedy.status == "proposed"  # within the supervisor's own limit
    remedy = add(case, cast.supervisor, "2000.01")
    assert remedy.required_steps == ["manager"]


def test_50000_needs_legal_and_an_executive(cast, case, executive):
    remedy = add(case, cast.agent, "50000")
    assert remedy.required_steps == ["legal", "executive"]
    # legal could not see the case (no flag, not L3): it is shared with them for the approval
    assert CaseShare.objects.filter(complaint=case, user=cast.legal).exists()
    assert Notification.objects.filter(recipient=cast.legal, kind="remedy_approval").exists()
    with pytest.raises(PermissionDenied):
        actions.approve_remedy(remedy, actor=Actor.staff(cast.manager))  # a region's manager is not enough
    first = actions.approve_remedy(remedy, actor=Actor.staff(cast.legal), comment="法务意见：可和解")
    assert first.status == "pending_approval"
    with pytest.raises(ValidationError, match="同一人不能审批两次"):
        actions.approve_remedy(remedy, actor=Actor.staff(cast.legal))
    done = actions.approve_remedy(remedy, actor=Actor.staff(executive), comment="同意")
    assert done.status == "approved"
    assert list(Approval.objects.filter(remedy=remedy).values_list("step", "decided_by__username")) == [
        ("legal", "legal"),
        ("executive", "executive"),
    ]
    shared = LedgerEvent.objects.filter(complaint=case, action="add_remedy").last()
    assert shared.data["shared_with"] == ["legal"] and shared.data["amount"] == "50000.00"
    assert verify().ok


def test_an_executive_alone_cannot_approve_above_the_managers_limit(cast, case, executive):
    remedy = add(case, cast.agent, "20000.01")
    actions.approve_remedy(remedy, actor=Actor.staff(executive))
    assert Remedy.objects.get(pk=remedy.pk).status == "pending_approval"


def test_nobody_approves_their_own_proposal(cast, case, executive):
    remedy = add(case, cast.manager, "30000")
    with pytest.raises(PermissionDenied, match="自己提出"):
        actions.approve_remedy(remedy, actor=Actor.staff(cast.manager))
    own = add(case, executive, "30000")
    with pytest.raises(PermissionDenied, match="自己提出"):
        actions.approve_remedy(own, actor=Actor.staff(executive))
    assert not Approval.objects.exists()


def test_a_decided_remedy_cannot_be_decided_again(cast, case):
    remedy = add(case, cast.agent, "500")
    actions.reject_remedy(remedy, actor=Actor.staff(cast.supervisor), comment="金额过高，先协商")
    before = LedgerEvent.objects.filter(complaint=case).count()
    for decide in (actions.approve_remedy, actions.reject_remedy):
        with pytest.raises(ValidationError, match="已驳回"):
            decide(remedy, actor=Actor.staff(cast.manager), comment="再审")
    assert LedgerEvent.objects.filter(complaint=case).count() == before
    assert Remedy.objects.get(pk=remedy.pk).status == "rejected"
    approved = add(case, cast.agent, "600")
    actions.approve_remedy(approved, actor=Actor.staff(cast.supervisor))
    with pytest.raises(ValidationError, match="已批准"):
        actions.approve_remedy(approved, actor=Actor.staff(cast.manager))


def test_rejection_needs_a_comment(cast, case):
    remedy = add(case, cast.agent, "500")
    with pytest.raises(ValidationError) as refused:
        actions.reject_remedy(remedy, actor=Actor.staff(cast.supervisor), comment="")
    assert "comment" in refused.value.errors
    assert Remedy.objects.get(pk=remedy.pk).status == "pending_approval"


@pytest.mark.parametrize("persona", ["analyst", "auditor", "outsider", "quality_agent", "handler", "agent2"])
def test_roles_without_authority_cannot_approve(persona, cast, case):
    remedy = add(case, cast.agent, "500")
    with pytest.raises((PermissionDenied, TransitionNotAllowed)):
        actions.approve_remedy(remedy, actor=Actor.staff(getattr(cast, persona)))
    assert Remedy.objects.get(pk=remedy.pk).status == "pending_approval"


@pytest.mark.parametrize("persona", ["analyst", "auditor", "outsider", "handler"])
def test_roles_without_the_case_cannot_add_remedies(persona, cast, case):
    with pytest.raises(PermissionDenied):
        add(case, getattr(cast, persona), "10")
    assert not Remedy.objects.exists()


def test_org_unit_specific_limits_override_the_defaults(cast, case, org, body):
    from resolutions.tests.conftest import case_in_progress

    AuthorityLimit.objects.update_or_create(role="agent", org_unit=None, defaults={"limit": Decimal("200")})
    AuthorityLimit.objects.create(role="agent", org_unit=org.south, limit=Decimal("800"))
    AuthorityLimit.objects.create(role="agent", org_unit=org.store_sz, limit=Decimal("300"))  # most specific wins
    AuthorityLimit.objects.create(role="supervisor", org_unit=org.company, limit=Decimal("5000"))
    assert add(case, cast.agent, "300").status == "proposed"
    assert add(case, cast.agent, "300.01").required_steps == ["supervisor"]
    assert add(case, cast.agent, "4000").required_steps == ["supervisor"]  # the company's supervisors: 5,000
    north = case_in_progress(cast, body, org_unit=org.store_bj.pk)
    assert add(north, cast.agent, "200.01").required_steps == ["supervisor"]  # north: the default 200 applies
    without_unit = case_in_progress(cast, body, org_unit=None)
    assert add(without_unit, cast.agent, "200").status == "proposed"


@pytest.mark.parametrize(
    ("amount", "message"),
    [("-1", "负数"), ("abc", "数字"), ("1.005", "两位小数"), ("10000000.01", "上限"), ("NaN", "数字"), ("", "金额")],
)
def test_bad_amounts_are_refused_and_nothing_changes(amount, message, cast, case):
    before = Complaint.objects.get(pk=case.pk).version
    with pytest.raises(ValidationError, match=message) as refused:
        add(case, cast.agent, amount)
    assert "amount" in refused.value.errors
    assert not Remedy.objects.exists() and Complaint.objects.get(pk=case.pk).version == before


def test_the_maximum_is_configurable(cast, case, settings):
    settings.COMPLAINTDESK_REMEDY_MAX_AMOUNT = 1000
    with pytest.raises(ValidationError, match="上限"):
        add(case, cast.agent, "1000.01")


def test_other_currencies_go_to_the_top_of_the_chain(cast, case):
    remedy = add(case, cast.agent, "10", currency="usd")
    assert remedy.currency == "USD" and remedy.required_steps == ["legal", "executive"]
    with pytest.raises(ValidationError):
        add(case, cast.agent, "10", currency="XYZ")


def test_remedies_follow_the_case_state(cast, body, org):
    from complaints import actions as case_actions
    from complaints.intake import IntakeData, check_intake

    new, _ = case_actions.submit(check_intake(IntakeData(**body()), staff=False), actor=Actor.consumer())
    with pytest.raises(TransitionNotAllowed):
        add(new, cast.supervisor, "10")


def test_paid_needs_a_reference_and_happens_once(cast, case):
    remedy = add(case, cast.agent, "100")
    with pytest.raises(ValidationError) as refused:
        actions.mark_remedy_paid(remedy, actor=Actor.staff(cast.agent), reference="")
    assert "reference" in refused.value.errors
    actions.mark_remedy_paid(remedy, actor=Actor.staff(cast.agent), reference="TX-1")
    with pytest.raises(ValidationError, match="不能重复"):
        actions.mark_remedy_paid(remedy, actor=Actor.staff(cast.agent), reference="TX-2")
    assert Remedy.objects.get(pk=remedy.pk).paid_reference == "TX-1"


def test_cancel_and_totals(cast, case):
    a = add(case, cast.agent, "150")
    b = add(case, cast.agent, "50", kind="goodwill", description="优惠券")
    c = add(case, cast.agent, "900")
    d = add(case, cast.agent, "80", kind="return_refund")
    actions.mark_remedy_paid(d, actor=Actor.staff(cast.agent), reference="R-1")
    actions.cancel_remedy(a, actor=Actor.staff(cast.agent), reason="投诉人选择更换")
    with pytest.raises(ValidationError):
        actions.cancel_remedy(d, actor=Actor.staff(cast.agent), reason="已付不能取消")
    totals = totals_for_case(case)
    assert [(r["kind"], r["total"]) for r in totals["authorised"]] == [("goodwill", Decimal("50.00"))]
    assert [(r["kind"], r["total"]) for r in totals["pending"]] == [("compensation", Decimal("900.00"))]
    assert [(r["kind"], r["total"], r["currency"]) for r in totals["paid"]] == [
        ("return_refund", Decimal("80.00"), "CNY")
    ]
    assert {b.pk, c.pk} <= set(Remedy.objects.values_list("pk", flat=True))
    assert events(case).count("add_remedy") == 4 and "cancel_remedy" in events(case)
    assert verify().ok


def test_each_step_is_a_ledger_event_with_private_text_encrypted(cast, case):
    remedy = add(case, cast.agent, "500", description="赔偿误工费", statutory_basis="消费者权益保护法第五十五条")
    actions.approve_remedy(remedy, actor=Actor.staff(cast.supervisor), comment="同意")
    actions.mark_remedy_paid(remedy, actor=Actor.staff(cast.agent), reference="PAY-9")
    chain = list(
        LedgerEvent.objects.filter(
            complaint=case, action__in=["add_remedy", "approve_remedy", "mark_remedy_paid"]
        ).order_by("seq")
    )
    assert [e.action for e in chain] == ["add_remedy", "approve_remedy", "mark_remedy_paid"]
    assert chain[0].data["remedy_status"] == "pending_approval" and chain[0].data["required_steps"] == ["supervisor"]
    assert chain[1].data["step"] == "supervisor" and chain[1].data["decision"] == "approve"
    assert chain[2].data["remedy_status"] == "paid"
    assert "enc" in chain[0].data["note"] and "enc" in chain[2].data["reference"]
    assert "赔偿误工费" not in str(chain[0].data)
    assert all(e.actor.startswith("staff:") for e in chain)
    assert verify().ok


def test_limits_apply_to_what_the_case_receives_in_all(cast, case):
    first = add(case, cast.agent, "150")
    assert first.status == "proposed"
    second = add(case, cast.agent, "150")  # 300 in all: over the agent's 200
    assert second.status == "pending_approval" and second.required_steps == ["supervisor"]
    actions.cancel_remedy(second, actor=Actor.staff(cast.agent), reason="重复录入")
    third = add(case, cast.agent, "50")  # cancelled ones no longer count: 200 in all
    assert third.status == "proposed"


def test_an_agent_of_another_department_has_no_agent_limit_here(cast, case):
    from resolutions import authority

    limits = authority.limits_for(case)
    assert authority.own_limit(cast.agent, case, limits) == limits["agent"]
    assert authority.own_limit(cast.outsider, case, limits) == 0
