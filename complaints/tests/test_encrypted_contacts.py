"""The complainant's contact details encrypted at rest (core.fieldcrypt): the case search finds a case
by a whole phone number or e-mail address through the keyed hashes; duplicates are still found; the
database holds no plain text after intake or an import."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from complaints.models import Complaint
from imports.service import run_import

pytestmark = pytest.mark.django_db

PLAIN = ("+8613800138000", "zhang.san@example.com", "13800138000")


def stored_contacts() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT complainant_phone, complainant_email, complainant_address FROM complaints_complaint")
        rows = cursor.fetchall()
        cursor.execute("SELECT phone, email, address FROM customers_customer")
        rows += cursor.fetchall()
    return "\n".join(str(v) for row in rows for v in row)


def test_the_case_search_finds_the_case_by_phone_or_e_mail_in_any_writing(cast, api_as, body):
    created = api_as().post("/complaints", body(complainant_address="深圳市南山区科技园一路 1 号"))
    assert created.status_code == 201, created.content
    tracking_no = created.json()["tracking_no"]
    api_as().post("/complaints", body(complainant_phone="13700137000", complainant_email="other@example.com"))
    for q in ("13800138000", "+86 138 0013 8000", "Zhang.San@Example.com"):
        found = api_as(cast.supervisor).get("/complaints", q=q, scope="all")
        assert found.status_code == 200, found.content
        assert [c["tracking_no"] for c in found.json()["items"]] == [tracking_no], q
    text = stored_contacts()
    for value in (*PLAIN, "深圳市南山区科技园"):
        assert value not in text


def test_an_import_writes_ciphertext_and_hashes(org, tmp_path):
    rows = (
        "工单号,投诉内容,电话,邮箱,地址\n"
        "CRM-1,电热水壶漏电，要求退款。,138 0013 8000,Zhang.San@Example.com,北京市朝阳区\n"
    )
    path = tmp_path / "crm.csv"
    path.write_text(rows, "utf-8")
    mapping = {
        "source": "crm",
        "id": "工单号",
        "fields": {
            "description": "投诉内容",
            "complainant_phone": "电话",
            "complainant_email": "邮箱",
            "complainant_address": "地址",
        },
    }
    with path.open("rb") as raw:
        summary = run_import(raw, fmt="csv", mapping=mapping)
    assert summary.created == 1
    text = stored_contacts()
    for value in (*PLAIN, "北京市朝阳区"):
        assert value not in text
    case = Complaint.objects.get(external_id="CRM-1")
    assert case.complainant_phone == "+8613800138000" and case.complainant_address == "北京市朝阳区"
    assert case.customer.email == "zhang.san@example.com"
    from core.fieldcrypt import lookup_hash

    assert Complaint.objects.filter(complainant_phone_hash=lookup_hash("phone", "138 0013 8000")).get() == case
    out = io.StringIO()
    call_command("verify_ledger", stdout=out)
    assert "Ledger intact" in out.getvalue()
