"""Orders and service records from CSV (UTF-8, UTF-8 with BOM, GB18030) and XLSX: bad rows refused by
number, field and reason while the good ones land; a second import creates nothing."""

import csv
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client

from customers import importer
from customers.actions import match_or_create_customer
from customers.models import Customer, CustomerDataImport, Order, ServiceRecord

from .conftest import logged_in

pytestmark = pytest.mark.django_db

ORDERS_HEADER = [
    "客户编号",
    "手机",
    "邮箱",
    "姓名",
    "订单号",
    "下单时间",
    "商品名称",
    "sku",
    "数量",
    "金额",
    "币种",
    "门店",
]
ORDERS = [
    [
        "M1001",
        "138 1234 5678",
        "",
        "王小明",
        "SO-1",
        "2026-03-01 10:00",
        "电热水壶",
        "KT-1001",
        "1",
        "199.00",
        "CNY",
        "深圳南山店",
    ],
    ["", "+86 139 0000 1111", "", "李娜", "SO-2", "2026/03/02", "空气净化器", "AP-300", "2", "4798", "", "天猫"],
    ["", "12345", "", "坏电话", "SO-3", "2026-03-03", "冰箱", "", "1", "6799", "", ""],  # row 3: phone
    ["", "", "zhao@example.com", "赵六", "SO-4", "明天", "冰箱", "", "1", "6799", "", ""],  # row 4: date
    ["", "", "zhao@example.com", "赵六", "SO-5", "2026-03-05", "冰箱", "", "1", '=HYPERLINK("x")', "", ""],  # row 5
    ["", "", "", "无名", "SO-6", "2026-03-06", "冰箱", "", "1", "10", "", ""],  # row 6: no key
    ["M1001", "", "", "", "", "2026-03-07", "冰箱", "", "1", "10", "", ""],  # row 7: order_no
    ["M1001", "", "", "", "SO-8", "2026-03-08", "冰箱", "", "0", "10", "", ""],  # row 8: quantity
    ["", "", "Zhao@Example.com", "赵六", "SO-9", "2026年3月9日", "净水器", "", "1", "1,299.50", "cny", ""],
]


def csv_bytes(header, rows, encoding="utf-8"):  # type: ignore[no-untyped-def]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(header, rows):  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def run(data: bytes, kind: str = "orders", fmt: str = "csv", **kw):  # type: ignore[no-untyped-def]
    return importer.import_file(io.BytesIO(data), kind=kind, fmt=fmt, source="test.csv", **kw)


def refused(result):  # type: ignore[no-untyped-def]
    return {(e[0], e[2]) for e in result.errors}


EXPECTED_REFUSED = {
    (3, "phone"),
    (4, "ordered_at"),
    (5, "amount"),
    (6, "customer_no"),
    (7, "order_no"),
    (8, "quantity"),
}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_orders_csv_in_each_encoding_lands_the_good_rows_and_names_the_bad_ones(encoding):
    result = run(csv_bytes(ORDERS_HEADER, ORDERS, encoding))
    assert result.encoding == encoding
    assert result.rows == 9
    assert result.created == 3
    assert refused(result) == EXPECTED_REFUSED
    assert set(Order.objects.values_list("order_no", flat=True)) == {"SO-1", "SO-2", "SO-9"}
    wang = Customer.objects.get(customer_no="M1001")
    assert wang.name == "王小明" and wang.phone == "+8613812345678"
    zhao = Order.objects.get(order_no="SO-9")
    assert zhao.customer.email == "zhao@example.com"
    assert zhao.amount == Decimal("1299.50") and zhao.currency == "CNY"
    assert Order.objects.get(order_no="SO-2").quantity == 2


def test_a_row_matches_an_existing_customer_by_phone_written_differently():
    known = match_or_create_customer(name="李娜", phone="+8613900001111", email="")
    run(csv_bytes(ORDERS_HEADER, ORDERS))
    assert Order.objects.get(order_no="SO-2").customer_id == known.pk


def test_importing_the_same_file_again_creates_nothing():
    data = csv_bytes(ORDERS_HEADER, ORDERS)
    run(data)
    counts = (Order.objects.count(), Customer.objects.count())
    again = run(data)
    assert again.created == 0 and again.unchanged == 3
    assert (Order.objects.count(), Customer.objects.count()) == counts


