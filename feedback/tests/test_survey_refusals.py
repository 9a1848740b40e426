"""Links that cannot be answered, and answers that cannot be recorded, are refused clearly and change
nothing: forged, tampered, expired, reused and cancelled links; scores out of range; a second answer,
also when two posts race."""

from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from feedback import actions
from feedback.models import Survey, SurveyAnswer
from feedback.tokens import make_token
from ledger.models import LedgerEvent

from .conftest import answer_body


def _answers() -> int:
    return SurveyAnswer.objects.count()


def test_a_forged_token_is_refused_as_invalid(sent):
    _case, _survey, token = sent
    payload = token.split(":")[0]
    page = Client().get(f"/feedback/s/{payload}:AAAAAA:forgedsignatureforgedsignature/")
    assert page.status_code == 400
    assert 'data-reason="invalid"' in page.content.decode() and "伪造" in page.content.decode()


def test_a_tampered_token_naming_another_survey_is_refused(sent, api_as):
    _case, _survey, token = sent
    import base64

    _payload, rest = token.split(":", 1)
    other = base64.urlsafe_b64encode(b'{"s":2,"r":1}').decode().rstrip("=")
    response = api_as().post(f"/public/surveys/{other}:{rest}", answer_body())
    assert response.status_code == 400 and response.json()["error"] == "survey_invalid"
    assert _answers() == 0


def test_a_token_signed_with_another_salt_is_refused(sent):
    from django.core import signing

    _case, survey, _token = sent
    foreign = signing.dumps({"s": survey.pk, "r": survey.round}, salt="another-purpose")
    assert Client().get(f"/feedback/s/{foreign}/").status_code == 400


def test_an_expired_link_is_refused_and_records_nothing(sent):
    _case, _survey, token = sent
    with time_machine.travel(timezone.now() + timedelta(days=15), tick=False):
        page = Client().post(f"/feedback/s/{token}/", {"outcome": "5", "handling": "5", "solved": "yes"})
    assert page.status_code == 410 and 'data-reason="expired"' in page.content.decode()
    assert _answers() == 0


def test_the_job_expires_unanswered_surveys(sent):
    _case, survey, token = sent
    with time_machine.travel(timezone.now() + timedelta(days=15), tick=False):
        assert actions.send_due_surveys()["expired"] == 1
    survey.refresh_from_db()
    assert survey.status == "expired"
    response = Client().get(f"/feedback/s/{token}/")
    assert response.status_code == 410


def test_a_reused_link_is_refused_and_the_first_answer_stays(sent, api_as, django_capture_on_commit_callbacks):
    case, _survey, token = sent
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            Client().post(f"/feedback/s/{token}/", {"outcome": "5", "handling": "5", "solved": "yes"}).status_code
            == 200
        )
    again = Client().post(f"/feedback/s/{token}/", {"outcome": "1", "handling": "1", "solved": "no"})
    assert again.status_code == 409 and 'data-reason="answered"' in again.content.decode()
    by_api = api_as().post(f"/public/surveys/{token}", answer_body(outcome=1))
    assert by_api.status_code == 409 and by_api.json()["error"] == "survey_answered"
    assert list(SurveyAnswer.objects.values_list("outcome", "solved")) == [(5, "yes")]
    assert LedgerEvent.objects.filter(complaint=case, action="answer_survey").count() == 1


def test_a_link_of_an_earlier_round_is_refused_as_cancelled(sent):
    _case, survey, token = sent
    Survey.objects.filter(pk=survey.pk).update(round=2)
    response = Client().get(f"/feedback/s/{token}/")
    assert response.status_code == 410 and 'data-reason="cancelled"' in response.content.decode()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"outcome": "6"}, "outcome"),
        ({"outcome": "0"}, "outcome"),
        ({"handling": "abc"}, "handling"),
        ({"handling": ""}, "handling"),
        ({"solved": "maybe"}, "solved"),
        ({"comment": "x" * 2001}, "comment"),
    ],
)
def test_an_answer_out_of_range_is_refused_on_the_page_naming_the_field(sent, values, field):
    _case, survey, token = sent
    page = Client().post(f"/feedback/s/{token}/", {"outcome": "5", "handling": "5", "solved": "yes", **values})
    assert page.status_code == 422
    assert f'id="error-{field}"' in page.content.decode()
    assert _answers() == 0
    survey.refresh_from_db()
    assert survey.status == "sent"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"outcome": 6}, "outcome"),
        ({"handling": 0}, "handling"),
        ({"solved": "maybe"}, "solved"),
        ({"extra": 1}, "extra"),
    ],
)
def test_an_answer_out_of_range_is_refused_by_the_api_naming_the_field(sent, api_as, values, field):
    _case, _survey, token = sent
    response = api_as().post(f"/public/surveys/{token}", answer_body(**values))
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert _answers() == 0


def test_two_racing_answers_leave_exactly_one(sent, monkeypatch):
    """The second post passed every check before the first was stored (a race): the unique
    constraint refuses it, it is told the survey was answered, and only the first answer stays."""
    case, survey, token = sent
    opened = actions.open_survey(token)
    first = actions.check_answer(5, 5, "yes", "")
    second = actions.check_answer(1, 1, "no", "")
    actions.answer_survey(opened, survey.round, first)
    monkeypatch.setattr(actions, "check_answerable", lambda *args: None)  # the race: the check saw nothing yet
    with pytest.raises(actions.SurveyRefused) as refused:
        actions.answer_survey(opened, survey.round, second)
    assert refused.value.reason == "answered"
    assert list(SurveyAnswer.objects.values_list("outcome", flat=True)) == [5]
    assert LedgerEvent.objects.filter(complaint=case, action="answer_survey").count() == 1


def test_the_database_holds_one_answer_per_case(sent):
    case, survey, _token = sent
    SurveyAnswer.objects.create(survey=survey, complaint=case, outcome=4, handling=4, solved="yes")
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyAnswer.objects.create(survey=survey, complaint=case, outcome=1, handling=1, solved="no")


def test_the_database_refuses_scores_out_of_range(sent):
    case, survey, _token = sent
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyAnswer.objects.create(survey=survey, complaint=case, outcome=9, handling=4, solved="yes")


def test_an_unknown_survey_is_not_found(sent):
    _case, survey, _token = sent
    assert Client().get(f"/feedback/s/{make_token(survey.pk + 100, 1)}/").status_code == 404


def test_a_survey_of_an_archived_case_is_no_longer_answered(sent):
    from complaints.models import Complaint

    case, _survey, token = sent
    Complaint.objects.filter(pk=case.pk).update(status="archived")
    response = Client().post(f"/feedback/s/{token}/", {"outcome": "5", "handling": "5", "solved": "yes"})
    assert response.status_code == 410
    assert _answers() == 0
