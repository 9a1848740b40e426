import json

import time_machine

from complaints.ledgering import Actor
from complaints.models import Complaint
from customers.models import Customer
from evidence.actions import set_legal_hold
from ledger.crypto import SHREDDED, decrypt
from ledger.models import SubjectKey
from ledger.verify import verify
from privacy.models import PrivacyRequest

from .conftest import at, close_case, events, fresh, logged_in, new_case


def _erase(api, customer, reason="本人要求删除个人信息"):
    return api.post(f"/privacy/customers/{customer.pk}/erase", {"reason": reason})


def _closed_person(cast, body, org_unit=None):
    """张三's two cases, received and closed in March 2022 (the first at `org_unit`, when given)."""
    extra = {"org_unit": org_unit.pk} if org_unit is not None else {}
    with time_machine.travel(at(2022, 3, 1, 10), tick=False):
        first = new_case(body, **extra, description="水壶漏电，我是张三，电话 13800138000，邮箱 zs@example.com。")
    with time_machine.travel(at(2022, 3, 2, 10), tick=False):
        second = new_case(body, complainant_phone="+86 138-0013-8000", description="第二次投诉：热水壶又坏了。")
    with time_machine.travel(at(2022, 3, 3, 10), tick=False):
        first, second = close_case(first, cast), close_case(second, cast)
    return first.customer, first, second


def test_erasure_is_refused_while_a_case_is_open_listing_the_cases(cast, person, api_as):
    customer, first, second = person
    response = _erase(api_as(cast.legal), customer)
    assert response.status_code == 409
    body = response.json()
    assert body["status"] == "refused"
    assert [(b["tracking_no"], b["reasons"]) for b in body["blocking"]] == [
        (first.tracking_no, ["open"]),
        (second.tracking_no, ["open"]),
    ]
    assert "尚未结案" in body["blocking"][0]["message"]
    request = PrivacyRequest.objects.get()
    assert (request.kind, request.status, request.reason) == ("erase", "refused", "本人要求删除个人信息")
    assert fresh(first).complainant_name == "张三" and not events(first, "erase_personal")
    assert SubjectKey.objects.get(pk=customer.subject_key_id).shredded_at is None


def test_erasure_is_refused_within_retention_and_under_legal_hold(cast, body, api_as, settings):
    settings.COMPLAINTDESK_PERSONAL_DATA_RETENTION_DAYS = 3 * 365
    customer, first, second = _closed_person(cast, body)
    with time_machine.travel(at(2022, 3, 10, 10), tick=False):
        set_legal_hold(first, actor=Actor.staff(cast.supervisor), on=True, reason="诉讼中")
        response = _erase(api_as(cast.legal), customer)
    assert response.status_code == 409
    blocking = {b["tracking_no"]: b for b in response.json()["blocking"]}
    assert blocking[first.tracking_no]["reasons"] == ["legal_hold", "retention"]
    assert blocking[second.tracking_no]["reasons"] == ["retention"]
    assert blocking[second.tracking_no]["until"].startswith("2025-03-02")
    assert (
        "2025-03-02" in blocking[second.tracking_no]["message"]
        or "2025-03-03" in blocking[second.tracking_no]["message"]
    )
    # years later the retention period is over, the legal hold still holds
    with time_machine.travel(at(2025, 6, 1, 10), tick=False):
        later = _erase(api_as(cast.legal), customer)
    assert later.status_code == 409
    assert [(b["tracking_no"], b["reasons"]) for b in later.json()["blocking"]] == [(first.tracking_no, ["legal_hold"])]
    assert fresh(second).complainant_name == "张三"


def test_erasure_after_retention_blanks_redacts_and_shreds_and_the_ledger_still_verifies(cast, body, api_as, org):
    customer, first, second = _closed_person(cast, body, org.store_sz)  # the manager's region
    versions = (first.version, second.version)
    receive = events(first, "receive")[0]
    with time_machine.travel(at(2025, 6, 1, 10), tick=False):
        response = _erase(api_as(cast.manager), customer, reason="本人书面申请删除（PIPL 第四十七条）")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "done"
    for case, version in zip((first, second), versions, strict=True):
        case = fresh(case)
        assert (case.complainant_name, case.complainant_phone, case.complainant_email, case.complainant_address) == (
            "",
            "",
            "",
            "",
        )
        assert case.version == version + 1
        assert "张三" not in case.description and "13800138000" not in case.description
        assert "zs@example.com" not in case.description and "张三" not in case.reply_text
        assert "13800138000" not in case.reply_text and "水壶" in fresh(first).description  # the words stay
        (event,) = events(case, "erase_personal")
        # the reason is free text that may name the person: in the request log only, never in the ledger
        assert event.data == {"request": response.json()["id"]}
        assert "本人书面申请" not in json.dumps(event.data, ensure_ascii=False) + json.dumps(event.changes)
        assert "张三" not in json.dumps(event.changes, ensure_ascii=False)
    assert "***" in fresh(first).description
    customer.refresh_from_db()
    assert (customer.name, customer.phone, customer.email) == ("", "", "")
    assert SubjectKey.objects.get(pk=customer.subject_key_id).shredded_at is not None
    # what the ledger held about the person can no longer be read; the chains still verify
    assert decrypt(receive.changes["complainant_name"][1]) is SHREDDED
    report = verify()
    assert report.ok, report.problems
    request = PrivacyRequest.objects.get(status="done")
    assert request.detail["cases"] == [first.tracking_no, second.tracking_no]
    assert request.detail["apps"][-1] == "privacy"
    # erasing again is refused, naming the customer
    again = _erase(api_as(cast.manager), customer)
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "customer"


def test_an_erased_person_is_not_matched_by_a_new_complaint(cast, body, api_as):
    customer, _first, _second = _closed_person(cast, body)
    with time_machine.travel(at(2025, 6, 1, 10), tick=False):
        assert _erase(api_as(cast.legal), customer).status_code == 200
    page = logged_in(cast.legal).get(f"/staff/privacy/customers/{customer.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "已删除" in html and 'id="form-erase"' not in html and 'id="form-correct"' not in html
    assert "张三" not in html
    newcomer = new_case(body)
    assert newcomer.customer_id != customer.pk
    assert Customer.objects.get(pk=newcomer.customer_id).phone == "+8613800138000"
    # the erased person's later case is written with a fresh key and still verifies
    assert verify().ok


def test_the_erase_form_lists_the_blocking_cases_and_needs_a_reason(cast, person):
    customer, first, second = person
    client = logged_in(cast.legal)
    page = client.get(f"/staff/privacy/customers/{customer.pk}/").content.decode()
    assert 'id="blocking"' in page and first.tracking_no in page and second.tracking_no in page
    empty = client.post(f"/staff/privacy/customers/{customer.pk}/erase/", {"reason": ""})
    assert empty.status_code == 422 and 'id="erase-error-reason"' in empty.content.decode()
    refused = client.post(f"/staff/privacy/customers/{customer.pk}/erase/", {"reason": "本人要求"})
    assert refused.status_code == 409
    html = refused.content.decode()
    assert 'id="erase-refused"' in html and first.tracking_no in html
    assert Complaint.objects.filter(complainant_name="张三").count() == 2
