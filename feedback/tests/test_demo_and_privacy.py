"""The demo's surveys and call-backs; the customer's feedback for the privacy app (export, erasure)."""

import random

from django.apps import apps
from django.test.utils import override_settings

from complaints import demo
from complaints.ledgering import Actor
from complaints.models import Complaint
from feedback import demo as feedback_demo
from feedback.models import Callback, Survey, SurveyAnswer
from ledger.models import LedgerEvent
from ledger.verify import verify

from .conftest import closed_case, send_now


def test_the_demo_answers_most_closed_cases_and_leaves_call_backs(db):
    demo.generate(count=80, seed=7)
    with override_settings(TASKS=demo.DUMMY_TASKS):
        feedback_demo.seed(list(Complaint.objects.filter(is_demo=True).order_by("pk")), random.Random(3))
    answers = SurveyAnswer.objects.count()
    due = Survey.objects.exclude(status="scheduled").count()
    assert due and answers >= due * 0.5
    assert len(set(SurveyAnswer.objects.values_list("outcome", flat=True))) >= 3  # a mix, not all 5s
    assert LedgerEvent.objects.filter(action="answer_survey").count() == answers
    assert Callback.objects.filter(status="open").exists()
    report = verify()
    assert report.ok, report.problems


def test_the_customer_s_feedback_is_exported_and_erased_but_scores_stay(
    cast, body, org, django_capture_on_commit_callbacks
):
    from feedback import actions

    case = closed_case(cast, body, org, django_capture_on_commit_callbacks, priority="P1")
    _survey, token = send_now(Survey.objects.get(complaint=case))
    opened = actions.open_survey(token)
    actions.answer_survey(opened, opened.round, actions.check_answer(2, 3, "partly", "退款太慢了"))
    callback = Callback.objects.get(complaint=case)
    actions.record_callback(
        callback,
        actor=Actor.staff(cast.agent),
        outcome=actions.check_outcome(True, False, "客户说退款太慢", ""),
    )
    config = apps.get_app_config("feedback")
    exported = config.personal_data(case.customer)
    [answer] = exported["survey_answers"]
    assert (answer["tracking_no"], answer["outcome"], answer["comment"]) == (case.tracking_no, 2, "退款太慢了")
    [call] = exported["callbacks"]
    assert (call["tracking_no"], call["satisfied"], call["note"]) == (case.tracking_no, False, "客户说退款太慢")

    config.erase_personal(case.customer)
    row = SurveyAnswer.objects.get()
    assert (row.comment, row.outcome, row.handling, row.solved) == ("", 2, 3, "partly")
    callback.refresh_from_db()
    assert callback.note == "" and callback.satisfied is False
