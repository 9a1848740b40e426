"""The call-back list and the outcome, by page and API: anonymous, a role without the right, the
right roles, and a user of another department."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from feedback.models import Callback, CallbackRule
from ledger.models import LedgerEvent

from .conftest import closed_case, logged_in


@pytest.fixture
def callback(cast, body, org, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    CallbackRule.objects.filter(kind="sample").update(percent=0)
    case = closed_case(cast, body, org, django_capture_on_commit_callbacks, priority="P1")
    return Callback.objects.get(complaint=case)


OUTCOME = {"reached": True, "satisfied": True, "note": "客户满意"}


def test_anonymous_gets_no_call_backs(callback, api_as):
    assert api_as().get("/feedback/callbacks").status_code == 401
    assert api_as().post(f"/feedback/callbacks/{callback.pk}/outcome", OUTCOME).status_code == 401
    page = Client().get("/staff/feedback/callbacks/")
    assert page.status_code == 302 and "/staff/login/" in page["Location"]


def test_the_assignee_lists_their_call_backs_overdue_first(cast, callback, api_as):
    later = Callback.objects.create(
        complaint=callback.complaint,
        assignee=cast.agent,
        due_at=timezone.now() + timedelta(days=30),
        source="survey",
        reason="满意度跟进",
    )
    Callback.objects.filter(pk=callback.pk).update(due_at=timezone.now() - timedelta(days=1))
    rows = api_as(cast.agent).get("/feedback/callbacks", mine=1).json()
    assert [r["id"] for r in rows] == [callback.pk, later.pk]
    assert rows[0]["overdue"] is True and rows[1]["overdue"] is False
    page = logged_in(cast.agent).get("/staff/feedback/callbacks/")
    html = page.content.decode()
    assert page.status_code == 200 and html.index(f'id="callback-{callback.pk}"') < html.index(
        f'id="callback-{later.pk}"'
    )
    assert 'id="callbacks-overdue-count"' in html


def test_the_supervisor_sees_the_department_s_call_backs_and_another_agent_does_not(cast, callback, api_as):
    assert [r["id"] for r in api_as(cast.supervisor).get("/feedback/callbacks").json()] == [callback.pk]
    assert api_as(cast.supervisor).get("/feedback/callbacks", mine=1).json() == []
    assert api_as(cast.outsider).get("/feedback/callbacks").json() == []
    assert api_as(cast.quality_supervisor).get("/feedback/callbacks").json() == []


def test_a_bad_query_string_is_refused_naming_the_field(cast, callback, api_as):
    response = api_as(cast.agent).get("/feedback/callbacks", status="bogus")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "status"


def test_the_assignee_records_the_outcome(cast, callback, api_as):
    response = api_as(cast.agent).post(f"/feedback/callbacks/{callback.pk}/outcome", OUTCOME)
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["satisfied"], response.json()["attempts"]) == ("done", True, 1)


def test_the_supervisor_may_record_the_outcome(cast, callback, api_as):
    response = api_as(cast.supervisor).post(f"/feedback/callbacks/{callback.pk}/outcome", {"reached": False})
    assert response.status_code == 200 and response.json()["status"] == "open"


def test_an_agent_of_another_department_cannot_see_or_record_it(cast, callback, api_as):
    assert api_as(cast.outsider).post(f"/feedback/callbacks/{callback.pk}/outcome", OUTCOME).status_code == 404
    assert (
        logged_in(cast.outsider)
        .post(f"/staff/feedback/callbacks/{callback.pk}/outcome/", {"reached": "yes", "satisfied": "yes"})
        .status_code
        == 404
    )
    callback.refresh_from_db()
    assert callback.attempts == 0


def test_an_auditor_sees_but_cannot_record(cast, callback, api_as):
    assert [r["id"] for r in api_as(cast.auditor).get("/feedback/callbacks").json()] == [callback.pk]
    assert api_as(cast.auditor).post(f"/feedback/callbacks/{callback.pk}/outcome", OUTCOME).status_code == 403
    callback.refresh_from_db()
    assert callback.status == "open"


def test_a_colleague_who_is_not_assigned_cannot_record(cast, callback, api_as):
    assert api_as(cast.agent2).post(f"/feedback/callbacks/{callback.pk}/outcome", OUTCOME).status_code == 404


def test_an_analyst_has_no_call_back_list(cast, callback):
    assert logged_in(cast.analyst).get("/staff/feedback/callbacks/").status_code == 403


def test_a_bad_outcome_by_api_names_the_field(cast, callback, api_as):
    response = api_as(cast.agent).post(f"/feedback/callbacks/{callback.pk}/outcome", {"reached": True})
    assert response.status_code == 422 and [e["field"] for e in response.json()["errors"]] == ["satisfied"]
    response = api_as(cast.agent).post(f"/feedback/callbacks/{callback.pk}/outcome", {"reached": "perhaps"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "reached"


def test_the_page_form_records_the_outcome_and_shows_errors_under_the_field(cast, callback):
    client = logged_in(cast.agent)
    refused = client.post(f"/staff/feedback/callbacks/{callback.pk}/outcome/", {"note": "x"})
    assert refused.status_code == 422 and "请选择是否联系上投诉人" in refused.content.decode()
    done = client.post(
        f"/staff/feedback/callbacks/{callback.pk}/outcome/",
        {"reached": "yes", "satisfied": "no", "note": "客户仍不满意", "next": "/staff/feedback/callbacks/"},
    )
    assert done.status_code == 302 and done["Location"] == "/staff/feedback/callbacks/"
    callback.refresh_from_db()
    assert (callback.status, callback.satisfied, callback.note) == ("done", False, "客户仍不满意")


def test_the_case_panel_lists_the_call_back_with_its_form(cast, callback):
    html = logged_in(cast.agent).get(f"/staff/cases/{callback.complaint.tracking_no}/").content.decode()
    assert f'id="case-callback-{callback.pk}"' in html and f'id="callback-form-{callback.pk}"' in html
    html = logged_in(cast.auditor).get(f"/staff/cases/{callback.complaint.tracking_no}/").content.decode()
    assert f'id="case-callback-{callback.pk}"' in html and f'id="callback-form-{callback.pk}"' not in html


def _views(case_pk: int, how: str) -> list[LedgerEvent]:
    return list(LedgerEvent.objects.filter(complaint_id=case_pk, action="view_personal", data__how=how))


def test_the_list_shows_the_name_masked_and_no_phone_and_records_no_view(cast, callback, api_as):
    case = callback.complaint
    html = logged_in(cast.agent).get("/staff/feedback/callbacks/").content.decode()
    assert case.complainant_name not in html and case.complainant_phone not in html
    assert "张*" in html and f'href="/staff/feedback/callbacks/{callback.pk}/"' in html
    [row] = api_as(cast.agent).get("/feedback/callbacks", mine=1).json()
    assert row["complainant_name"] == "张*" and "complainant_phone" not in row
    assert not LedgerEvent.objects.filter(complaint=case, action="view_personal").exists()


def test_the_call_back_page_shows_the_phone_and_records_the_view(cast, callback):
    case = callback.complaint
    response = logged_in(cast.agent).get(f"/staff/feedback/callbacks/{callback.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert case.complainant_phone in html and case.complainant_name in html
    assert f'id="callback-form-{callback.pk}"' in html
    [event] = _views(case.pk, "case_page")
    assert event.actor == f"staff:{cast.agent.pk}"


def test_the_call_back_page_is_refused_to_others_and_records_nothing(cast, callback):
    assert Client().get(f"/staff/feedback/callbacks/{callback.pk}/").status_code == 302
    assert logged_in(cast.outsider).get(f"/staff/feedback/callbacks/{callback.pk}/").status_code == 404
    assert logged_in(cast.analyst).get(f"/staff/feedback/callbacks/{callback.pk}/").status_code == 403
    assert not LedgerEvent.objects.filter(complaint=callback.complaint, action="view_personal").exists()


def test_an_auditor_sees_the_contact_without_the_form_and_the_view_is_recorded(cast, callback):
    html = logged_in(cast.auditor).get(f"/staff/feedback/callbacks/{callback.pk}/").content.decode()
    assert callback.complaint.complainant_phone in html and f'id="callback-form-{callback.pk}"' not in html
    assert [e.actor for e in _views(callback.complaint_id, "case_page")] == [f"staff:{cast.auditor.pk}"]


def test_the_api_gives_the_contact_of_one_call_back_as_a_recorded_view(cast, callback, api_as):
    case = callback.complaint
    assert api_as(cast.outsider).get(f"/feedback/callbacks/{callback.pk}").status_code == 404
    assert api_as().get(f"/feedback/callbacks/{callback.pk}").status_code == 401
    one = api_as(cast.agent).get(f"/feedback/callbacks/{callback.pk}").json()
    assert (one["complainant_name"], one["complainant_phone"]) == (case.complainant_name, case.complainant_phone)
    assert len(_views(case.pk, "case_api")) == 1
    done = api_as(cast.agent).post(f"/feedback/callbacks/{callback.pk}/outcome", OUTCOME).json()
    assert done["complainant_phone"] == case.complainant_phone
    assert len(_views(case.pk, "case_api")) == 2


def test_a_bad_outcome_on_the_call_back_page_is_shown_there(cast, callback):
    refused = logged_in(cast.agent).post(f"/staff/feedback/callbacks/{callback.pk}/outcome/", {"reached": "yes"})
    html = refused.content.decode()
    assert refused.status_code == 422 and "联系上时请选择投诉人是否满意" in html
    assert 'id="callback-contact"' in html
