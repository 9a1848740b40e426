"""Crisis handling: a case with a safety hazard, a media threat or a legal threat goes to level 3 after
its intake (or classification), with its checklist; the crisis team is told in-app and by mail; the
statement is approved by legal/PR but not by its drafter; de-escalation waits for the checklist."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.models import Notification
from complaints import actions
from complaints.choices import EscalationLevel, Status
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from core.errors import TransitionNotAllowed, ValidationError
from dossier import actions as dossier_actions
from dossier.models import CrisisChecklist
from ledger.models import LedgerEvent
from ledger.verify import verify as verify_ledger

from .conftest import case_in_progress


@pytest.fixture
def crisis_team(settings):  # type: ignore[no-untyped-def]
    settings.COMPLAINTDESK_CRISIS_TEAM_EMAILS = ["crisis@example.com", "pr-duty@example.com"]
    return settings.COMPLAINTDESK_CRISIS_TEAM_EMAILS


def register(cast, body, flags, django_capture_on_commit_callbacks, **overrides) -> Complaint:  # type: ignore[no-untyped-def]
    """A phone complaint registered by the agent, with its risk flags, and what runs after commit."""
    data = check_intake(IntakeData(**body(channel="phone", risk_flags=flags, **overrides)), staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        complaint, _ = actions.submit(data, actor=Actor.staff(cast.agent))
    return Complaint.objects.select_related("org_unit").get(pk=complaint.pk)


def test_a_safety_hazard_at_intake_goes_to_level_3_with_checklist_notice_and_mail(
    cast, body, org, crisis_team, smtp_server, django_capture_on_commit_callbacks, legal2
):
    c = register(cast, body, ["safety"], django_capture_on_commit_callbacks, org_unit=org.store_sz.pk)
    assert c.escalation_level == EscalationLevel.CRISIS
    [checklist] = CrisisChecklist.objects.filter(complaint=c)
    assert checklist.flags == ["safety"] and checklist.completed_at is None
    event = LedgerEvent.objects.filter(complaint=c, action="crisis_escalation").get()
    assert event.actor == "system" and event.data["from_level"] == 0
    notices = Notification.objects.filter(complaint=c, kind="crisis")
    assert {n.recipient.username for n in notices} == {"legal", "legal2"}
    [mail] = smtp_server.messages
    assert set(a.strip() for a in mail["To"].split(",")) == set(crisis_team)
    assert c.tracking_no in mail["Subject"]
    text = mail.get_content()
    assert "安全/健康隐患" in text
    assert "张三" not in text and "138" not in text  # no personal data leaves by mail
    assert verify_ledger().ok


def test_no_flag_no_crisis(cast, body, django_capture_on_commit_callbacks, crisis_team, smtp_server):
    c = register(cast, body, ["repeat"], django_capture_on_commit_callbacks)
    assert c.escalation_level == 0
    assert not CrisisChecklist.objects.exists()
    assert smtp_server.messages == []


def test_a_media_threat_found_by_classification_escalates(cast, body, org, django_capture_on_commit_callbacks):
    c = case_in_progress(cast, body, org_unit=org.store_sz.pk)
    with django_capture_on_commit_callbacks(execute=True):
        actions.classify(c, actor=Actor.staff(cast.agent), risk_flags=["media"])
    c.refresh_from_db()
    assert c.escalation_level == EscalationLevel.CRISIS
    assert CrisisChecklist.objects.get(complaint=c).flags == ["media"]


def test_level_3_by_hand_opens_a_checklist(cast, body, org, django_capture_on_commit_callbacks):
    c = case_in_progress(cast, body, org_unit=org.store_sz.pk)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            c = actions.escalate(c, actor=Actor.staff(cast.supervisor), reason="群体投诉苗头")
    assert c.escalation_level == EscalationLevel.CRISIS
    assert CrisisChecklist.objects.get(complaint=c).flags == []


@pytest.fixture
def crisis_case(cast, body, org, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    c = register(cast, body, ["legal"], django_capture_on_commit_callbacks, org_unit=org.store_sz.pk)
    sup = Actor.staff(cast.supervisor)
    c = actions.accept(c, actor=sup)
    if c.owner_id != cast.agent.pk:
        c = actions.assign(c, actor=sup, owner=cast.agent)
    return Complaint.objects.select_related("org_unit").get(pk=c.pk)


def test_the_checklist_rules_and_de_escalation(crisis_case, cast, legal2, django_capture_on_commit_callbacks):
    c = crisis_case
    sup, legal, other_legal = Actor.staff(cast.supervisor), Actor.staff(cast.legal), Actor.staff(legal2)
    with pytest.raises(TransitionNotAllowed) as refused:
        actions.de_escalate(c, actor=sup, reason="已平息")
    assert "事实已核实" in refused.value.reason and "媒体联络已登记" in refused.value.reason

    dossier_actions.verify_crisis_facts(c, actor=Actor.staff(cast.agent), note="已调取门店监控，确认产品批次")
    with pytest.raises(ValidationError):
        dossier_actions.approve_crisis_statement(c, actor=other_legal)  # nothing drafted yet
    dossier_actions.draft_crisis_statement(c, actor=legal, text="我们高度重视消费者反映的问题，已成立专项小组调查。")
    with pytest.raises(PermissionDenied, match="起草人"):
        dossier_actions.approve_crisis_statement(c, actor=legal)
    with pytest.raises(PermissionDenied):
        dossier_actions.approve_crisis_statement(c, actor=sup)  # legal/PR only
    dossier_actions.approve_crisis_statement(c, actor=other_legal, note="同意发布")
    dossier_actions.log_media_contact(
        c,
        actor=legal,
        outlet="南方都市报",
        person="李记者",
        contacted_at=timezone.now() - timedelta(hours=1),
        summary="记者来电询问，已告知将发布声明",
    )
    with pytest.raises(ValidationError) as bad:
        dossier_actions.log_media_contact(c, actor=legal, outlet="", contacted_at=None, summary="")
    assert set(bad.value.errors) == {"outlet", "contacted_at", "summary"}
    with pytest.raises(TransitionNotAllowed):
        actions.de_escalate(Complaint.objects.get(pk=c.pk), actor=sup, reason="已平息")
    checklist = dossier_actions.confirm_media_contacts(c, actor=legal, note="仅一家媒体来电")
    assert checklist.completed_at is not None and checklist.missing == []

    with django_capture_on_commit_callbacks(execute=True):
        c = actions.de_escalate(Complaint.objects.get(pk=c.pk), actor=sup, reason="声明已发布，舆情平息")
    assert c.escalation_level == EscalationLevel.DEPARTMENT_HEAD
    assert CrisisChecklist.objects.filter(complaint=c).count() == 1  # the flag does not escalate it again
    with pytest.raises(TransitionNotAllowed):  # no open checklist any more
        dossier_actions.verify_crisis_facts(c, actor=legal, note="再次核实")
    assert verify_ledger().ok


def test_a_redraft_needs_a_new_approval(crisis_case, cast, legal2):
    legal, other = Actor.staff(cast.legal), Actor.staff(legal2)
    dossier_actions.draft_crisis_statement(crisis_case, actor=legal, text="第一版声明：我们正在调查此事。")
    dossier_actions.approve_crisis_statement(crisis_case, actor=other)
    checklist = dossier_actions.draft_crisis_statement(crisis_case, actor=other, text="第二版声明：调查已有初步结论。")
    assert checklist.statement_approved_at is None
    with pytest.raises(PermissionDenied):
        dossier_actions.approve_crisis_statement(crisis_case, actor=other)
    assert dossier_actions.approve_crisis_statement(crisis_case, actor=legal).statement_approved_by == cast.legal


@pytest.mark.parametrize(
    ("persona", "expected"),
    [(None, 401), ("analyst", 403), ("outsider", 404), ("agent2", 403), ("handler", 404), ("agent", 200)],
)
def test_who_may_verify_the_facts(crisis_case, cast, api_as, persona, expected):
    api = api_as(getattr(cast, persona) if persona else None)
    response = api.post(f"/complaints/{crisis_case.tracking_no}/crisis/facts", {"note": "已核实销售记录"})
    assert response.status_code == expected, response.content


def test_the_crisis_endpoints(crisis_case, cast, legal2, api_as):
    no = crisis_case.tracking_no
    legal = api_as(cast.legal)
    assert (
        legal.post(f"/complaints/{no}/crisis/statement", {"text": "声明：我们已联系消费者并安排检测。"}).status_code
        == 200
    )
    own = legal.post(f"/complaints/{no}/crisis/statement/approve", {})
    assert own.status_code == 403 and "起草人" in own.json()["message"]
    assert api_as(cast.agent).post(f"/complaints/{no}/crisis/statement/approve", {}).status_code == 403
    assert api_as(legal2).post(f"/complaints/{no}/crisis/statement/approve", {}).status_code == 200
    response = legal.post(
        f"/complaints/{no}/crisis/media-contacts",
        {"outlet": "第一财经", "contacted_at": timezone.now().isoformat(), "summary": "记者询问进展"},
    )
    assert response.status_code == 200
    [checklist] = response.json()["crisis_checklists"]
    assert checklist["missing"] == ["事实已核实", "媒体联络已登记"]
    assert checklist["media_contacts"][0]["outlet"] == "第一财经"
    masked = api_as(cast.analyst).get(f"/complaints/{no}/proceedings").json()["crisis_checklists"][0]
    assert masked["media_contacts"][0]["summary"] == "***"


def test_a_closed_case_is_not_escalated(cast, body, org, django_capture_on_commit_callbacks):
    from dossier.crisis import check_case

    c = case_in_progress(cast, body, org_unit=org.store_sz.pk)
    c = actions.withdraw(c, actor=Actor.consumer(), reason="不再需要")
    Complaint.objects.filter(pk=c.pk).update(risk_flags=["safety"], risk_legal_media_safety=True)
    assert check_case(c.pk, "classify") is None
    assert Complaint.objects.get(pk=c.pk).status == Status.WITHDRAWN
    assert not CrisisChecklist.objects.exists()


def test_a_person_taking_the_case_to_level_3_opens_the_checklist_at_once(cast, body, org, settings):
    """Not left to the worker: with no task run at all, the case cannot go below level 3 meanwhile."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    case = case_in_progress(cast, body, org_unit=org.store_sz.pk)
    sup = Actor.staff(cast.supervisor)
    for _level in range(3):
        case = actions.escalate(case, actor=sup, reason="媒体已来电询问。")
    assert case.escalation_level == EscalationLevel.CRISIS
    assert CrisisChecklist.objects.filter(complaint=case, completed_at__isnull=True).count() == 1
    with pytest.raises(TransitionNotAllowed) as refused:
        actions.de_escalate(case, actor=sup, reason="误报。")
    assert "危机处理清单未完成" in refused.value.reason