def test_xlsx_orders_land_with_dates_and_numbers_typed_as_such():
    from datetime import datetime

    rows = [
        ["M1001", "13812345678", "", "王小明", "SO-1", datetime(2026, 3, 1, 10), "电热水壶", "KT", 1, 199.0, "CNY", ""],
        ["", 12345, "", "坏电话", "SO-3", datetime(2026, 3, 3), "冰箱", "", 1, 6799, "", ""],
        ["", "", "a@b.cn", "", "SO-4", "not a date", "冰箱", "", 1, 1, "", ""],
    ]
    result = run(xlsx_bytes(ORDERS_HEADER, rows), fmt="xlsx")
    assert result.created == 1
    assert refused(result) == {(2, "phone"), (3, "ordered_at")}
    assert Order.objects.get(order_no="SO-1").amount == Decimal("199.00")


def test_service_records_are_imported_with_kinds_in_chinese_or_code_and_idempotent_by_reference():
    header = ["phone", "reference", "kind", "occurred_at", "product", "description"]
    rows = [
        ["13812345678", "SR-1", "维修", "2026-02-01", "电热水壶", "更换温控器"],
        ["13812345678", "SR-2", "installation", "2026-02-02", "洗衣机", ""],
        ["13812345678", "SR-3", "抱怨", "2026-02-03", "", ""],  # row 3: kind
        ["13812345678", "", "repair", "2026-02-04", "", ""],  # row 4: reference
    ]
    data = csv_bytes(header, rows, "gb18030")
    result = run(data, kind="service")
    assert result.created == 2
    assert refused(result) == {(3, "kind"), (4, "reference")}
    assert ServiceRecord.objects.get(reference="SR-1").kind == "repair"
    assert run(data, kind="service").created == 0
    assert ServiceRecord.objects.count() == 2


def test_a_dry_run_counts_but_stores_nothing():
    result = run(csv_bytes(ORDERS_HEADER, ORDERS), dry_run=True)
    assert result.created == 3 and result.customers_created >= 2
    assert Order.objects.count() == 0 and Customer.objects.count() == 0


def test_a_file_without_the_required_columns_is_refused_whole():
    with pytest.raises(importer.ImportRefused, match="order_no"):
        run(csv_bytes(["phone", "金额"], [["13812345678", "1"]]))
    with pytest.raises(importer.ImportRefused):
        run(b"\xff\xfe\x00a\x00b")  # UTF-16
    assert Order.objects.count() == 0


def test_the_error_report_neutralises_formulas_and_keeps_row_numbers():
    rows_ = [*ORDERS, ["", "", '=HYPERLINK("x")', "", "SO-10", "2026-03-10", "冰箱", "", "1", "10", "", ""]]
    result = run(csv_bytes(ORDERS_HEADER, rows_))
    report = importer.error_report(result.errors)
    assert report.startswith("\ufeffrow,line,field,reason,value")
    rows = list(csv.reader(io.StringIO(report.lstrip("\ufeff"))))
    by_row = {r[0]: r for r in rows[1:]}
    assert by_row["5"][2] == "amount" and by_row["5"][4] == "***"  # the value is kept masked only
    assert by_row["10"][2] == "email" and by_row["10"][4] == "'=***@"  # what is left of it cannot run
    assert by_row["3"][1] == "4"  # the header is line 1


