"""The case library: anonymised snapshots of closed cases added by supervisors and managers, read by
every case role, searched by text and category, and linked from similar open cases."""

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from complaints.models import Complaint
from improvement.models import LibraryEntry

from .conftest import closed_case, logged_in, new_case

SECRET_TEXT = (
    "我是张三，电话 13800138000，邮箱 zs@example.com，订单号 DD20260301A88，身份证 11010519491231002X。"
    "送货员李四态度很差，张先生我要求退款。"
)


@pytest.fixture
def closed(cast, body, capture, org):  # type: ignore[no-untyped-def]
    return closed_case(
        cast, body, capture, org_unit=org.store_sz.pk, description=SECRET_TEXT, order_no="DD20260301A88",
        staff_involved="李四",
        complainant_address="广东省深圳市南山区科技园路1号",
    )  # fmt: skip


def _add(user, closed, **extra):  # type: ignore[no-untyped-def]
    """The confirming step of the two-step form (preview, then confirm with the box ticked)."""
    return logged_in(user).post(
        "/staff/improvement/library/add/",
        {
            "tracking_no": closed.tracking_no,
            "lessons": "先安抚再核实，张三很快接受了方案。",
            "tags": "漏电,退款",
            "confirm": "1",
            "checked_no_personal": "1",
            **extra,
        },
    )


def test_a_supervisor_adds_a_closed_case_as_an_anonymised_copy(cast, closed):
    before = Complaint.objects.filter(pk=closed.pk).values().get()
    response = _add(cast.supervisor, closed)
    assert response.status_code == 302
    entry = LibraryEntry.objects.get()
    everything = " ".join([entry.title, entry.summary, entry.handling, entry.lessons])
    for secret in (
        "张三",
        "13800138000",
        "zs@example.com",
        "DD20260301A88",
        "11010519491231002X",
        "李四",
        "张先生",
        "400-800-1234",
    ):
        assert secret not in everything, secret
    assert "投诉人" in entry.summary and "退款" in entry.summary
    assert entry.tags == ["漏电", "退款"] and entry.category.code == "product_quality"
    assert Complaint.objects.filter(pk=closed.pk).values().get() == before  # the case is not touched


def test_only_closed_cases_once_and_only_by_curators(cast, body, closed):
    open_case = new_case(body)
    refused = logged_in(cast.supervisor).post(
        "/staff/improvement/library/add/", {"tracking_no": open_case.tracking_no, "lessons": "x"}
    )
    assert refused.status_code == 400 and "只有已结案" in refused.content.decode()
    assert _add(cast.agent, closed).status_code == 403
    assert _add(cast.analyst, closed).status_code == 403
    assert _add(cast.supervisor, closed).status_code == 302
    again = _add(cast.manager, closed)
    assert again.status_code == 400 and "已在案例库中" in again.content.decode()
    no_lessons = logged_in(cast.manager).post("/staff/improvement/library/add/", {"tracking_no": closed.tracking_no})
    assert no_lessons.status_code == 400 and "lessons" in no_lessons.content.decode()


def test_a_curator_cannot_add_a_case_outside_their_scope(cast, closed):
    response = _add(cast.quality_supervisor, closed)  # the case is in 客服中心, not 质量部
    assert response.status_code == 400 and "无权查看" in response.content.decode()


def test_every_case_role_reads_the_library_and_anonymous_is_sent_to_login(cast, closed, client):
    _add(cast.supervisor, closed)
    entry = LibraryEntry.objects.get()
    for user in (cast.agent, cast.handler, cast.analyst, cast.auditor, cast.outsider):
        assert logged_in(user).get(f"/staff/improvement/library/{entry.pk}/").status_code == 200
    assert logged_in(cast.admin).get("/staff/improvement/library/").status_code == 403
    assert client.get("/staff/improvement/library/").status_code == 302


