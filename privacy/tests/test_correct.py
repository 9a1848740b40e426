from ledger.crypto import decrypt
from ledger.verify import verify
from privacy.models import PrivacyRequest

from .conftest import events, fresh, logged_in


def _correct(api, customer, **payload):
    return api.post(f"/privacy/customers/{customer.pk}/correct", payload)


def test_a_correction_reaches_every_case_with_an_event_and_a_new_version(cast, person, api_as):
    customer, first, second = person
    versions = [fresh(first).version, fresh(second).version]
    response = _correct(
        api_as(cast.legal),
        customer,
        name="张叁",
        phone="139 0013 9000",
        email="New.Mail@Example.com",
        address="广东省深圳市南山区科技园路1号",
        id_number="11010519491231002x",
        reason="本人来电更正姓名与联系方式",
    )
    assert response.status_code == 200, response.content
    assert response.json()["kind"] == "correct" and response.json()["status"] == "done"
    customer.refresh_from_db()
    assert (customer.name, customer.phone, customer.email, customer.address, customer.id_number) == (
        "张叁",
        "+8613900139000",
        "new.mail@example.com",
        "广东省深圳市南山区科技园路1号",
        "11010519491231002X",
    )
    for case, version in zip((first, second), versions, strict=True):
        case = fresh(case)
        assert case.complainant_name == "张叁"
        assert case.complainant_phone == "+8613900139000"
        assert case.complainant_email == "new.mail@example.com"
        assert case.complainant_address == "广东省深圳市南山区科技园路1号"
        assert case.version == version + 1
        (event,) = events(case, "correct_personal")
        assert event.data["fields"] == sorted(
            ["complainant_name", "complainant_phone", "complainant_email", "complainant_address"]
        )
        # personal values are encrypted in the ledger, and decrypt to the corrected ones
        before, after = event.changes["complainant_name"]
        assert "enc" in after and decrypt(after) == "张叁" and decrypt(before) == "张三"
        assert "张叁" not in str(event.changes) and "本人来电" not in str(event.data)
        assert decrypt(event.data["note"]) == "本人来电更正姓名与联系方式"
    request = PrivacyRequest.objects.get()
    assert request.detail["cases"] == [first.tracking_no, second.tracking_no]
    assert verify().ok


def test_a_correction_of_one_field_leaves_the_others(cast, person, api_as):
    customer, first, _second = person
    assert _correct(api_as(cast.manager), customer, email="other@example.com", reason="邮箱变更").status_code == 200
    case = fresh(first)
    assert case.complainant_email == "other@example.com" and case.complainant_name == "张三"
    assert events(case, "correct_personal")[0].data["fields"] == ["complainant_email"]


def test_bad_values_are_refused_naming_each_field_and_nothing_changes(cast, person, api_as):
    customer, first, _second = person
    api = api_as(cast.legal)
    response = _correct(
        api, customer, phone="12345", email="not-an-email", id_number="110105194912310021", reason="更正"
    )
    assert response.status_code == 422
    fields = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert set(fields) == {"phone", "email", "id_number"}
    assert "电话号码无效" in fields["phone"] and "校验码" in fields["id_number"]
    missing = _correct(api, customer, name="李四")
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "reason"
    short = _correct(api, customer, name="李四", reason="x")
    assert short.status_code == 422 and short.json()["errors"][0]["field"] == "reason"
    same = _correct(api, customer, name="张三", reason="再次确认")
    assert same.status_code == 422 and same.json()["errors"][0]["field"] == "fields"
    unknown = _correct(api, customer, nickname="三儿", reason="更正")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "nickname"
    customer.refresh_from_db()
    assert customer.name == "张三" and fresh(first).complainant_phone == "+8613800138000"
    assert not events(first, "correct_personal") and not PrivacyRequest.objects.exists()


def test_the_correction_form_shows_errors_next_to_the_fields(cast, person):
    customer, first, _second = person
    client = logged_in(cast.legal)
    page = client.post(f"/staff/privacy/customers/{customer.pk}/correct/", {"phone": "abc", "reason": "更正电话"})
    assert page.status_code == 422
    html = page.content.decode()
    assert 'id="correct-error-phone"' in html and "电话号码无效" in html and 'value="abc"' in html
    done = client.post(
        f"/staff/privacy/customers/{customer.pk}/correct/", {"phone": "13900139000", "reason": "更正电话"}
    )
    assert done.status_code == 302
    assert fresh(first).complainant_phone == "+8613900139000"
