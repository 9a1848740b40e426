"""Similar cases: the index is built from our own cases, a query finds the resolved cases about the
same thing (with their remedies and outcomes) and likely duplicates among the open ones, only cases the
user may see, new cases are found before the next index update, and a tampered index is not loaded."""

import json
from decimal import Decimal

import pytest
from django.test import Client

from complaints import actions as case_actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from intelligence import similar
from resolutions.models import Remedy

KETTLE = [
    "电热水壶使用三天后底座漏电，要求退款",
    "买的电热水壶一插电就跳闸，底座漏电，太危险",
    "热水壶底座漏电，手碰到壶身有麻的感觉",
    "The electric kettle leaks current at the base and trips the breaker",
]
DELIVERY = [
    "快递三天还没送到，物流信息一直不更新",
    "物流一周没有更新，快递迟迟不送货",
    "订单显示已发货但快递一直没有送到",
    "My parcel has not been delivered for two weeks and tracking never updates",
]
BILLING = [
    "话费账单多扣了39元流量费，要求退还",
    "本月账单出现不明扣费，流量费多收了",
    "信用卡账单重复扣款两次，要求退回",
    "I was charged twice on my monthly bill and want the extra charge refunded",
]


@pytest.fixture
def filed(cast, body):  # type: ignore[no-untyped-def]
    def file(text: str, **overrides):  # type: ignore[no-untyped-def]
        data = check_intake(IntakeData(**body(description=text, complainant_phone="", **overrides)), staff=False)
        complaint, _code = case_actions.submit(data, actor=Actor.consumer())
        return complaint

    return file


@pytest.fixture
def history(cast, filed, org):  # type: ignore[no-untyped-def]
    """Resolved cases about three things, in the service department (the supervisor's)."""
    made = {}
    for theme, texts in (("kettle", KETTLE), ("delivery", DELIVERY), ("billing", BILLING)):
        for round_ in range(2):
            for i, text in enumerate(texts):
                complaint = filed(f"{text}（第{round_ + 1}次）", complainant_email=f"{theme}{round_}{i}@example.com")
                made.setdefault(theme, []).append(complaint)
    ids = [c.pk for cases in made.values() for c in cases]
    # Test set-up only: the states these cases would reach through the whole process.
    Complaint.objects.filter(pk__in=ids).update(status="closed", outcome="accepted", department=org.service)
    Remedy.objects.create(
        complaint=made["kettle"][0], kind="return_refund", amount=Decimal("199.00"), proposed_by=cast.agent
    )
    return made


def test_a_query_finds_resolved_cases_about_the_same_thing_with_their_remedies(cast, history, filed, org):
    assert similar.build()["indexed"] == 24
    case = filed("我的电热水壶底座漏电，手一碰就发麻，要求退货")
    Complaint.objects.filter(pk=case.pk).update(department=org.service)
    found = similar.similar_for(case, cast.supervisor)
    numbers = {c.tracking_no for c in history["kettle"]}
    assert len(found["resolved"]) == 5
    assert sum(row["tracking_no"] in numbers for row in found["resolved"]) >= 4
    assert found["resolved"][0]["score"] >= found["resolved"][-1]["score"]
    refunded = [row for row in found["resolved"] if row["tracking_no"] == history["kettle"][0].tracking_no]
    if refunded:
        assert refunded[0]["remedies"][0] == {
            "kind": "return_refund",
            "kind_display": "退货退款",
            "amount": "199.00",
            "currency": "CNY",
            "status": "proposed",
        }
    english = filed("The kettle base leaks current and trips the breaker")
    found = similar.similar_for(english, cast.supervisor)
    assert found["resolved"][0]["tracking_no"] in numbers


def test_an_open_case_with_the_same_text_is_a_likely_duplicate(cast, history, filed, org):
    similar.build()
    first = filed("电热水壶底座漏电，手碰到壶身发麻，一插电就跳闸")
    second = filed("电热水壶底座漏电，手碰到壶身发麻，一插电就跳闸！")
    Complaint.objects.filter(pk__in=[first.pk, second.pk]).update(department=org.service)
    found = similar.similar_for(second, cast.supervisor)
    assert [row["tracking_no"] for row in found["duplicates"]] == [first.tracking_no]
    assert found["duplicates"][0]["score"] >= 0.9


def test_only_cases_the_user_may_see_are_listed(cast, history, filed):
    similar.build()
    case = filed("电热水壶底座漏电")
    assert similar.similar_for(case, cast.outsider)["resolved"] == []  # logistics sees none of them
    assert len(similar.similar_for(case, cast.auditor)["resolved"]) == 5


def test_new_cases_are_found_before_the_update_and_indexed_by_it(cast, history, filed, org):
    similar.build()
    state = json.loads((similar.directory() / "state.json").read_text())
    late = filed("本月话费账单重复扣款两次，流量费多收了39元")
    Complaint.objects.filter(pk=late.pk).update(status="closed", department=org.service)
    query = filed("本月话费账单重复扣款两次，流量费多收了39元！")
    assert similar.similar_for(query, cast.supervisor)["resolved"][0]["tracking_no"] == late.tracking_no
    assert similar.update()["added"] == 2
    after = json.loads((similar.directory() / "state.json").read_text())
    assert after["count"] == state["count"] + 2 and after["last_id"] == query.pk


def test_without_enough_cases_nothing_is_built_and_the_page_says_so(cast, filed):
    case = filed("电热水壶底座漏电")
    assert similar.build()["indexed"] == 0
    assert similar.similar_for(case, cast.supervisor) == {"indexed": False, "resolved": [], "duplicates": []}


def test_a_tampered_projection_is_not_loaded_even_with_a_matching_state_file(cast, history):
    import hashlib

    similar.build()
    path = similar.directory() / "projection.pkl"
    forged = path.read_bytes() + b"\x00"
    path.write_bytes(forged)
    similar._loaded = None
    (similar.directory() / "state.json").touch()
    assert similar.load() is None
    # Whoever can write the files can rewrite state.json as well: without SECRET_KEY, no valid HMAC.
    state_path = similar.directory() / "state.json"
    state = json.loads(state_path.read_text())
    state["projection_hmac"] = hashlib.sha256(forged).hexdigest()
    state_path.write_text(json.dumps(state))
    assert similar.load() is None


def test_the_case_page_and_the_api_list_similar_cases(cast, history, filed, org, api_as):
    similar.build()
    case = filed("电热水壶底座漏电，要求退款")
    Complaint.objects.filter(pk=case.pk).update(department=org.service)
    client = Client()
    client.force_login(cast.supervisor)
    page = client.get(f"/staff/cases/{case.tracking_no}/").content.decode()
    assert 'id="similar"' in page and page.count('class="similar-case"') == 5
    response = api_as(cast.supervisor).get(f"/complaints/{case.tracking_no}/similar")
    assert response.status_code == 200 and len(response.json()["resolved"]) == 5
    assert api_as(cast.outsider).get(f"/complaints/{case.tracking_no}/similar").status_code == 404
    assert api_as().get(f"/complaints/{case.tracking_no}/similar").status_code == 401