def test_search_by_two_chinese_characters_and_by_category(cast, closed, api_as):
    _add(cast.supervisor, closed)
    page = logged_in(cast.agent)
    assert "library-entries" in page.get("/staff/improvement/library/", {"q": "漏电"}).content.decode()
    assert api_as(cast.agent).get("/improvement/library", q="漏电").json()[0]["tags"] == ["漏电", "退款"]
    assert api_as(cast.agent).get("/improvement/library", q="物流").json() == []
    assert len(api_as(cast.agent).get("/improvement/library", category="product_quality").json()) == 1
    assert api_as(cast.agent).get("/improvement/library", category="service").json() == []
    bad = api_as(cast.agent).get("/improvement/library", category="nope")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "category"
    assert page.get("/staff/improvement/library/", {"category": "nope"}).status_code == 400


def test_a_curator_removes_an_entry_and_others_cannot(cast, closed):
    _add(cast.supervisor, closed)
    entry = LibraryEntry.objects.get()
    assert logged_in(cast.agent).post(f"/staff/improvement/library/{entry.pk}/remove/").status_code == 403
    assert logged_in(cast.manager).post(f"/staff/improvement/library/{entry.pk}/remove/").status_code == 302
    assert not LibraryEntry.objects.exists() and Complaint.objects.filter(pk=closed.pk).exists()


def _panel(user, complaint) -> str:  # type: ignore[no-untyped-def]
    request = RequestFactory().get("/")
    request.user = user
    return Template("{% load improvement_library %}{% improvement_library_panel complaint %}").render(
        Context({"request": request, "complaint": complaint})
    )


def test_the_case_page_panel_lists_entries_of_the_same_category_for_open_cases(cast, body, closed):
    _add(cast.supervisor, closed)
    open_case = new_case(body)
    html = _panel(cast.agent, open_case)
    assert "library-panel" in html and LibraryEntry.objects.get().title in html and "同类别" in html
    other = new_case(body, category="delivery")
    assert "暂无同类别或相似的案例" in _panel(cast.agent, other)
    assert _panel(cast.agent, closed).strip() == ""  # a closed case needs no precedent
    assert _panel(cast.admin, open_case).strip() == ""  # no case role, no panel


def test_the_panel_links_entries_of_similar_cases_from_the_similarity_index(cast, body, capture, settings):
    from intelligence import similar

    texts = ["快递三天还没送到，物流信息一直不更新", "衣服洗一次就掉色，质量太差", "结账时多收了费用，价格和标价不一致"]
    cases = [new_case(body, description=texts[i % 3] + f"（第{i}次）", category="other") for i in range(30)]
    source = closed_case(cast, body, capture, description="快递五天还没送到，物流信息一直不更新", category="delivery")
    _add(cast.supervisor, source)
    similar.build()
    assert cases  # the index needs a collection to project onto
    query = new_case(body, description="快递一周还没送到，物流信息不更新", category="other")
    html = _panel(cast.agent, query)
    assert LibraryEntry.objects.get().title in html and "相似案件" in html


def test_anonymise_masks_identifiers_written_against_chinese_text_and_the_given_name(cast, body, org):
    from improvement.anonymise import anonymise

    case = new_case(body, complainant_name="欧阳娜娜", order_no="A1B2C3D4")
    text = "娜娜说身份证11010519491231002X丢了，订单A1B2C3D4未到，欧阳女士很着急，ouyang@qq.com。"
    masked = anonymise(text, case)
    for secret in ("娜娜", "11010519491231002X", "A1B2C3D4", "欧阳女士", "ouyang@qq.com"):
        assert secret not in masked, secret
    assert masked == "投诉人说身份证***丢了，订单[订单号]未到，投诉人很着急，***。"


