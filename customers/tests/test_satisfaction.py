"""The profile's satisfaction history and the churn factors it feeds, from the feedback app's survey
answers (feedback.selectors.satisfaction_for_customer)."""

import pytest
from django.utils import timezone

from customers import churn

from .conftest import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(case):  # type: ignore[no-untyped-def]
    from feedback.models import Survey, SurveyAnswer

    survey = Survey.objects.create(complaint=case, due_at=timezone.now())
    return SurveyAnswer.objects.create(
        survey=survey, complaint=case, outcome=2, handling=1, solved="no", comment="=客服态度差，问题没解决"
    )


def test_a_low_unsolved_answer_adds_its_churn_points(case, answered):
    factors = {f["code"]: f["points"] for f in churn.churn_of(case.customer_id).factors}
    assert factors["low_score"] == 10 and factors["not_solved"] == 10
    assert churn.churn_of(case.customer_id).score == 35


def test_the_profile_lists_the_answers_and_masks_the_comment_for_analysts(cast, case, answered):
    page = logged_in(cast.agent).get(f"/staff/customers/{case.customer_id}/").content.decode()
    assert "客服态度差" in page and 'id="factor-not_solved"' in page
    masked = logged_in(cast.analyst).get(f"/staff/customers/{case.customer_id}/").content.decode()
    assert "客服态度差" not in masked and "1/5" in masked
