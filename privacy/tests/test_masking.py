import pytest

from complaints.selectors import mask, mask_for_analyst

from .conftest import events, logged_in, new_case


@pytest.mark.parametrize(
    ("field", "value", "masked"),
    [
        ("id_number", "110105194912312345", "110***********2345"),
        ("complainant_id_number", "11010519491231002X", "110***********002X"),
        ("complainant_phone", "+8613800138000", "+86138****8000"),
        ("phone", "+8613800138000", "+86138****8000"),
        ("complainant_email", "zhang.san@example.com", "z***@example.com"),
        ("complainant_name", "张三丰", "张**"),
        ("complainant_address", "广东省深圳市南山区科技园路1号", "广东省深圳市***"),
        ("address", "北京市朝阳区建国路88号", "北京市***"),
        ("complainant_address", "内蒙古自治区呼和浩特市新城区中山路", "内蒙古自治区呼和浩特市***"),
        ("complainant_address", "123 Main St, Springfield, IL 62701", "***, Springfield, IL 62701"),
        ("complainant_address", "科技园路1号", "***"),
        # a 市 inside the street (超市, 城市) is not a city: nothing is kept
        ("complainant_address", "海淀区中关村大街超市旁5号", "***"),
        ("address", "朝阳区建国路城市花园3号楼", "***"),
        ("complainant_address", "广东省深圳市南山区xx路1号", "广东省深圳市***"),
        ("complainant_address", "深圳市南山区科技园路1号", "深圳市***"),
        ("complainant_address", "广东省超市路1号", "广东省***"),  # a province, then no city of it
        ("complainant_address", "中关村大街, 超市旁, 5号", "***"),  # commas do not make it a Latin address
    ],
)
def test_mask_keeps_only_what_analysis_needs(field, value, masked):
    assert mask(field, value) == masked


def test_an_analyst_reads_id_numbers_masked_in_any_view():
    data = mask_for_analyst({"id_number": "110105194912312345", "complainant_address": "上海市浦东新区世纪大道1号"})
    assert data == {"id_number": "110***********2345", "complainant_address": "上海市***"}


def test_the_analyst_sees_the_case_masked_and_no_view_event_is_written(cast, body, api_as):
    case = new_case(body, complainant_address="广东省深圳市南山区科技园路1号")
    page = logged_in(cast.analyst).get(f"/staff/cases/{case.tracking_no}/").content.decode()
    assert "+86138****8000" in page and "z***@example.com" in page
    assert "+8613800138000" not in page and "zhang.san@example.com" not in page
    detail = api_as(cast.analyst).get(f"/complaints/{case.tracking_no}").json()
    assert detail["complainant_phone"] == "+86138****8000"
    assert detail["complainant_address"] == "广东省深圳市***"
    assert detail["complainant_name"] == "张*"
    assert events(case, "view_personal") == []


@pytest.mark.parametrize("role", ["auditor", "agent", "supervisor"])
def test_unmasked_readers_see_the_data_and_each_view_is_a_ledger_event(cast, body, api_as, role):
    case = new_case(body, complainant_address="广东省深圳市南山区科技园路1号")
    user = getattr(cast, role)
    page = logged_in(user).get(f"/staff/cases/{case.tracking_no}/")
    assert page.status_code == 200
    assert "+8613800138000" in page.content.decode()
    detail = api_as(user).get(f"/complaints/{case.tracking_no}").json()
    assert detail["complainant_address"] == "广东省深圳市南山区科技园路1号"
    viewed = events(case, "view_personal")
    assert [(e.data["how"], e.actor) for e in viewed] == [
        ("case_page", f"staff:{user.pk}"),
        ("case_api", f"staff:{user.pk}"),
    ]
    assert all(e.changes == {} for e in viewed)
    case.refresh_from_db()
    assert case.version == 1  # views move no version
    again = logged_in(user).get(f"/staff/cases/{case.tracking_no}/").content.decode()
    assert "个人信息查看记录（2 次）" in again  # the case page lists the earlier views apart from the handling


def test_the_privacy_page_of_a_person_is_a_view_on_each_of_their_cases(cast, person):
    customer, first, second = person
    assert logged_in(cast.legal).get(f"/staff/privacy/customers/{customer.pk}/").status_code == 200
    assert [e.data["how"] for e in events(first, "view_personal")] == ["profile"]
    assert [e.data["how"] for e in events(second, "view_personal")] == ["profile"]
