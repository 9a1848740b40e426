import csv
import io

import pyarrow.parquet as pq
from openpyxl import load_workbook

from ledger.models import LedgerEvent

from .conftest import at, filed, logged_in, set_fields

RANGE = {"received_from": "2026-10-01", "received_to": "2026-10-31"}


def _csv(response, encoding="utf-8-sig"):  # type: ignore[no-untyped-def]
    content = b"".join(response.streaming_content)
    return list(csv.DictReader(io.StringIO(content.decode(encoding))))


def test_anonymous_gets_no_export_page_and_no_api(client, api_as, two_stores):
    assert client.get("/staff/reports/export/").status_code == 302
    assert api_as().post("/reports/exports", RANGE).status_code == 401


def test_admin_without_a_case_role_may_not_export(cast, api_as, two_stores):
    assert logged_in(cast.admin).get("/staff/reports/export/").status_code == 403
    assert api_as(cast.admin).post("/reports/exports", RANGE).status_code == 403


def test_manager_exports_only_the_cases_of_their_units_with_personal_data_masked(cast, api_as, two_stores):
    south, _north = two_stores
    response = api_as(cast.manager).post("/reports/exports", RANGE)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = _csv(response)
    assert [r["投诉编号"] for r in rows] == [south.tracking_no]
    assert rows[0]["投诉人姓名"] == "张*"
    assert rows[0]["电话"].endswith("****8000") and "0013" not in rows[0]["电话"]
    assert not LedgerEvent.objects.filter(action="view_personal").exists()


def test_agent_of_another_department_sees_only_their_department(cast, api_as, two_stores):
    _south, north = two_stores
    rows = _csv(api_as(cast.outsider).post("/reports/exports", RANGE))
    assert [r["投诉编号"] for r in rows] == [north.tracking_no]


def test_unmasked_export_records_one_ledger_event_per_case(cast, api_as, two_stores):
    south, _north = two_stores
    rows = _csv(api_as(cast.manager).post("/reports/exports", {**RANGE, "include_personal": True}))
    assert rows[0]["投诉人姓名"] == "张三"
    events = LedgerEvent.objects.filter(action="export_personal", complaint=south)
    assert events.count() == 1 and events.get().data == {"how": "export_file", "export": "csv"}
    assert not LedgerEvent.objects.filter(action="view_personal").exists()


def test_unmasked_free_text_alone_records_an_export_event(cast, api_as, body, org):
    # No name or contact filled in: the title and description are personal data too.
    complaint = filed(body, at(2026, 10, 3, 9), org_unit=org.store_sz.pk)
    set_fields(complaint, complainant_name="", complainant_phone="", complainant_email="", complainant_address="")
    rows = _csv(api_as(cast.manager).post("/reports/exports", {**RANGE, "include_personal": True}))
    assert rows[0]["投诉内容"] == complaint.description
    assert LedgerEvent.objects.filter(action="export_personal", complaint=complaint).count() == 1


def test_masked_export_records_no_event(cast, api_as, two_stores):
    _csv(api_as(cast.manager).post("/reports/exports", RANGE))
    assert not LedgerEvent.objects.filter(action__in=["export_personal", "view_personal"]).exists()


def test_export_columns_and_personal_columns_agree():
    from reports import exports

    assert tuple(k for k, _h in exports.columns()) == exports.CASE_KEYS
    assert set(exports.StandardRows.PERSONAL) >= {"title", "description", "complainant_name"}


def test_merged_duplicates_are_not_exported(cast, api_as, two_stores):
    south, north = two_stores
    set_fields(north, status="merged", merged_into=south)
    rows = _csv(api_as(cast.auditor).post("/reports/exports", RANGE))
    assert [r["投诉编号"] for r in rows] == [south.tracking_no]


def test_an_export_over_the_row_limit_is_refused_with_advice(cast, api_as, two_stores, settings):
    settings.COMPLAINTDESK_REPORTS_MAX_ROWS = 1
    response = api_as(cast.auditor).post("/reports/exports", RANGE)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "received_to" and "上限 1 件" in error["message"] and "缩短日期范围" in error["message"]
    page = logged_in(cast.auditor).post("/staff/reports/export/", RANGE)
    assert page.status_code == 400 and "超过单次导出上限" in page.content.decode()
    settings.COMPLAINTDESK_REPORTS_MAX_ROWS = 2
    assert api_as(cast.auditor).post("/reports/exports", RANGE).status_code == 200