def test_the_plan_list_page_runs_a_fixed_number_of_queries(cast, body, org, django_assert_max_num_queries):
    from improvement.tests.conftest import plan_body

    case = new_case(body, org_unit=org.store_sz.pk)
    client = logged_in(cast.supervisor)
    from conftest import Api

    api = Api(cast.supervisor)
    for i in range(6):
        api.post("/improvement/plans", plan_body(tracking_numbers=[case.tracking_no], title=f"计划{i}"))
    with django_assert_max_num_queries(12):
        page = client.get("/staff/improvement/plans/")
    import re

    assert len(re.findall(r'id="plan-\d+"', page.content.decode())) == 6


def test_the_add_form_shows_the_anonymised_preview_and_saves_only_after_the_curator_confirms(cast, closed):
    client = logged_in(cast.supervisor)
    form = {"tracking_no": closed.tracking_no, "lessons": "张三很快接受了方案。", "tags": "漏电,张三"}
    preview = client.post("/staff/improvement/library/add/", form)
    html = preview.content.decode()
    assert preview.status_code == 200 and "library-preview" in html and "已核对无个人信息" in html
    assert "投诉人" in html and "13800138000" not in html and not LibraryEntry.objects.exists()
    unticked = client.post("/staff/improvement/library/add/", {**form, "confirm": "1"})
    assert unticked.status_code == 400 and "checked_no_personal" in unticked.content.decode()
    assert not LibraryEntry.objects.exists()
    confirmed = client.post("/staff/improvement/library/add/", {**form, "confirm": "1", "checked_no_personal": "1"})
    assert confirmed.status_code == 302
    assert LibraryEntry.objects.get().tags == ["漏电", "投诉人"]  # tags are anonymised too


def test_two_curators_adding_the_same_case_at_once_get_a_message_not_a_500(cast, closed):
    from core.errors import ValidationError
    from improvement import actions

    raw = {"tracking_no": closed.tracking_no, "lessons": "经验"}
    first = actions.check_library_entry(raw, actor=cast.supervisor)
    second = actions.check_library_entry(raw, actor=cast.manager)  # both checks pass before either saves
    actions.add_to_library(first, actor=cast.supervisor)
    with pytest.raises(ValidationError) as raised:
        actions.add_to_library(second, actor=cast.manager)
    assert "已在案例库中" in str(raised.value.errors) and LibraryEntry.objects.count() == 1


def test_removing_an_entry_records_who_when_and_why(cast, closed):
    from improvement.models import LibraryEvent

    _add(cast.supervisor, closed)
    entry = LibraryEntry.objects.get()
    response = logged_in(cast.manager).post(f"/staff/improvement/library/{entry.pk}/remove/", {"reason": "案情不典型"})
    assert response.status_code == 302 and not LibraryEntry.objects.exists()
    removed = LibraryEvent.objects.get(action="removed")
    assert (removed.entry_id, removed.actor, removed.reason, removed.title) == (
        entry.pk, cast.manager, "案情不典型", entry.title,
    )  # fmt: skip
    assert removed.at is not None


def test_erasure_exports_and_deletes_the_entries_copied_from_the_persons_cases(cast, body, capture, closed):
    from django.apps import apps

    from improvement.models import LibraryEvent
    from privacy import registry

    _add(cast.supervisor, closed)
    other = closed_case(cast, body, capture, complainant_name="李梅", complainant_phone="13700137000",
                        complainant_email="lm@example.com")  # fmt: skip
    _add(cast.supervisor, other)
    assert closed.customer_id and other.customer_id != closed.customer_id
    config = apps.get_app_config("improvement")
    exported = config.personal_data(closed.customer)
    entry = LibraryEntry.objects.get(source_complaint=closed)
    assert exported == {
        "library_entries": [
            {"id": entry.pk, "tracking_no": closed.tracking_no, "title": entry.title,
             "added_at": entry.added_at.isoformat()}
        ]
    }  # fmt: skip
    assert "improvement" in registry.erase_personal(closed.customer)
    assert list(LibraryEntry.objects.values_list("source_complaint", flat=True)) == [other.pk]
    assert LibraryEvent.objects.filter(action="erased", entry_id=entry.pk, actor=None).exists()
