"""The survey follows the case: scheduled at closing (or not, when the consumer cannot or will not be
contacted), cancelled by a reopening before it went out, restarted by the next closing unless it was
answered."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from complaints import actions as case_actions
from complaints.ledgering import Actor
from feedback import actions
from feedback.models import Survey
from feedback.tokens import make_token

from .conftest import case_in_progress, closed_case, fresh, resolve_and_close, send_now


def _reopen(case, capture):  # type: ignore[no-untyped-def]
    with capture(execute=True):
        reopened = case_actions.reopen(fresh(case), actor=Actor.consumer(), reason="新品也有问题")
    return fresh(reopened)


def _close_again(case, cast, capture):  # type: ignore[no-untyped-def]
    started = case_actions.start_work(case, actor=Actor.staff(cast.agent))
    return resolve_and_close(fresh(started), cast.agent, capture)


def test_a_case_closed_without_contact_gets_no_survey(cast, body, org, django_capture_on_commit_callbacks):
    closed_case(cast, body, org, django_capture_on_commit_callbacks, preferred_contact="none")
    assert not Survey.objects.exists()


def test_a_reopening_cancels_the_unsent_survey(closed, django_capture_on_commit_callbacks):
    _reopen(closed, django_capture_on_commit_callbacks)
    assert Survey.objects.get(complaint=closed).status == "cancelled"
    with time_machine.travel(timezone.now() + timedelta(days=30), tick=False):
        assert actions.send_due_surveys()["sent"] == 0


def test_closing_again_restarts_an_unanswered_survey_with_a_new_link(cast, closed, django_capture_on_commit_callbacks):
    survey, old_token = send_now(Survey.objects.get(complaint=closed))
    reopened = _reopen(closed, django_capture_on_commit_callbacks)
    assert Survey.objects.get(pk=survey.pk).status == "cancelled"  # out but unanswered: cancelled too
    _close_again(reopened, cast, django_capture_on_commit_callbacks)
    survey.refresh_from_db()
    assert (survey.status, survey.round, survey.sent_at) == ("scheduled", 2, None)
    assert Survey.objects.filter(complaint=closed).count() == 1
    survey, new_token = send_now(survey)
    assert actions.open_survey(new_token).pk == survey.pk
    try:
        actions.open_survey(old_token)
    except actions.SurveyRefused as exc:
        assert exc.reason == "cancelled"
    else:
        raise AssertionError("the first round's link must no longer open the survey")


def test_closing_again_keeps_an_answered_survey(cast, closed, django_capture_on_commit_callbacks):
    survey, token = send_now(Survey.objects.get(complaint=closed))
    opened = actions.open_survey(token)
    actions.answer_survey(opened, opened.round, actions.check_answer(4, 4, "partly", ""))
    reopened = _reopen(closed, django_capture_on_commit_callbacks)
    _close_again(reopened, cast, django_capture_on_commit_callbacks)
    survey.refresh_from_db()
    assert (survey.status, survey.round) == ("answered", 1)


def test_the_job_does_not_send_to_a_consumer_who_opted_out_of_surveys(closed):
    from notifications import service

    service.opt_out("email", "zhang.san@example.com", "survey")
    service.opt_out("sms", closed.complainant_phone, "survey")
    with time_machine.travel(timezone.now() + timedelta(days=10), tick=False):
        result = actions.send_due_surveys()
    assert (result["sent"], result["not_sent"]) == (0, 1)
    assert Survey.objects.get().status == "not_sent"


def test_the_job_is_registered_with_the_scheduler():
    from core.scheduler import jobs

    assert ("send_due_surveys", actions.send_due_surveys) in jobs()


def test_the_link_context_is_made_at_render_time(closed):
    from notifications.registry import context_for

    survey = Survey.objects.get(complaint=closed)

    class Delivery:
        event = "survey"
        complaint_id = closed.pk

    link = context_for(Delivery())["link"]
    assert link.endswith(f"/feedback/s/{make_token(survey.pk, survey.round)}/")
    assert "link" not in str(Survey._meta.get_fields())  # no token column anywhere


def test_a_reopening_cancels_a_sent_unanswered_survey_and_its_link_says_so(closed, django_capture_on_commit_callbacks):
    from django.test import Client

    from feedback.models import SurveyAnswer

    survey, token = send_now(Survey.objects.get(complaint=closed))
    _reopen(closed, django_capture_on_commit_callbacks)
    assert Survey.objects.get(pk=survey.pk).status == "cancelled"
    response = Client().post(f"/feedback/s/{token}/", {"outcome": "1", "handling": "1", "solved": "no"})
    assert response.status_code == 410
    assert Client().get(f"/api/v1/public/surveys/{token}").json()["error"] == "survey_cancelled"
    assert not SurveyAnswer.objects.exists()


def test_an_answer_landing_before_the_reopening_s_cancel_is_refused(closed):
    """The reopening committed, its after-commit cancel has not run yet: the answer still refuses,
    as the case is no longer closed, so no rule fires against a case being handled again."""
    from feedback.models import SurveyAnswer

    _survey, token = send_now(Survey.objects.get(complaint=closed))
    opened = actions.open_survey(token)
    case_actions.reopen(fresh(closed), actor=Actor.consumer(), reason="新品也有问题")  # side effects not run
    try:
        actions.answer_survey(opened, opened.round, actions.check_answer(1, 1, "no", ""))
    except actions.SurveyRefused as exc:
        assert exc.reason == "cancelled"
    else:
        raise AssertionError("an answer for a reopened case must be refused")
    assert not SurveyAnswer.objects.exists()


def test_closing_twice_the_same_event_schedules_one_survey(closed):
    actions.schedule_survey(closed.pk)
    actions.schedule_survey(closed.pk)
    assert Survey.objects.filter(complaint=closed).count() == 1
    assert Survey.objects.get().round == 1


def test_case_in_progress_has_no_survey(cast, body, org):
    case = case_in_progress(cast, body, org_unit=org.store_sz.pk)
    assert actions.schedule_survey(case.pk) is None


def test_the_survey_goes_out_at_nine_on_its_due_day_not_at_midnight(
    cast, body, org, django_capture_on_commit_callbacks
):
    """Resolved Mon 29 Sep 2025, 3 working days: 30 Sep, then 1–8 Oct (National Day) are holidays,
    9 and 10 Oct — due Fri 10 Oct; the checklist's due time is the end of that day, the send 09:00."""
    from casework.models import ClosingChecklist
    from complaints import calendar

    from .conftest import at

    with time_machine.travel(at(2025, 9, 26, 10), tick=False):
        case = case_in_progress(cast, body, org_unit=org.store_sz.pk)
    with time_machine.travel(at(2025, 9, 29, 10), tick=False):
        case = resolve_and_close(case, cast.agent, django_capture_on_commit_callbacks)
    assert ClosingChecklist.objects.get(complaint=case).survey_due_at == calendar.end_of_day(at(2025, 10, 10).date())
    survey = Survey.objects.get(complaint=case)
    assert survey.due_at == at(2025, 10, 10, 9)
    with time_machine.travel(at(2025, 10, 10, 8, 59), tick=False):
        assert actions.send_due_surveys()["sent"] == 0
    with time_machine.travel(at(2025, 10, 10, 9), tick=False):
        assert actions.send_due_surveys()["sent"] == 1