def test_analyst_may_not_ask_for_personal_data(cast, api_as, two_stores):
    response = api_as(cast.analyst).post("/reports/exports", {**RANGE, "include_personal": True})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "include_personal"


def test_analyst_export_covers_every_case_masked(cast, api_as, two_stores):
    rows = _csv(api_as(cast.analyst).post("/reports/exports", RANGE))
    assert len(rows) == 2
    assert {r["投诉人姓名"] for r in rows} == {"张*", "李*"}
    assert all("@example.com" in r["电子邮箱"] and r["电子邮箱"].count("*") == 3 for r in rows)


def test_formulas_in_case_text_are_neutralised(cast, api_as, body, org):
    filed(body, at(2026, 10, 3, 9), org_unit=org.store_sz.pk, product_name='=HYPERLINK("http://x","y")')
    rows = _csv(api_as(cast.auditor).post("/reports/exports", RANGE))
    assert rows[0]["产品/服务"].startswith("'=")


def test_gb18030_csv_has_no_bom_and_decodes(cast, api_as, two_stores):
    response = api_as(cast.auditor).post("/reports/exports", {**RANGE, "encoding": "gb18030"})
    content = b"".join(response.streaming_content)
    assert not content.startswith(b"\xef\xbb\xbf")
    assert "投诉编号" in content.decode("gb18030")


def test_utf8_csv_starts_with_a_bom_for_excel(cast, api_as, two_stores):
    content = b"".join(api_as(cast.auditor).post("/reports/exports", RANGE).streaming_content)
    assert content.startswith(b"\xef\xbb\xbf")


def test_excel_export_holds_the_visible_cases(cast, api_as, two_stores):
    south, _north = two_stores
    response = api_as(cast.manager).post("/reports/exports", {**RANGE, "format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.values)
    assert values[0][0] == "投诉编号" and values[1][0] == south.tracking_no and len(values) == 2


def test_parquet_export_holds_the_visible_cases_masked(cast, api_as, two_stores):
    response = api_as(cast.analyst).post("/reports/exports", {**RANGE, "format": "parquet"})
    table = pq.read_table(io.BytesIO(b"".join(response.streaming_content)))
    assert table.num_rows == 2
    assert sorted(table.column("complainant_name").to_pylist()) == ["张*", "李*"]


def test_filters_narrow_the_export(cast, api_as, two_stores, org):
    south, north = two_stores
    rows = _csv(api_as(cast.auditor).post("/reports/exports", {**RANGE, "department": ["logistics"]}))
    assert [r["投诉编号"] for r in rows] == [north.tracking_no]
    set_fields(south, status="closed")
    rows = _csv(api_as(cast.auditor).post("/reports/exports", {**RANGE, "state": "closed"}))
    assert [r["投诉编号"] for r in rows] == [south.tracking_no]


def test_bad_filters_get_422_naming_each_field(cast, api_as, two_stores):
    cases = [
        ({"received_from": "2026-10-31", "received_to": "2026-10-01"}, "received_to"),
        ({"received_from": "2026-10-01"}, "received_to"),
        ({"received_to": "2026-10-01"}, "received_from"),
        ({"received_from": "2020-01-01", "received_to": "2026-10-01"}, "received_to"),
        ({**RANGE, "category": ["no_such_category"]}, "category"),
        ({**RANGE, "department": "nowhere"}, "department"),
        ({**RANGE, "state": ["flying"]}, "state"),
        ({**RANGE, "format": "pdf"}, "format"),
        ({**RANGE, "encoding": "latin1"}, "encoding"),
        ({**RANGE, "colour": "red"}, "colour"),
        ({"received_from": "2026-10-01xyz", "received_to": "2026-10-31"}, "received_from"),
        ({"received_from": "2026-10-01", "received_to": "2026-10-31T23:59"}, "received_to"),
        ({"received_from": "20261001", "received_to": "2026-10-31"}, "received_from"),
    ]
    api = api_as(cast.auditor)
    for body, field in cases:
        response = api.post("/reports/exports", body)
        assert response.status_code == 422, body
        assert field in [e["field"] for e in response.json()["errors"]], body


def test_export_page_downloads_and_shows_field_errors(cast, two_stores):
    client = logged_in(cast.supervisor)
    assert client.get("/staff/reports/export/").status_code == 200
    response = client.post("/staff/reports/export/", {**RANGE, "format": "csv"})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    bad = client.post("/staff/reports/export/", {"received_from": "2026-10-31", "received_to": "2026-10-01"})
    assert bad.status_code == 400
    assert "结束日期不能早于开始日期" in bad.content.decode()
