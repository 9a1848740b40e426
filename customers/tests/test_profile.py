"""The profile page, the search list and the API: who may open a profile, masking for analysts, the
ledger event of an unmasked view, the case-page panel, and the query count pinned."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from complaints.ledgering import Actor
from customers.actions import create_care_action, set_id_number
from customers.models import Customer, Order, ServiceRecord
from ledger.models import LedgerEvent

from .conftest import logged_in, orders, submit

pytestmark = pytest.mark.django_db


def profile_url(customer_id: int) -> str:
    return f"/staff/customers/{customer_id}/"


def views_of(complaint_id: int) -> int:
    return LedgerEvent.objects.filter(complaint_id=complaint_id, action="view_personal").count()


@pytest.fixture
def rich(case):  # type: ignore[no-untyped-def]
    """张三 with an ID number, orders (gold), a service record."""
    customer = case.customer
    set_id_number(customer, "11010519491231002X")
    orders(customer, 12, "100")
    ServiceRecord.objects.create(
        customer=customer, kind="repair", occurred_at=timezone.now(), reference="SR-1", description="更换温控器"
    )
    return customer


# --- who may open a profile ------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(rich):
    for url in (profile_url(rich.pk), "/staff/customers/?q=张三"):
        response = Client().get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_the_agent_of_the_case_sees_the_whole_profile_unmasked(cast, case, rich):
    response = logged_in(cast.agent).get(profile_url(rich.pk))
    page = response.content.decode()
    assert response.status_code == 200
    assert "张三" in page and "+8613800138000" in page and "11010519491231002X" in page
    assert "SO0000" in page and "更换温控器" in page and case.tracking_no in page
    assert "12 个月消费 ¥1,200，订单 12 笔 → 金卡" in page
    assert 'id="factor-recent"' in page and 'id="factor-open"' in page


def test_an_unmasked_view_is_a_ledger_event_on_each_case_of_the_person(cast, case, rich, body, org):
    other = submit(body)  # another case of 张三 in no department the agent works in
    assert other.customer_id == rich.pk
    logged_in(cast.agent).get(profile_url(rich.pk))
    assert views_of(case.pk) == 1 and views_of(other.pk) == 1
    event = LedgerEvent.objects.get(complaint_id=case.pk, action="view_personal")
    assert event.data["how"] == "profile" and event.actor == f"staff:{cast.agent.pk}"


def test_analysts_see_the_profile_masked_and_leave_no_view_event(cast, case, rich):
    response = logged_in(cast.analyst).get(profile_url(rich.pk))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="masked-note"' in page
    assert "+8613800138000" not in page and "zhang.san@example.com" not in page
    assert "11010519491231002X" not in page and "更换温控器" not in page and "SO0000" not in page
    assert "张*" in page
    assert "金卡" in page  # the tier is no personal data
    assert views_of(case.pk) == 0


def test_auditors_see_every_profile_unmasked(cast, case, rich):
    page = logged_in(cast.auditor).get(profile_url(rich.pk)).content.decode()
    assert "+8613800138000" in page
    assert views_of(case.pk) == 1


def test_admins_without_a_case_role_get_403(cast, rich):
    assert logged_in(cast.admin).get(profile_url(rich.pk)).status_code == 403
    assert logged_in(cast.admin).get("/staff/customers/").status_code == 403


def test_department_handlers_get_403_even_with_a_task_on_the_case(cast, case, rich, org):
    # A handler's scope is their department's work, not the customer behind it.
    from complaints.models import Complaint

    Complaint.objects.filter(pk=case.pk).update(department=org.quality)
    assert logged_in(cast.handler).get(profile_url(rich.pk)).status_code == 403


def test_an_agent_of_another_department_gets_404_as_for_a_missing_profile(cast, rich):
    assert logged_in(cast.outsider).get(profile_url(rich.pk)).status_code == 404
    assert views_of(rich.pk) == 0


def test_an_agent_of_another_department_who_sees_a_case_of_the_person_may_open_it(cast, case, rich, body, org):
    submit(body)
    from complaints.models import Complaint

    Complaint.objects.filter(customer=rich).exclude(pk=case.pk).update(department=org.logistics)
    assert logged_in(cast.outsider).get(profile_url(rich.pk)).status_code == 200


def test_an_unknown_profile_is_404(cast):
    assert logged_in(cast.auditor).get(profile_url(999999)).status_code == 404


# --- the search list -------------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["张三", "138 0013 8000", "+86-138-0013-8000", "ZHANG.SAN@example.com"])
def test_the_agent_finds_the_customer_by_name_phone_in_any_form_or_e_mail(cast, rich, q):
    page = logged_in(cast.agent).get("/staff/customers/", {"q": q}).content.decode()
    assert f'id="customer-{rich.pk}"' in page


def test_part_of_a_phone_number_finds_nobody_since_the_numbers_are_encrypted(cast, rich):
    page = logged_in(cast.agent).get("/staff/customers/", {"q": "0013"}).content.decode()
    assert f'id="customer-{rich.pk}"' not in page


def test_the_search_finds_by_customer_number(cast, rich):
    Customer.objects.filter(pk=rich.pk).update(customer_no="M1001")
    page = logged_in(cast.agent).get("/staff/customers/", {"q": "m1001"}).content.decode()
    assert f'id="customer-{rich.pk}"' in page


def test_the_search_lists_only_customers_the_user_reaches(cast, rich):
    other = Customer.objects.create(name="张三丰", phone="+8613900000009", subject_key=rich.subject_key)
    page = logged_in(cast.agent).get("/staff/customers/", {"q": "张三"}).content.decode()
    assert f'id="customer-{rich.pk}"' in page and f'id="customer-{other.pk}"' not in page
    assert (
        f'id="customer-{rich.pk}"'
        not in logged_in(cast.outsider).get("/staff/customers/", {"q": "张三"}).content.decode()
    )


def test_analysts_search_by_customer_number_only_and_see_masked_rows(cast, rich):
    Customer.objects.filter(pk=rich.pk).update(customer_no="M1001")
    client = logged_in(cast.analyst)
    assert f'id="customer-{rich.pk}"' not in client.get("/staff/customers/", {"q": "张三"}).content.decode()
    page = client.get("/staff/customers/", {"q": "M1001"}).content.decode()
    assert f'id="customer-{rich.pk}"' in page and "+8613800138000" not in page


# --- the API ---------------------------------------------------------------------------------------


def test_the_api_follows_the_same_rules(cast, case, rich, api_as):
    assert api_as().get(f"/customers/{rich.pk}").status_code == 401
    assert api_as(cast.admin).get(f"/customers/{rich.pk}").status_code == 403
    assert api_as(cast.outsider).get(f"/customers/{rich.pk}").status_code == 404
    agent = api_as(cast.agent).get(f"/customers/{rich.pk}")
    assert agent.status_code == 200
    data = agent.json()
    assert data["phone"] == "+8613800138000" and data["id_number"] == "11010519491231002X"
    assert data["value_tier"]["tier"] == "gold" and data["value_tier"]["orders_12m"] == 12
    assert data["churn_risk"]["score"] == 15
    assert [c["tracking_no"] for c in data["complaints"]] == [case.tracking_no]
    assert data["service_records"][0]["description"] == "更换温控器"
    assert views_of(case.pk) == 1
    masked = api_as(cast.analyst).get(f"/customers/{rich.pk}").json()
    assert masked["masked"] is True and masked["phone"] != "+8613800138000"
    assert masked["service_records"][0]["description"] == "***"
    assert views_of(case.pk) == 1


def test_the_api_search(cast, rich, api_as):
    assert api_as().get("/customers", q="张三").status_code == 401
    assert api_as(cast.admin).get("/customers", q="张三").status_code == 403
    assert api_as(cast.outsider).get("/customers", q="张三").json() == []
    found = api_as(cast.agent).get("/customers", q="138-0013-8000").json()
    assert [c["id"] for c in found] == [rich.pk] and found[0]["tier"] == "gold"
    assert api_as(cast.agent).get("/customers", q="x" * 101).status_code == 422


# --- the case page panel ---------------------------------------------------------------------------


def test_the_case_page_shows_tier_churn_open_care_actions_and_the_link(cast, case, rich):
    create_care_action(
        rich, actor=Actor.staff(cast.agent), kind="gift", due_at=timezone.now(), assignee=cast.agent, note="礼品"
    )
    page = logged_in(cast.agent).get(f"/staff/cases/{case.tracking_no}/").content.decode()
    assert 'id="customer-panel"' in page and 'id="panel-tier">金卡<' in page
    assert 'id="panel-churn"' in page and 'id="panel-cares"' in page
    assert f'href="/staff/customers/{rich.pk}/"' in page


def test_the_panel_offers_no_profile_link_to_a_department_handler(cast, case, rich, org):
    from complaints.models import Complaint

    Complaint.objects.filter(pk=case.pk).update(department=org.quality)
    page = logged_in(cast.handler).get(f"/staff/cases/{case.tracking_no}/").content.decode()
    assert 'id="customer-panel"' in page and 'id="panel-profile-link"' not in page


# --- speed -----------------------------------------------------------------------------------------


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_profile_page_query_count_is_pinned_and_does_not_grow_with_the_history(cast, case, rich):
    client = logged_in(cast.analyst)  # masked: no ledger writes, which grow with the person's cases
    small = _queries(client, profile_url(rich.pk))
    # session, user, customer, memberships, delegations, the person's complaints (for counts and churn),
    # survey answers, the tier's aggregate, visible complaints, orders, service records, care actions.
    assert small == 12
    orders(rich, 20, "10", prefix="MORE")
    for i in range(10):
        ServiceRecord.objects.create(customer=rich, kind="repair", occurred_at=timezone.now(), reference=f"X{i}")
        create_care_action(
            rich, actor=Actor.staff(cast.agent), kind="visit", due_at=timezone.now(), assignee=cast.agent
        )
    assert _queries(client, profile_url(rich.pk)) == small
    assert Order.objects.filter(customer=rich).count() == 32


def test_the_unmasked_profile_costs_a_fixed_number_of_queries_per_case(cast, case, rich, body):
    client = logged_in(cast.auditor)
    one_case = _queries(client, profile_url(rich.pk))
    submit(body)
    two_cases = _queries(client, profile_url(rich.pk))
    submit(body)
    three_cases = _queries(client, profile_url(rich.pk))
    assert three_cases - two_cases == two_cases - one_case > 0  # the view events, nothing else


# --- what the profile shows of cases the viewer does not see (review fix A) ---------------------------


@pytest.fixture
def hidden_case(case, rich, body, org):  # type: ignore[no-untyped-def]
    """A second case of 张三, in the logistics department (the agent does not see it), with a survey
    answer and a care action, each carrying text."""
    from complaints.models import Complaint
    from feedback.models import Survey, SurveyAnswer

    other = submit(body)
    Complaint.objects.filter(pk=other.pk).update(department=org.logistics)
    other.refresh_from_db()
    survey = Survey.objects.create(complaint=other, due_at=timezone.now())
    SurveyAnswer.objects.create(
        survey=survey, complaint=other, outcome=1, handling=1, solved="no", comment="物流员工态度恶劣"
    )
    from customers.models import CareAction

    CareAction.objects.create(
        customer=rich, complaint=other, kind="visit", due_at=timezone.now(), note="物流部上门致歉"
    )
    return other


def test_the_profile_shows_answers_and_care_actions_of_the_cases_the_viewer_sees_only(cast, case, rich, hidden_case):
    create_care_action(
        rich, actor=Actor.staff(cast.agent), kind="gift", due_at=timezone.now(), assignee=cast.agent, note="会员礼品"
    )
    page = logged_in(cast.agent).get(profile_url(rich.pk)).content.decode()
    assert "物流员工态度恶劣" not in page and "物流部上门致歉" not in page
    assert hidden_case.tracking_no not in page
    assert "会员礼品" in page  # a care action of no case is the profile's, for whoever opens it
    # The churn score still counts the hidden answer (a number, no text), and says so.
    assert 'id="factor-not_solved"' in page and 'id="churn-basis"' in page
    data = logged_in(cast.agent).get(f"/api/v1/customers/{rich.pk}").json()
    assert data["satisfaction"] == [] and [c["note"] for c in data["care_actions"]] == ["会员礼品"]
    assert data["churn_risk"]["basis"] == "all_complaints_and_answers"
    assert {f["code"] for f in data["churn_risk"]["factors"]} >= {"low_score", "not_solved"}
    # The logistics agent sees that case: its answer and care action are on their profile view.
    outsider = logged_in(cast.outsider).get(profile_url(rich.pk)).content.decode()
    assert "物流员工态度恶劣" in outsider and "物流部上门致歉" in outsider


# --- ids cannot be probed (review fix D) -------------------------------------------------------------


def test_a_profile_the_user_may_not_open_is_a_404_like_a_missing_one(cast, rich, api_as):
    client = logged_in(cast.outsider)
    assert client.get(profile_url(rich.pk)).status_code == 404
    assert client.get(profile_url(999999)).status_code == 404
    assert api_as(cast.outsider).get(f"/customers/{rich.pk}").status_code == 404
    assert api_as(cast.outsider).get("/customers/999999").status_code == 404
    # A role that never opens profiles learns nothing about an id from a 403.
    assert logged_in(cast.admin).get(profile_url(999999)).status_code == 403
    assert api_as(cast.admin).get("/customers/999999").status_code == 403
    assert views_of(rich.pk) == 0


# --- the search list shows personal data masked (review fix E) ---------------------------------------


def test_the_search_list_masks_personal_data_for_everyone_and_the_profile_shows_it_in_full(cast, case, rich, api_as):
    page = logged_in(cast.agent).get("/staff/customers/", {"q": "138 0013 8000"}).content.decode()
    assert f'id="customer-{rich.pk}"' in page and 'id="list-masked-note"' in page
    assert "+8613800138000" not in page and "zhang.san@example.com" not in page and "张三" not in page
    assert "+86138****8000" in page and "z***@example.com" in page and "张*" in page
    Customer.objects.filter(pk=rich.pk).update(customer_no="M1001")
    for user, q in ((cast.agent, "张三"), (cast.auditor, "M1001")):
        found = api_as(user).get("/customers", q=q).json()
        assert [row["id"] for row in found] == [rich.pk]
        for row in found:
            assert row["phone"] != "+8613800138000" and row["email"] != "zhang.san@example.com"
            assert row["name"] != "张三" and row["id_number"] != "11010519491231002X"
    assert views_of(case.pk) == 0  # the list records nothing: it shows nothing in clear
    assert "+8613800138000" in logged_in(cast.agent).get(profile_url(rich.pk)).content.decode()
    assert views_of(case.pk) == 1
