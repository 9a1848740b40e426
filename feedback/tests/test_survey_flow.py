"""From closing to analytics: the survey is scheduled at closing, sent by the job when due (a real
mail through SMTP on loopback carrying the link), answered on the public page, and shown on the case
panel and in the satisfaction figures."""

import re

import time_machine
from django.conf import settings
from django.test import Client

from casework.models import ClosingChecklist
from complaints import calendar
from feedback import actions
from feedback.models import Survey, SurveyAnswer
from ledger.models import LedgerEvent
from ledger.verify import verify

from .conftest import at, case_in_progress, logged_in, resolve_and_close


def test_a_survey_goes_from_closing_to_the_analytics(
    cast, body, org, api_as, smtp_server, django_capture_on_commit_callbacks
):
    """Resolved Tue 30 Sep 2025; 1–8 Oct are holidays, Sat 11 Oct a make-up working day: due 11 Oct,
    sent at the start of working hours that day (09:00), not at the end of it."""
    with time_machine.travel(at(2025, 9, 26, 10), tick=False):
        case = case_in_progress(cast, body, org_unit=org.store_sz.pk)
    with time_machine.travel(at(2025, 9, 30, 10), tick=False):
        case = resolve_and_close(case, cast.agent, django_capture_on_commit_callbacks)
    replied = len(smtp_server.messages)  # the written reply went out at closing
    survey = Survey.objects.get(complaint=case)
    assert survey.status == "scheduled"
    assert ClosingChecklist.objects.get(complaint=case).survey_due_at == calendar.end_of_day(at(2025, 10, 11).date())
    assert survey.due_at == at(2025, 10, 11, 9)

    with time_machine.travel(at(2025, 10, 11, 8, 59), tick=False):
        assert actions.send_due_surveys()["sent"] == 0  # not due yet
    assert len(smtp_server.messages) == replied

    with time_machine.travel(at(2025, 10, 11, 9), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            result = actions.send_due_surveys()
    assert result["sent"] == 1
    survey.refresh_from_db()
    assert survey.status == "sent" and survey.expires_at == at(2025, 10, 25, 9)
    [message] = smtp_server.messages[replied:]
    assert message["To"].lower() == "zhang.san@example.com"
    text = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://\S+/feedback/s/\S+/", text).group(0)
    assert link.startswith(settings.COMPLAINTDESK_PUBLIC_URL)
    path = link[len(settings.COMPLAINTDESK_PUBLIC_URL) :]

    with time_machine.travel(at(2025, 10, 13, 20), tick=False):
        consumer = Client()
        page = consumer.get(path)
        assert page.status_code == 200 and "满意度调查" in page.content.decode()
        assert case.tracking_no in page.content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            done = consumer.post(
                path, {"outcome": "4", "handling": "5", "solved": "yes", "comment": "换新很快，谢谢！"}
            )
    assert done.status_code == 200 and "感谢您的反馈" in done.content.decode()
    answer = SurveyAnswer.objects.get(complaint=case)
    assert (answer.outcome, answer.handling, answer.solved, answer.comment) == (4, 5, "yes", "换新很快，谢谢！")
    event = LedgerEvent.objects.get(complaint=case, action="answer_survey")
    assert event.actor == "consumer" and event.data["outcome"] == 4
    assert "换新很快" not in str(event.data)  # the comment is encrypted with the complainant's key
    assert event.changes == {}
    assert answer.rule_result == "none"
    assert verify().ok  # the chain and the case's version (a count of its writes) agree

    with time_machine.travel(at(2025, 10, 14, 9), tick=False):
        staff_page = logged_in(cast.agent).get(f"/staff/cases/{case.tracking_no}/").content.decode()
        assert 'id="survey-outcome">4/5' in staff_page and "换新很快，谢谢！" in staff_page
        figures = api_as(cast.supervisor).get("/feedback/satisfaction", **{"from": "2025-10-01", "to": "2025-10-31"})
    assert figures.status_code == 200
    data = figures.json()
    assert (data["answers"], data["satisfaction"], data["mean_handling"]) == (1, 1.0, 5.0)
    assert (data["sent"], data["response_rate"]) == (1, 1.0)
    assert data["by_month"][0]["key"] == "2025-10"
    assert data["by_department"][0]["key"] == "service"


def test_the_survey_page_speaks_the_language_of_the_case(sent, settings):
    case, _survey, token = sent
    type(case).objects.filter(pk=case.pk).update(language="en")
    page = Client().get(f"/feedback/s/{token}/")
    assert page.status_code == 200
    html = page.content.decode()
    # The en catalogue is filled by the integrator from /tmp/i18n; "已解决" is there already.
    assert '<html lang="en">' in html and "Resolved" in html and "已解决" not in html


def test_the_survey_page_is_chinese_by_default(sent):
    _case, _survey, token = sent
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/feedback/s/{token}/")
    assert "您对处理结果的满意程度" in page.content.decode()


def test_the_form_is_protected_against_cross_site_posts(sent):
    _case, _survey, token = sent
    response = Client(enforce_csrf_checks=True).post(
        f"/feedback/s/{token}/", {"outcome": "5", "handling": "5", "solved": "yes"}
    )
    assert response.status_code == 403
    assert not SurveyAnswer.objects.exists()


def test_the_public_api_shows_the_questions_and_takes_the_answer(sent, api_as, django_capture_on_commit_callbacks):
    case, _survey, token = sent
    got = api_as().get(f"/public/surveys/{token}")
    assert got.status_code == 200
    assert [q["name"] for q in got.json()["questions"]] == ["outcome", "handling", "solved", "comment"]
    with django_capture_on_commit_callbacks(execute=True):
        posted = api_as().post(f"/public/surveys/{token}", {"outcome": 3, "handling": 4, "solved": "partly"})
    assert posted.status_code == 201 and posted.json()["tracking_no"] == case.tracking_no
    assert SurveyAnswer.objects.get().solved == "partly"


def test_the_public_endpoints_are_rate_limited(sent, settings, api_as):
    _case, _survey, token = sent
    settings.COMPLAINTDESK_RATELIMIT = True
    settings.COMPLAINTDESK_SURVEY_RATE_PER_MINUTE = 2
    client = Client()
    assert [client.get(f"/feedback/s/{token}/").status_code for _ in range(3)] == [200, 200, 429]
    assert api_as().get(f"/public/surveys/{token}").status_code == 429
