"""The public form and status page through Django's test client (the browser test drives the same)."""

import re

import time_machine
from django.test import Client
from django.utils import timezone

from complaints.models import Complaint


def form(**overrides):
    data = {
        "complainant_name": "李四",
        "complainant_phone": "13900139000",
        "complainant_email": "",
        "preferred_contact": "phone",
        "description": "在门店买的洗衣机漏水，售后一直不上门。",
        "province_code": "440000",
        "city_code": "440300",
        "district_code": "440305",
        "category": "after_sales",
        "remedies_requested": ["repair", "compensation"],
        "amount_claimed": "300",
        "consent": "on",
        "form_token": "tok-1",
    }
    data.update(overrides)
    return data


def receipt_of(response):
    html = response.content.decode()
    tracking_no = re.search(r'id="tracking-no">([^<]+)<', html).group(1)
    code = re.search(r'id="access-code">([^<]+)<', html).group(1)
    return tracking_no, code


def test_form_files_a_complaint_and_status_shows_it(cast):
    client = Client()
    assert client.get("/").status_code == 200
    response = client.post("/", form())
    assert response.status_code == 201, response.content.decode()[:500]
    tracking_no, code = receipt_of(response)
    complaint = Complaint.objects.get(tracking_no=tracking_no)
    assert complaint.remedies_requested == ["repair", "compensation"] and complaint.channel == "web"
    status = client.post("/status/", {"tracking_no": tracking_no, "access_code": code})
    assert status.status_code == 200 and "已登记" in status.content.decode()
    assert code not in status.request["PATH_INFO"]


def test_form_keeps_what_was_typed_and_marks_each_field(cast):
    response = Client().post("/", form(complainant_phone="12345", description="短", consent=""))
    html = response.content.decode()
    assert response.status_code == 422
    assert "电话号码无效" in html and "请阅读并同意" in html and 'value="12345"' in html
    assert Complaint.objects.count() == 0


def test_double_submission_creates_one_complaint(cast):
    client = Client()
    first = client.post("/", form())
    second = client.post("/", form())
    assert receipt_of(first) == receipt_of(second)
    assert Complaint.objects.count() == 1


def test_honeypot_stops_bots(cast):
    assert Client().post("/", form(website="http://spam.example")).status_code == 400
    assert Complaint.objects.count() == 0


def test_wrong_access_code_does_not_say_which_part_is_wrong(cast):
    client = Client()
    tracking_no, _code = receipt_of(client.post("/", form()))
    wrong_code = client.post("/status/", {"tracking_no": tracking_no, "access_code": "WRONG2345678"})
    wrong_number = client.post("/status/", {"tracking_no": "TS20000101-000001", "access_code": "WRONG2345678"})
    assert wrong_code.status_code == wrong_number.status_code == 404
    assert "投诉编号或查询码不正确" in wrong_code.content.decode()


def test_repeated_failures_are_throttled(cast, settings):
    settings.COMPLAINTDESK_RATELIMIT = True
    client = Client()
    # One fixed moment: the limit counts per minute, and a run across a minute boundary starts afresh.
    with time_machine.travel(timezone.now().replace(second=1), tick=False):
        codes = [
            client.post("/status/", {"tracking_no": "TS20000101-000001", "access_code": "X"}).status_code
            for _ in range(12)
        ]
    assert codes[:10] == [404] * 10 and codes[-1] == 429


def test_consumer_withdraws_from_the_status_page(cast):
    client = Client()
    tracking_no, code = receipt_of(client.post("/", form()))
    refused = client.post(
        "/status/action/", {"tracking_no": tracking_no, "access_code": code, "action": "withdraw", "text": ""}
    )
    assert refused.status_code == 422 and "必填" in refused.content.decode()
    done = client.post(
        "/status/action/",
        {"tracking_no": tracking_no, "access_code": code, "action": "withdraw", "text": "已经和门店协商解决"},
    )
    assert done.status_code == 200 and "已撤回" in done.content.decode()


def test_region_picker_lists_the_next_level(db):
    html = Client().get("/regions/", {"province_code": "440000"}).content.decode()
    assert "深圳市" in html and 'value="440300"' in html


def test_english_form(cast):
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/").content.decode()
    assert "File a complaint" in html or "complaint" in html.lower()
