"""Reply templates (话术): placeholders checked by name, rendered for a case, best match first, and the
HTMX fragment that fills the reply or contact textarea."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError as DjangoValidationError
from django.test import RequestFactory

from casework.models import ReplyTemplate
from casework.placeholders import check_body, render, values_for
from casework.selectors import render_template, templates_for
from complaints.ledgering import Actor
from complaints.models import Category, Complaint
from core.errors import ValidationError
from resolutions import actions as remedies

from .conftest import logged_in

CST = ZoneInfo("Asia/Shanghai")


def test_unknown_placeholders_are_refused_by_name():
    with pytest.raises(ValidationError) as refused:
        check_body("{name}您好，您的订单 {order_no} 与 {amount} 已处理。")
    message = refused.value.errors["body"]
    assert "{order_no}" in message and "{amount}" in message and "{name}、" not in message
    with pytest.raises(ValidationError) as braces:
        check_body("{name}您好 {tracking_no")
    assert "花括号" in braces.value.errors["body"]
    assert check_body("  {name}您好，编号 {tracking_no}，期限 {due_date}，措施：{remedy}。 ").startswith("{name}")


def test_the_admin_form_refuses_unknown_placeholders(cast):
    template = ReplyTemplate(name="坏模板", language="zh-hans", purpose="reply", body="您好 {customer}")
    with pytest.raises(DjangoValidationError) as refused:
        template.full_clean()
    assert "{customer}" in str(refused.value.message_dict["body"])
    admin = site._registry[ReplyTemplate]
    request = RequestFactory().get("/")
    request.user = cast.admin
    form_class = admin.get_form(request)
    form = form_class(
        data={"name": "坏模板", "language": "zh-hans", "purpose": "reply", "body": "您好 {customer}", "active": "on"}
    )
    assert not form.is_valid() and "{customer}" in str(form.errors["body"])


def test_rendering_fills_name_number_localised_due_date_and_live_remedies(cast, case):
    Complaint.objects.filter(pk=case.pk).update(resolution_due_at=datetime(2026, 5, 8, 23, 59, tzinfo=CST))
    case.refresh_from_db()
    agent = Actor.staff(cast.agent)
    remedies.add_remedy(case, actor=agent, kind="repair", description="上门更换加热底座")
    refused = remedies.add_remedy(case, actor=agent, kind="apology", description="书面致歉")
    remedies.cancel_remedy(refused, actor=agent, reason="投诉人不需要")
    zh = values_for(case, "zh-hans")
    assert zh["name"] == "张三" and zh["tracking_no"] == case.tracking_no
    assert zh["due_date"] == "2026年5月8日"
    assert "维修" in zh["remedy"] and "上门更换加热底座" in zh["remedy"] and "致歉" not in zh["remedy"]
    en = values_for(case, "en")
    assert en["due_date"] == "8 May 2026"
    assert render("Dear {name}, {tracking_no} by {due_date}: {remedy}.", en).startswith("Dear 张三, TS")


def test_an_anonymous_complainant_is_not_named_and_no_remedy_says_so(cast, case):
    Complaint.objects.filter(pk=case.pk).update(anonymous=True, complainant_name="")
    case.refresh_from_db()
    values = values_for(case, "zh-hans")
    assert values["name"] == "客户" and values["remedy"] == "（暂无）"


def test_seeded_templates_come_best_match_first(cast, case):
    case.category = Category.objects.get(code="product_quality")
    case.language = "zh-hans"
    replies = templates_for(case, "reply")
    assert replies[0].name == "产品质量答复"  # the case's category and language
    assert replies[1].name == "通用书面答复"  # then its language, any category
    assert {t.language for t in replies[2:]} == {"en"}
    assert all(t.category is None or t.category.code == "product_quality" for t in replies)
    case.language = "en"
    assert templates_for(case, "reply")[0].name == "Product quality reply"
    contact = templates_for(case, "contact")
    assert contact and all(t.purpose == "contact" for t in contact)
    assert "{" not in render_template(replies[0], case)


def test_the_htmx_endpoint_returns_the_filled_textarea(cast, case):
    template = ReplyTemplate.objects.get(name="通用书面答复")
    client = logged_in(cast.agent)
    url = f"/staff/casework/{case.tracking_no}/template/reply/?template={template.pk}"
    fragment = client.get(url, headers={"HX-Request": "true"})
    html = fragment.content.decode()
    assert fragment.status_code == 200 and html.startswith('<textarea id="reply-text" name="text"')
    assert case.tracking_no in html and "张三" in html and "{" not in html
    contact = ReplyTemplate.objects.get(name="受理告知（电话）")
    html = client.get(
        f"/staff/casework/{case.tracking_no}/template/contact/?template={contact.pk}", headers={"HX-Request": "true"}
    ).content.decode()
    assert 'id="contact-summary" name="summary"' in html and case.tracking_no in html
    assert client.get(url).status_code == 200  # without HTMX: a small page to copy from
    wrong_purpose = f"/staff/casework/{case.tracking_no}/template/contact/?template={template.pk}"
    assert client.get(wrong_purpose).status_code == 404
    assert client.get(f"/staff/casework/{case.tracking_no}/template/other/").status_code == 404
    assert logged_in(cast.outsider).get(url).status_code == 404
    assert logged_in(cast.auditor).get(url).status_code == 403


def test_the_case_page_loads_htmx_and_points_the_select_at_the_textarea(cast, case):
    html = logged_in(cast.agent).get(f"/staff/cases/{case.tracking_no}/").content.decode()
    assert "vendor/htmx" in html and 'hx-target="#reply-text"' in html and 'hx-target="#contact-summary"' in html
    assert "<script>" not in html  # the CSP forbids inline script


def test_templates_over_the_api_are_rendered_for_the_case(cast, case, api_as):
    rows = api_as(cast.agent).get(f"/complaints/{case.tracking_no}/reply-templates", purpose="reply").json()
    assert rows and all(case.tracking_no in r["text"] or "{tracking_no}" not in r["text"] for r in rows)
    assert all("{name}" not in r["text"] for r in rows)
    assert api_as(cast.outsider).get(f"/complaints/{case.tracking_no}/reply-templates").status_code == 404
    assert api_as(cast.auditor).get(f"/complaints/{case.tracking_no}/reply-templates").status_code == 403
