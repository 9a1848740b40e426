"""Two answers posted at the same moment through the public API (two threads, two connections): one
is recorded, the other is told the survey was answered."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from feedback.models import Survey, SurveyAnswer
from ledger.models import LedgerEvent

from .conftest import closed_case, send_now


@pytest.mark.django_db(transaction=True)
def test_two_answers_at_once_one_is_recorded(cast, body, org, api_as, django_capture_on_commit_callbacks):
    case = closed_case(cast, body, org, django_capture_on_commit_callbacks)
    _, token = send_now(Survey.objects.get(complaint=case))
    barrier = threading.Barrier(2)

    def post(outcome: int) -> int:
        try:
            barrier.wait(timeout=10)
            body = {"outcome": outcome, "handling": outcome, "solved": "yes" if outcome > 3 else "no"}
            return api_as().post(f"/public/surveys/{token}", body).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        codes = sorted(pool.map(post, [5, 1]))
    assert codes == [201, 409]
    assert SurveyAnswer.objects.filter(complaint=case).count() == 1
    assert LedgerEvent.objects.filter(complaint=case, action="answer_survey").count() == 1
