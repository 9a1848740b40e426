"""The case page's remedies panel and the calculator fragment (HTMX)."""

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from complaints.ledgering import Actor
from resolutions import actions
from resolutions.models import Remedy


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_panel_shows_remedies_and_the_add_form(cast, case):
    html = logged_in(cast.agent).get(f"/staff/cases/{case.tracking_no}/").content.decode()
    assert 'id="remedies"' in html and 'id="form-add-remedy"' in html and 'id="form-calculator"' in html
    assert html.index('id="remedies"') < html.index("可执行的操作")
    auditor = logged_in(cast.auditor).get(f"/staff/cases/{case.tracking_no}/").content.decode()
    assert 'id="remedies"' in auditor and 'id="form-add-remedy"' not in auditor


def test_add_approve_and_pay_on_the_page(cast, case):
    agent, supervisor = logged_in(cast.agent), logged_in(cast.supervisor)
    response = agent.post(
        f"/staff/remedies/{case.tracking_no}/add/", {"kind": "compensation", "amount": "800", "currency": "CNY"}
    )
    assert response.status_code == 302 and response["Location"].endswith("#remedies")
    remedy = Remedy.objects.get()
    assert remedy.status == "pending_approval"
    page = agent.get(f"/staff/cases/{case.tracking_no}/").content.decode()
    assert f'id="approve-remedy-{remedy.pk}"' not in page  # not for the proposer
    page = supervisor.get(f"/staff/cases/{case.tracking_no}/").content.decode()
    assert f'id="approve-remedy-{remedy.pk}"' in page and "主管审批" in page
    supervisor.post(f"/staff/remedies/{case.tracking_no}/{remedy.pk}/approve/", {"comment": "同意"})
    assert Remedy.objects.get().status == "approved"
    page = agent.get(f"/staff/cases/{case.tracking_no}/").content.decode()
    assert f'id="pay-remedy-{remedy.pk}"' in page
    agent.post(f"/staff/remedies/{case.tracking_no}/{remedy.pk}/paid/", {"reference": "TX-77"})
    assert Remedy.objects.get().paid_reference == "TX-77"


def test_refusals_come_back_on_the_page(cast, case):
    agent = logged_in(cast.agent)
    bad = agent.post(f"/staff/remedies/{case.tracking_no}/add/", {"kind": "compensation", "amount": "-1"})
    assert bad.status_code == 422 and 'id="remedy-error-amount"' in bad.content.decode()
    remedy = actions.add_remedy(case, actor=Actor.staff(cast.agent), kind="compensation", amount="500")
    own = agent.post(f"/staff/remedies/{case.tracking_no}/{remedy.pk}/approve/", {"comment": ""})
    assert own.status_code == 422 and "自己提出" in own.content.decode()
    assert (
        logged_in(cast.outsider).post(f"/staff/remedies/{case.tracking_no}/add/", {"kind": "apology"}).status_code
        == 404
    )
    assert Remedy.objects.get().status == "pending_approval"


def test_calculator_fragment(cast):
    client = logged_in(cast.agent)
    fragment = client.get("/staff/remedies/calculate/", {"rule": "crpl_55", "price": "300"}, HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in html
    assert "900.00" in html and "第五十五条第一款" in html and "消费者权益保护法" in html
    food = client.get("/staff/remedies/calculate/", {"rule": "food_148", "price": "50"}, HTTP_HX_REQUEST="true")
    assert "1000.00" in food.content.decode()
    page = client.get("/staff/remedies/calculate/", {"rule": "crpl_55", "price": "abc"})
    assert page.status_code == 422 and 'id="calc-error-price"' in page.content.decode()
    assert Client().get("/staff/remedies/calculate/", {"rule": "crpl_55"}).status_code == 302


def test_case_page_queries_do_not_grow_with_remedies(cast, case):
    client = logged_in(cast.supervisor)

    def count() -> int:
        client.get(f"/staff/cases/{case.tracking_no}/")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/staff/cases/{case.tracking_no}/").status_code == 200
        return len(queries.captured_queries)

    first = actions.add_remedy(case, actor=Actor.staff(cast.agent), kind="compensation", amount="500")
    actions.approve_remedy(first, actor=Actor.staff(cast.supervisor), comment="同意")
    actions.add_remedy(case, actor=Actor.staff(cast.agent), kind="compensation", amount="600")
    one = count()
    for n in range(5):
        remedy = actions.add_remedy(case, actor=Actor.staff(cast.agent), kind="compensation", amount=f"{700 + n}")
        actions.approve_remedy(remedy, actor=Actor.staff(cast.manager), comment="同意")
    assert count() == one
