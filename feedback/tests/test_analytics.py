"""The satisfaction figures: 满意率 on the "outcome" question (≥ 4 of 5), mean scores, the solved
distribution and the response rate, per month, category, department and owner; scoped by role."""

from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.models import Survey, SurveyAnswer
from feedback.selectors import satisfaction_for_customer

from .conftest import closed_case, logged_in


def _answer(case, outcome, handling, solved, comment="", days_ago=0):  # type: ignore[no-untyped-def]
    survey = Survey.objects.get(complaint=case)
    now = timezone.now() - timedelta(days=days_ago)
    Survey.objects.filter(pk=survey.pk).update(status="answered", sent_at=now, expires_at=now + timedelta(days=14))
    return SurveyAnswer.objects.create(
        survey=survey,
        complaint=case,
        outcome=outcome,
        handling=handling,
        solved=solved,
        comment=comment,
        answered_at=now,
    )


@pytest.fixture
def answered(cast, body, org, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """Three answered cases in the service department, one sent and unanswered."""
    cases = [closed_case(cast, body, org, django_capture_on_commit_callbacks) for _ in range(4)]
    _answer(cases[0], 5, 4, "yes", "很好")
    _answer(cases[1], 4, 2, "partly")
    _answer(cases[2], 2, 1, "no", "没解决")
    Survey.objects.filter(complaint=cases[3]).update(status="sent", sent_at=timezone.now())
    return cases


def test_the_figures_follow_the_stated_definition(cast, answered, api_as):
    data = api_as(cast.supervisor).get("/feedback/satisfaction").json()
    assert (data["answers"], data["satisfied"], data["satisfaction"]) == (3, 2, 0.6667)
    assert (data["mean_outcome"], data["mean_handling"]) == (3.67, 2.33)
    assert data["solved"] == {"yes": 1, "partly": 1, "no": 1}
    assert (data["sent"], data["answered_of_sent"], data["response_rate"]) == (4, 3, 0.75)
    assert [(r["key"], r["answers"]) for r in data["by_owner"]] == [("agent", 3)]
    assert [(r["key"], r["answers"]) for r in data["by_category"]] == [("product_quality", 3)]
    assert "outcome >= 4" in data["definition"]


def test_the_page_states_the_definition_and_shows_the_rate(cast, answered):
    page = logged_in(cast.manager).get("/staff/feedback/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="definition"' in html and "满意率" in html
    assert 'id="satisfaction-rate">67%' in html and 'id="response-rate">75%' in html


def test_filters_narrow_the_figures(cast, answered, api_as, org):
    none = api_as(cast.analyst).get("/feedback/satisfaction", department="quality").json()
    assert none["answers"] == 0 and none["satisfaction"] is None
    early = api_as(cast.analyst).get("/feedback/satisfaction", **{"to": "2020-01-01"}).json()
    assert early["answers"] == 0
    same = api_as(cast.analyst).get("/feedback/satisfaction", category="product_quality", department="service").json()
    assert same["answers"] == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2025-10-02", "to": "2025-10-01"}, "to"),
        ({"category": "nope"}, "category"),
        ({"department": "nope"}, "department"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_query_string_is_refused_naming_the_field(cast, db, api_as, params, field):
    response = api_as(cast.supervisor).get("/feedback/satisfaction", **params)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]
    page = logged_in(cast.supervisor).get("/staff/feedback/", params)
    assert page.status_code == 400


def test_only_managers_supervisors_analysts_and_auditors_see_the_figures(cast, answered, api_as):
    assert api_as().get("/feedback/satisfaction").status_code == 401
    assert api_as(cast.agent).get("/feedback/satisfaction").status_code == 403
    assert logged_in(cast.agent).get("/staff/feedback/").status_code == 403
    assert logged_in(cast.legal).get("/staff/feedback/").status_code == 403
    for user in (cast.manager, cast.supervisor, cast.analyst, cast.auditor):
        assert api_as(user).get("/feedback/satisfaction").json()["answers"] == 3


def test_a_supervisor_of_another_department_sees_none_of_these_answers(cast, answered, api_as):
    assert api_as(cast.quality_supervisor).get("/feedback/satisfaction").json()["answers"] == 0


def test_the_customer_s_satisfaction_history_is_newest_first(answered):
    SurveyAnswer.objects.filter(comment="很好").update(answered_at=timezone.now() - timedelta(days=3))
    rows = satisfaction_for_customer(answered[0].customer_id)
    assert [r["outcome"] for r in rows] == [2, 4, 5]
    assert set(rows[0]) == {"answered_at", "tracking_no", "outcome", "handling", "solved", "solved_label", "comment"}
    assert rows[0]["solved_label"] in ("已解决", "部分解决", "未解决")
    assert rows[2]["tracking_no"] == answered[0].tracking_no and rows[2]["comment"] == "很好"


def test_the_case_page_shows_the_answer_in_a_fixed_number_of_queries(cast, answered):
    client = logged_in(cast.agent)
    client.get(f"/staff/cases/{answered[0].tracking_no}/")  # warm the per-process caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        html = client.get(f"/staff/cases/{answered[0].tracking_no}/").content.decode()
    # The panel's own (the customers panel reads the customer's satisfaction history separately).
    panel = [
        q["sql"] for q in queries.captured_queries if "feedback_" in q["sql"] and '"customer_id" = ' not in q["sql"]
    ]
    assert len(panel) == 2
    assert 'id="survey-outcome">5/5' in html


def test_the_panel_costs_no_query_on_a_case_never_closed(cast, body, org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .conftest import case_in_progress

    case = case_in_progress(cast, body, org_unit=org.store_sz.pk)
    client = logged_in(cast.agent)
    client.get(f"/staff/cases/{case.tracking_no}/")
    with CaptureQueriesContext(connection) as queries:
        html = client.get(f"/staff/cases/{case.tracking_no}/").content.decode()
    # (the customers panel reads the customer's satisfaction history: its own query, not this panel's)
    mine = [q for q in queries.captured_queries if "feedback_" in q["sql"] and '"customer_id" = ' not in q["sql"]]
    assert not mine
    assert 'id="survey-none"' in html