def test_refused_values_are_kept_masked_never_in_clear(cast):
    header = ["手机", "邮箱", "姓名", "订单号", "下单时间", "金额"]
    rows = [
        ["138 1234 567", "", "王小明", "SO-1", "2026-03-01", "1"],  # row 1: phone (one digit short)
        ["", "wang.xiaoming@", "王小明", "SO-2", "2026-03-01", "1"],  # row 2: e-mail
        ["13812345678", "", "王" * 101, "SO-3", "2026-03-01", "1"],  # row 3: name too long
        ["13812345678", "", "王小明", "SO-4", "13900001111", "1"],  # row 4: a phone where the date goes
    ]
    client = logged_in(cast.admin)
    response = upload(client, csv_bytes(header, rows))
    assert response.status_code == 302
    run_ = CustomerDataImport.objects.get()
    assert [(e[0], e[2]) for e in run_.errors] == [(1, "phone"), (2, "email"), (3, "name"), (4, "ordered_at")]
    stored = json.dumps(run_.errors, ensure_ascii=False)
    for clear in ("138 1234 567", "wang.xiaoming", "王" * 101, "13900001111"):
        assert clear not in stored
    assert [e[4] for e in run_.errors] == ["138 **** 567", "w***@", "王" + "*" * 100, "***"]
    assert "“***”" in run_.errors[3][3]  # the date parser's message quoted the value: masked too
    page = client.get(response["Location"]).content.decode()
    report = client.get(f"/staff/customers/import/{run_.pk}/errors.csv").content.decode()
    for clear in ("138 1234 567", "wang.xiaoming", "13900001111"):
        assert clear not in page and clear not in report


def test_the_command_prints_a_summary_and_writes_the_error_report(tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_bytes(csv_bytes(ORDERS_HEADER, ORDERS, "utf-8-sig"))
    report = tmp_path / "errors.csv"
    call_command("import_customer_data", str(path), "--kind", "orders", "--format", "csv", "--errors", str(report))
    summary = json.loads(capsys.readouterr().out)
    assert summary["created"] == 3 and summary["refused"] == 6
    assert {(e["row"], e["field"]) for e in summary["errors"]} == EXPECTED_REFUSED
    assert "HYPERLINK" not in report.read_text("utf-8") and "12345" not in report.read_text("utf-8")
    assert CustomerDataImport.objects.get().created == 3


def test_the_command_with_dry_run_stores_no_orders(tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_bytes(csv_bytes(ORDERS_HEADER, ORDERS))
    call_command("import_customer_data", str(path), "--kind", "orders", "--format", "csv", "--dry-run")
    assert json.loads(capsys.readouterr().out)["dry_run"] is True
    assert Order.objects.count() == 0


def test_the_command_exits_2_for_an_unreadable_file(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(b"")
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_customer_data", str(path), "--kind", "orders", "--format", "csv")
    assert exit_info.value.code == 2


# --- the upload page --------------------------------------------------------------------------------


def upload(client: Client, data: bytes, **fields):  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    payload = {"kind": "orders", "format": "csv", "file": SimpleUploadedFile("orders.csv", data), **fields}
    return client.post("/staff/customers/import/", payload)


def test_the_upload_page_sends_anonymous_users_to_log_in():
    response = Client().get("/staff/customers/import/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_an_agent_may_not_upload_customer_data(cast):
    assert logged_in(cast.agent).get("/staff/customers/import/").status_code == 403
    assert upload(logged_in(cast.agent), csv_bytes(ORDERS_HEADER, ORDERS)).status_code == 403
    assert Order.objects.count() == 0


def test_an_admin_uploads_orders_and_reads_the_refused_rows_and_the_report(cast):
    client = logged_in(cast.admin)
    assert client.get("/staff/customers/import/").status_code == 200
    response = upload(client, csv_bytes(ORDERS_HEADER, ORDERS, "gb18030"))
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert 'id="import-created">3<' in page and 'id="import-refused">6<' in page
    run_ = CustomerDataImport.objects.get()
    report = client.get(f"/staff/customers/import/{run_.pk}/errors.csv")
    assert report.status_code == 200 and "row,line,field,reason,value" in report.content.decode()
    assert "HYPERLINK" not in report.content.decode()  # values are kept masked
    assert logged_in(cast.agent).get(f"/staff/customers/import/{run_.pk}/errors.csv").status_code == 403


def test_a_supervisor_may_upload_too(cast):
    assert upload(logged_in(cast.supervisor), csv_bytes(ORDERS_HEADER, ORDERS)).status_code == 302
    assert Order.objects.count() == 3


def test_bad_upload_fields_are_named(cast):
    response = upload(logged_in(cast.admin), b"", kind="invoices", format="pdf")
    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="import-error-kind"' in page and 'id="import-error-format"' in page
    response = upload(logged_in(cast.admin), csv_bytes(["phone"], [["1"]]))
    assert response.status_code == 400 and 'id="import-error-file"' in response.content.decode()
