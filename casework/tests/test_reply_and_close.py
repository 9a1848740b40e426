"""The written reply and the closing checklist: the API path contact → reply → close, each unmet item
refused by name with nothing changed, the survey date on a real calendar, the reply mail on a real
SMTP server, and the ledger chain that verifies."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from casework import actions as casework
from casework.models import ClosingChecklist, Reply
from complaints import actions, calendar
from complaints.ledgering import Actor
from complaints.models import Complaint
from core.errors import ValidationError
from ledger.models import LedgerEvent
from ledger.verify import verify
from resolutions import actions as remedies

from .conftest import case_in_progress, fresh, resolve

CST = ZoneInfo("Asia/Shanghai")


def post(client, complaint, path, payload, expect):  # type: ignore[no-untyped-def]
    if path in {"resolve", "close"}:  # lifecycle writes carry the case version
        payload = {**payload, "version": fresh(complaint).version}
    response = client.post(f"/complaints/{complaint.tracking_no}/{path}", payload)
    assert response.status_code == expect, response.content
    return response.json()


def fields(error):  # type: ignore[no-untyped-def]
    return [e["field"] for e in error["errors"]]


def test_contact_reply_and_close_through_the_api(cast, case, api_as):
    agent = api_as(cast.agent)
    remedy = remedies.add_remedy(case, actor=Actor.staff(cast.agent), kind="repair", description="上门维修")
    post(
        agent,
        case,
        "contacts",
        {
            "direction": "outbound",
            "channel": "phone",
            "occurred_at": "2020-01-01T10:00:00+08:00",  # before the case: refused
            "summary": "致电投诉人约定上门维修时间。",
        },
        422,
    )
    contact = {
        "direction": "outbound",
        "channel": "phone",
        "occurred_at": fresh(case).received_at.isoformat(),
        "duration_seconds": 180,
        "summary": "致电投诉人约定上门维修时间。",
    }
    post(agent, case, "contacts", contact, 201)
    post(agent, case, "resolve", {"outcome": "executed", "note": "已上门维修完毕。"}, 200)
    before = fresh(case).version

    # every unmet item named at once; nothing changed
    error = post(agent, case, "close", {}, 422)
    assert fields(error) == ["reply_sent", "remedies_settled", "evidence_complete"]
    messages = {e["field"]: e["message"] for e in error["errors"]}
    assert "已书面答复" in messages["reply_sent"] and "维修" in messages["remedies_settled"]
    assert "证据已齐全" in messages["evidence_complete"]
    assert fresh(case).version == before and fresh(case).status == "resolved"
    assert not ClosingChecklist.objects.exists()

    reply = post(agent, case, "replies", {"text": "张三您好：维修已完成，感谢您的耐心。"}, 201)
    assert reply["delivery"] == "pending"  # mailed after commit (the test's transaction never commits)
    assert fresh(case).reply_text == "张三您好：维修已完成，感谢您的耐心。"
    error = post(agent, case, "close", {"evidence_complete": True}, 422)
    assert fields(error) == ["remedies_settled"]
    remedies.mark_remedy_paid(remedy, actor=Actor.staff(cast.agent), reference="WX-1")
    error = post(agent, case, "close", {}, 422)
    assert fields(error) == ["evidence_complete"]
    checklist = api_as(cast.supervisor).get(f"/complaints/{case.tracking_no}/closing-checklist").json()
    assert [(i["item"], i["met"]) for i in checklist["items"]] == [
        ("reply_sent", True),
        ("remedies_settled", True),
        ("evidence_complete", None),
        ("survey_scheduled", True),
    ]

    closed = post(agent, case, "close", {"evidence_complete": True}, 200)
    assert closed["status"] == "closed"
    row = ClosingChecklist.objects.get()
    c = fresh(case)
    assert row.reply_id == reply["id"] and row.evidence_complete and row.remedies_basis == "settled"
    assert row.survey_due_at == calendar.add_working_days(c.resolved_at, 3) and row.survey_skipped == ""
    events = list(LedgerEvent.objects.filter(complaint=case).order_by("seq"))
    assert [e.action for e in events][-6:] == [
        "add_remedy",
        "add_contact",
        "resolve",
        "send_reply",
        "mark_remedy_paid",
        "close",
    ]
    close_event = events[-1]
    assert close_event.action == "close" and close_event.data["checklist"]["evidence_complete"] is True
    assert close_event.data["checklist"]["reply_id"] == reply["id"]
    assert c.version == len(events) and verify().ok
    recorded = api_as(cast.supervisor).get(f"/complaints/{case.tracking_no}/closing-checklist").json()
    assert recorded["recorded"]["survey_due_at"] is not None


def test_close_with_a_reply_sends_it_first_as_its_own_event(cast, resolved):
    closed = actions.close(
        resolved, actor=Actor.staff(cast.agent), reply_text="您好，已为您更换新品。", evidence_complete=True
    )
    assert closed.status == "closed" and closed.reply_text == "您好，已为您更换新品。"
    assert Reply.objects.get().text == "您好，已为您更换新品。"
    last = list(LedgerEvent.objects.filter(complaint=resolved).order_by("-seq").values_list("action", flat=True)[:2])
    assert last == ["close", "send_reply"]
    assert verify().ok


def test_a_refused_closing_sends_no_reply(cast, resolved):
    before = resolved.version
    with pytest.raises(ValidationError) as refused:
        actions.close(resolved, actor=Actor.staff(cast.agent), reply_text="您好，已为您更换新品。")
    assert list(refused.value.errors) == ["evidence_complete"]
    c = fresh(resolved)
    assert c.version == before and c.reply_text == "" and not Reply.objects.exists()
    assert c.status == "resolved"


def test_a_reply_sent_before_resolution_does_not_count(cast, case):
    casework.send_reply(case, actor=Actor.staff(cast.agent), text="您好，我们正在调查，请耐心等待。")
    resolved = resolve(fresh(case), cast.agent)
    with pytest.raises(ValidationError) as refused:
        actions.close(resolved, actor=Actor.staff(cast.agent), evidence_complete=True)
    assert list(refused.value.errors) == ["reply_sent"]


def test_a_reply_is_refused_without_text_or_by_state(cast, case, api_as):
    agent = api_as(cast.agent)
    assert fields(post(agent, case, "replies", {"text": "好"}, 422)) == ["text"]
    assert fields(post(agent, case, "replies", {"text": "您好，答复。", "template_id": 99999}, 422)) == ["template_id"]
    assert fields(post(agent, case, "replies", {"bogus": 1, "text": "您好，答复。"}, 422)) == ["bogus"]
    assert api_as().post(f"/complaints/{case.tracking_no}/replies", {"text": "您好"}).status_code == 401
    assert api_as(cast.auditor).post(f"/complaints/{case.tracking_no}/replies", {"text": "您好"}).status_code == 403
    assert api_as(cast.outsider).post(f"/complaints/{case.tracking_no}/replies", {"text": "您好"}).status_code == 404
    assert not Reply.objects.exists()


def test_an_external_decision_needs_no_remedy_executed(cast, case):
    agent = Actor.staff(cast.agent)
    remedies.add_remedy(case, actor=agent, kind="apology", description="书面致歉")
    routed = actions.route_external(fresh(case), actor=agent, route="mediation", reference="消协调〔2026〕12号")
    decided = actions.record_external_outcome(routed, actor=agent, resolved=True, note="调解达成：退款 300 元。")
    casework.send_reply(decided, actor=agent, text="您好，调解结果已执行。")
    closed = actions.close(fresh(decided), actor=agent, evidence_complete=True)
    assert closed.status == "closed"
    assert ClosingChecklist.objects.get().remedies_basis == "external_decision"


def test_the_survey_date_counts_working_days_over_national_day(cast, body, org):
    """Resolved Tue 30 Sep 2025; 1–8 Oct are holidays, Sat 11 Oct a make-up working day: 9, 10, 11."""
    with time_machine.travel(datetime(2025, 9, 26, 10, tzinfo=CST), tick=False):
        case = case_in_progress(cast, body, org_unit=org.store_sz.pk)
    with time_machine.travel(datetime(2025, 9, 30, 10, tzinfo=CST), tick=False):
        resolved = resolve(case, cast.agent)
        casework.send_reply(resolved, actor=Actor.staff(cast.agent), text="您好，已为您更换新品。")
    with time_machine.travel(datetime(2025, 10, 9, 15, tzinfo=CST), tick=False):
        actions.close(fresh(resolved), actor=Actor.staff(cast.agent), evidence_complete=True)
    assert ClosingChecklist.objects.get().survey_due_at == calendar.end_of_day(date(2025, 10, 11))


def test_the_survey_days_come_from_the_setting(cast, resolved, settings):
    settings.COMPLAINTDESK_SURVEY_AFTER_WORKING_DAYS = 5
    actions.close(resolved, actor=Actor.staff(cast.agent), reply_text="您好，已更换。", evidence_complete=True)
    assert ClosingChecklist.objects.get().survey_due_at == calendar.add_working_days(resolved.resolved_at, 5)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"preferred_contact": "none"}, "opted_out"),
        ({"anonymous": True, "complainant_name": "", "complainant_phone": "", "complainant_email": ""}, "no_contact"),
    ],
)
def test_no_survey_when_the_consumer_cannot_or_will_not_be_contacted(cast, body, org, overrides, reason):
    case = case_in_progress(cast, body, org_unit=org.store_sz.pk, **overrides)
    resolved = resolve(case, cast.agent)
    actions.close(resolved, actor=Actor.staff(cast.agent), reply_text="您好，已处理。", evidence_complete=True)
    row = ClosingChecklist.objects.get()
    assert row.survey_due_at is None and row.survey_skipped == reason
    event = LedgerEvent.objects.filter(complaint=case, action="close").get()
    assert event.data["checklist"]["survey_skipped"] == reason
    assert Reply.objects.get().delivery == "not_mailed"


def test_reopening_needs_a_new_reply_and_closes_with_a_second_checklist(cast, resolved):
    agent = Actor.staff(cast.agent)
    actions.close(resolved, actor=agent, reply_text="您好，已更换。", evidence_complete=True)
    reopened = actions.reopen(fresh(resolved), actor=Actor.consumer(), reason="新品也有问题")
    again = resolve(actions.start_work(reopened, actor=agent), cast.agent)
    with pytest.raises(ValidationError) as refused:
        actions.close(again, actor=agent, evidence_complete=True)
    assert list(refused.value.errors) == ["reply_sent"]
    actions.close(fresh(again), actor=agent, reply_text="您好，已再次更换并全额退款。", evidence_complete=True)
    assert ClosingChecklist.objects.filter(complaint=resolved).count() == 2


def test_the_reply_is_mailed_after_commit(cast, resolved, smtp_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reply = casework.send_reply(resolved, actor=Actor.staff(cast.agent), text="张三您好：已为您更换新品。")
    [message] = smtp_server.messages
    assert message["To"].lower() == "zhang.san@example.com" and resolved.tracking_no in message["Subject"]
    assert message["X-ComplaintDesk-Tracking"] == resolved.tracking_no
    assert "已为您更换新品" in message.get_content()
    reply.refresh_from_db()
    assert reply.delivery == "sent" and reply.delivered_at is not None


def test_a_dead_mail_server_blocks_nothing_and_is_recorded(
    cast, resolved, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 5  # nothing listens
    with django_capture_on_commit_callbacks(execute=True):
        reply = casework.send_reply(resolved, actor=Actor.staff(cast.agent), text="您好，已为您更换新品。")
    reply.refresh_from_db()
    assert reply.delivery == "failed" and reply.delivery_note
    closed = actions.close(fresh(resolved), actor=Actor.staff(cast.agent), evidence_complete=True)
    assert closed.status == "closed"  # the reply stands on the status page


def test_no_mail_without_an_email_address(cast, body, org, django_capture_on_commit_callbacks):
    case = case_in_progress(cast, body, org_unit=org.store_sz.pk, complainant_email="")
    with django_capture_on_commit_callbacks(execute=True):
        reply = casework.send_reply(case, actor=Actor.staff(cast.agent), text="您好，我们已安排检测。")
    reply.refresh_from_db()
    assert reply.delivery == "not_mailed" and "电子邮箱" in reply.delivery_note
    assert Complaint.objects.get(pk=case.pk).reply_text == "您好，我们已安排检测。"


def test_a_refused_offer_does_not_excuse_a_remedy_that_was_never_carried_out(cast, case):
    agent = Actor.staff(cast.agent)
    offered = actions.propose_resolution(case, actor=agent, text="为您更换新品。")
    refused = actions.refuse_proposal(offered, actor=Actor.consumer(), reason="我要退款。")
    remedies.add_remedy(refused, actor=agent, kind="compensation", amount="100", description="补偿 100 元。")
    done = resolve(fresh(refused), cast.agent)
    with pytest.raises(ValidationError) as unmet:
        actions.close(done, actor=agent, reply_text="您好，已为您处理。", evidence_complete=True)
    assert "remedies_settled" in unmet.value.errors
    assert fresh(done).status == "resolved"
