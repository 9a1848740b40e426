import pytest
from django.test import Client

from privacy.models import PrivacyRequest

from .conftest import events, logged_in, new_case

NOT_HANDLERS = ["agent", "supervisor", "analyst", "auditor", "admin", "outsider", "handler"]


def test_anonymous_visitors_are_sent_to_the_login_page(person):
    customer, _first, _second = person
    client = Client()
    for path in ("/staff/privacy/", f"/staff/privacy/customers/{customer.pk}/"):
        response = client.get(path)
        assert response.status_code == 302 and "login" in response["Location"]
    for action in ("export", "correct", "erase"):
        response = client.post(f"/staff/privacy/customers/{customer.pk}/{action}/", {"format": "json", "reason": "x"})
        assert response.status_code == 302 and "login" in response["Location"]


def test_anonymous_api_calls_are_unauthenticated(person, api_as):
    customer, _first, _second = person
    api = api_as()
    assert api.post(f"/privacy/customers/{customer.pk}/export?format=json").status_code == 401
    assert api.post(f"/privacy/customers/{customer.pk}/correct", {"name": "李四", "reason": "更正"}).status_code == 401
    assert api.post(f"/privacy/customers/{customer.pk}/erase", {"reason": "删除"}).status_code == 401
    assert api.get("/privacy/requests").status_code == 401


@pytest.mark.parametrize("role", NOT_HANDLERS)
def test_other_roles_may_not_handle_requests(cast, person, api_as, role):
    customer, first, _second = person
    user = getattr(cast, role)
    client = logged_in(user)
    assert client.get(f"/staff/privacy/customers/{customer.pk}/").status_code == 403
    for action in ("export", "correct", "erase"):
        assert (
            client.post(
                f"/staff/privacy/customers/{customer.pk}/{action}/",
                {"format": "json", "name": "李四", "reason": "更正"},
            ).status_code
            == 403
        )
    api = api_as(user)
    assert api.post(f"/privacy/customers/{customer.pk}/export?format=json").status_code == 403
    assert api.post(f"/privacy/customers/{customer.pk}/correct", {"name": "李四", "reason": "更正"}).status_code == 403
    assert api.post(f"/privacy/customers/{customer.pk}/erase", {"reason": "删除"}).status_code == 403
    assert not PrivacyRequest.objects.exists() and not events(first, "export_personal")
    customer.refresh_from_db()
    assert customer.name == "张三"


@pytest.mark.parametrize("role", ["agent", "supervisor", "analyst", "admin", "outsider"])
def test_only_handlers_and_auditors_read_the_request_log(cast, api_as, role):
    user = getattr(cast, role)
    assert logged_in(user).get("/staff/privacy/").status_code == 403
    assert api_as(user).get("/privacy/requests").status_code == 403


def test_the_auditor_reads_the_log_but_cannot_search_people(cast, person, api_as):
    customer, _first, _second = person
    assert api_as(cast.legal).post(f"/privacy/customers/{customer.pk}/export?format=json").status_code == 200
    page = logged_in(cast.auditor).get("/staff/privacy/?q=张三")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="request-log"' in html and f"#{customer.pk}" in html
    assert 'id="form-find"' not in html and 'id="results"' not in html
    log = api_as(cast.auditor).get("/privacy/requests").json()
    assert [(r["kind"], r["customer_id"], r["actor"]) for r in log] == [("export", customer.pk, "legal")]


@pytest.mark.parametrize("role", ["legal", "manager"])
def test_legal_and_managers_find_a_person_by_phone_email_or_name(cast, person, role):
    customer, _first, _second = person
    client = logged_in(getattr(cast, role))
    for q in ("138-0013-8000", "ZHANG.SAN@example.com", "张三"):
        html = client.get("/staff/privacy/", {"q": q}).content.decode()
        assert f'href="/staff/privacy/customers/{customer.pk}/"' in html, q
    assert 'id="no-results"' in client.get("/staff/privacy/", {"q": "13999999999"}).content.decode()


def test_an_unknown_customer_is_not_found(cast, api_as):
    assert logged_in(cast.legal).get("/staff/privacy/customers/999999/").status_code == 404
    assert api_as(cast.legal).post("/privacy/customers/999999/export?format=json").status_code == 404
    assert api_as(cast.legal).post("/privacy/customers/999999/erase", {"reason": "删除"}).status_code == 404


def test_the_case_page_links_handlers_to_the_persons_privacy_page(cast, body, org):
    first = new_case(body, org_unit=org.store_sz.pk)  # inside the manager's region
    customer = first.customer
    link = f'href="/staff/privacy/customers/{customer.pk}/"'
    assert link in logged_in(cast.manager).get(f"/staff/cases/{first.tracking_no}/").content.decode()
    assert link not in logged_in(cast.supervisor).get(f"/staff/cases/{first.tracking_no}/").content.decode()