def test_a_survey_resolved_on_friday_26_september_goes_out_at_nine_on_the_calendar_s_due_day(
    cast, body, org, django_capture_on_commit_callbacks
):
    """Fri 26 Sep 2025 + 3 working days, as the calendar counts them (Sun 28 Sep is a make-up
    working day before National Day): sent at 09:00 local on that day."""
    from casework.models import ClosingChecklist

    from .conftest import at

    with time_machine.travel(at(2025, 9, 26, 10), tick=False):
        case = case_in_progress(cast, body, org_unit=org.store_sz.pk)
        case = resolve_and_close(case, cast.agent, django_capture_on_commit_callbacks)
    due = timezone.localtime(ClosingChecklist.objects.get(complaint=case).survey_due_at)
    survey = Survey.objects.get(complaint=case)
    assert due.date() == at(2025, 9, 30).date() and due.time().hour == 23  # 28 Sep (Sun) a make-up day
    assert timezone.localtime(survey.due_at) == at(due.year, due.month, due.day, 9)


def test_a_case_closed_after_nine_on_its_due_day_is_sent_by_the_next_run(
    cast, body, org, django_capture_on_commit_callbacks
):
    """The send moment is never after the due time, and one already past at closing is not lost:
    resolved Mon 29 Sep 2025 (due Fri 10 Oct), closed only at 15:00 on 10 Oct."""
    from datetime import datetime

    from casework import actions as casework
    from complaints import calendar

    from .conftest import at

    early = datetime.combine(at(2025, 10, 10).date(), datetime.min.time(), tzinfo=at(2025, 1, 1).tzinfo)
    assert actions.send_time(early.replace(hour=7)) == early.replace(hour=7)  # kept when before working hours
    with time_machine.travel(at(2025, 9, 26, 10), tick=False):
        case = case_in_progress(cast, body, org_unit=org.store_sz.pk)
    agent = Actor.staff(cast.agent)
    with time_machine.travel(at(2025, 9, 29, 10), tick=False):
        resolved = case_actions.resolve(case, actor=agent, outcome="executed", note="已为您更换新品。")
    with time_machine.travel(at(2025, 10, 10, 15), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            casework.send_reply(fresh(resolved), actor=agent, text="您好，已为您更换新品。")
            case_actions.close(fresh(resolved), actor=agent, evidence_complete=True)
    survey = Survey.objects.get(complaint=case)
    assert survey.due_at == at(2025, 10, 10, 9) < calendar.end_of_day(at(2025, 10, 10).date())
    with time_machine.travel(at(2025, 10, 10, 15, 5), tick=False):
        assert actions.send_due_surveys()["sent"] == 1
