"""What a poor answer sets off (SurveyRule, seeded): "not solved" reopens a closed case within the
reopen window (else a follow-up call-back); a low score gives the owner a follow-up call-back."""

from datetime import timedelta

import time_machine
from django.test import Client
from django.utils import timezone

from complaints.models import Complaint
from feedback.models import Callback, CallbackRule, SurveyAnswer, SurveyRule
from ledger.models import LedgerEvent

from .conftest import at, closed_case, send_now


def _answer(token, capture, **values):  # type: ignore[no-untyped-def]
    with capture(execute=True):
        response = Client().post(f"/feedback/s/{token}/", {"outcome": "4", "handling": "4", "solved": "yes", **values})
    assert response.status_code == 200
    return SurveyAnswer.objects.get()


def test_the_default_rules_are_seeded(db):
    assert list(SurveyRule.objects.values_list("when_not_solved", "score_at_most", "action")) == [
        (True, None, "reopen"),
        (False, 2, "callback"),
    ]


def test_not_solved_reopens_a_case_within_the_window(cast, body, org, django_capture_on_commit_callbacks):
    # The seeded 10 % sample draws from the tracking number, which holds the date: some days it picks
    # this case at closing, and that call-back is not the one this test is about.
    CallbackRule.objects.filter(kind="sample").update(active=False)
    case = closed_case(cast, body, org, django_capture_on_commit_callbacks)
    from feedback.models import Survey

    _survey, token = send_now(Survey.objects.get(complaint=case))
    answer = _answer(token, django_capture_on_commit_callbacks, solved="no", outcome="2")
    case.refresh_from_db()
    assert case.status == "reopened" and case.reopen_count == 1
    assert answer.rule_result == "reopened" and answer.rule.action == "reopen"
    event = LedgerEvent.objects.get(complaint=case, action="reopen")
    assert event.actor == "consumer"
    assert not Callback.objects.exists()
    page = Client()
    page.force_login(cast.agent)
    assert "已按满意度规则重开投诉" in page.get(f"/staff/cases/{case.tracking_no}/").content.decode()


def test_not_solved_after_the_reopen_window_gives_a_follow_up_call_back(
    cast, body, org, django_capture_on_commit_callbacks, settings
):
    with time_machine.travel(at(2025, 9, 1, 10), tick=False):
        case = closed_case(cast, body, org, django_capture_on_commit_callbacks)
    from feedback.models import Survey

    with time_machine.travel(at(2025, 10, 10, 10), tick=False):  # 39 days after closing; the window is 30
        _survey, token = send_now(Survey.objects.get(complaint=case))
        answer = _answer(token, django_capture_on_commit_callbacks, solved="no")
    case.refresh_from_db()
    assert case.status == "closed"
    assert answer.rule_result == "callback"
    callback = Callback.objects.get(source="survey")
    assert callback.assignee == cast.agent and "满意度跟进" in callback.reason


def test_a_low_score_gives_the_owner_a_follow_up_call_back(cast, body, org, django_capture_on_commit_callbacks):
    case = closed_case(cast, body, org, django_capture_on_commit_callbacks)
    Callback.objects.all().delete()  # whatever the closing rules chose; only the survey's here
    from feedback.models import Survey

    _survey, token = send_now(Survey.objects.get(complaint=case))
    answer = _answer(token, django_capture_on_commit_callbacks, handling="2", solved="partly")
    case.refresh_from_db()
    assert case.status == "closed"
    assert answer.rule_result == "callback"
    callback = Callback.objects.get()
    assert (callback.assignee, callback.source) == (cast.agent, "survey")
    assert callback.due_at - timezone.now() <= timedelta(days=7)


def test_a_good_answer_sets_nothing_off(sent, django_capture_on_commit_callbacks):
    case, _survey, token = sent
    Callback.objects.all().delete()
    answer = _answer(token, django_capture_on_commit_callbacks, outcome="5", handling="3")
    assert answer.rule_result == "none"
    assert Complaint.objects.get(pk=case.pk).status == "closed" and not Callback.objects.exists()


def test_an_inactive_rule_is_skipped(sent, django_capture_on_commit_callbacks):
    case, _survey, token = sent
    Callback.objects.all().delete()
    SurveyRule.objects.filter(action="reopen").update(active=False)
    answer = _answer(token, django_capture_on_commit_callbacks, solved="no")
    assert answer.rule_result == "none"
    assert Complaint.objects.get(pk=case.pk).status == "closed"


def test_rules_lost_with_the_worker_are_applied_by_the_job_once(sent, django_capture_on_commit_callbacks):
    """The answer committed, the worker that should run its rules died: after five minutes the job
    applies them, and neither a second job run nor the late event adds anything."""
    from feedback import actions
    from feedback.jobs import JOBS

    case, _survey, token = sent
    Callback.objects.all().delete()
    with time_machine.travel(at(2025, 10, 13, 20), tick=False):
        with django_capture_on_commit_callbacks(execute=False):  # the after-commit rule run is lost
            assert (
                Client()
                .post(f"/feedback/s/{token}/", {"outcome": "1", "handling": "1", "solved": "partly"})
                .status_code
                == 200
            )
    answer = SurveyAnswer.objects.get()
    assert answer.rules_applied_at is None and not Callback.objects.exists()
    assert ("send_due_surveys", actions.send_due_surveys) in JOBS
    assert actions.send_due_surveys(now=at(2025, 10, 13, 20, 4))["rules_applied"] == 0  # too young
    assert not Callback.objects.exists()
    with time_machine.travel(at(2025, 10, 13, 20, 6), tick=False):
        assert actions.send_due_surveys()["rules_applied"] == 1
    answer.refresh_from_db()
    assert (answer.rule_result, answer.rules_applied_at) == ("callback", at(2025, 10, 13, 20, 6))
    assert actions.apply_pending_survey_rules(now=at(2025, 10, 13, 21)) == {"applied": 0}
    assert actions.apply_survey_rules(case.pk) == ""  # the late event: already done
    assert Callback.objects.filter(complaint=case, source="survey").count() == 1


def test_a_reopening_rule_and_its_mark_commit_together(sent, django_capture_on_commit_callbacks):
    """Run twice, the reopen rule reopens once: the second run finds the answer marked."""
    from feedback import actions

    case, _survey, token = sent
    with django_capture_on_commit_callbacks(execute=False):
        Client().post(f"/feedback/s/{token}/", {"outcome": "2", "handling": "2", "solved": "no"})
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.apply_survey_rules(case.pk) == "reopened"
    assert actions.apply_survey_rules(case.pk) == ""
    case.refresh_from_db()
    assert (case.status, case.reopen_count) == ("reopened", 1)
    assert SurveyAnswer.objects.get().rules_applied_at is not None
