"""The sales-volume import (command and page) and the totals the complaint rate reads (analytics.sales)."""

import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from analytics import sales_import
from analytics.filters import Filters
from analytics.models import SalesVolume
from analytics.sales import totals

from .conftest import logged_in

TODAY = date(2026, 4, 15)


@pytest.fixture(autouse=True)
def _today():  # type: ignore[no-untyped-def]
    with time_machine.travel("2026-04-15 10:00 +08:00", tick=False):
        yield


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def run(data: bytes, fmt: str = "csv", **options: Any) -> sales_import.Result:
    return sales_import.import_file(io.BytesIO(data), fmt=fmt, source="test." + fmt, **options)


def held() -> dict[tuple[date, int | None, str], tuple[int, Decimal | None]]:
    return {(r.date, r.org_unit_id, r.product): (r.orders, r.revenue) for r in SalesVolume.objects.all()}


def xlsx(header: list[Any], rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_a_gb18030_csv_with_chinese_headers_is_imported(org):  # type: ignore[no-untyped-def]
    text = (
        "日期,组织单元,产品,订单数,销售额\n"
        f'2026-03-01,{org.store_sz.name},电热水壶,120,"¥12,000.50"\n'
        "2026-03-02,,,900,\n"
    )
    result = run(csv_bytes(text, "gb18030"))
    assert result.encoding == "gb18030"
    assert (result.created, result.updated, result.refused) == (2, 0, 0)
    assert held() == {
        (date(2026, 3, 1), org.store_sz.pk, "电热水壶"): (120, Decimal("12000.50")),
        (date(2026, 3, 2), None, ""): (900, None),
    }


def test_a_utf8_file_with_a_byte_order_mark_reads_the_org_unit_by_id(org):  # type: ignore[no-untyped-def]
    text = f"date,org_unit,orders,revenue\n2026-03-01,{org.store_bj.pk},5,10\n"
    result = run("\ufeff".encode() + csv_bytes(text))
    assert result.encoding == "utf-8-sig" and result.created == 1
    assert held() == {(date(2026, 3, 1), org.store_bj.pk, ""): (5, Decimal("10.00"))}


def test_a_bad_row_among_good_ones_is_reported_with_its_row_field_and_reason(org):  # type: ignore[no-untyped-def]
    text = (
        "date,org_unit,product,orders,revenue\n"
        "2026-03-01,,,100,1000\n"
        "2026-03-02,,,-3,\n"  # row 2: negative orders
        "2026-02-30,,,7,\n"  # row 3: no such day
        "2026-03-04,火星店,,7,\n"  # row 4: unknown org unit
        "2026-03-05,,,8,abc\n"  # row 5: revenue not a number
        "2026-03-06,,,9\n"  # row 6: ragged
        "2026-05-01,,,9,\n"  # row 7: in the future
        "2026-03-07,,,12.5,\n"  # row 8: not an integer
        "2026-03-08,,,1,100.005\n"  # row 9: three decimals
        "2026-03-09,,,,\n"  # row 10: orders missing
        "2026-03-10,,,200,2000\n"
    )
    result = run(csv_bytes(text))
    assert result.created == 2 and result.rows == 11
    by_row = {e[0]: (e[1], e[2]) for e in result.errors}
    assert by_row == {
        2: (3, "orders"),
        3: (4, "date"),
        4: (5, "org_unit"),
        5: (6, "revenue"),
        6: (7, ""),
        7: (8, "date"),
        8: (9, "orders"),
        9: (10, "revenue"),
        10: (11, "orders"),
    }
    reasons = {e[0]: e[3] for e in result.errors}
    assert "组织单元不存在" in reasons[4] and "列数不符" in reasons[6] and "不能晚于今天" in reasons[7]
    assert set(held()) == {(date(2026, 3, 1), None, ""), (date(2026, 3, 10), None, "")}


def test_importing_the_same_file_again_replaces_the_figures_and_creates_nothing(org):  # type: ignore[no-untyped-def]
    text = "date,product,orders,revenue\n2026-03-01,KT-1001,10,100\n2026-03-01,KT-2002,20,200\n"
    assert run(csv_bytes(text)).created == 2
    again = run(csv_bytes(text))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    changed = run(csv_bytes("date,product,orders,revenue\n2026-03-01,KT-1001,11,\n"))
    assert (changed.created, changed.updated) == (0, 1)
    assert held() == {
        (date(2026, 3, 1), None, "KT-1001"): (11, None),
        (date(2026, 3, 1), None, "KT-2002"): (20, Decimal("200.00")),
    }


def test_a_month_row_is_stored_on_the_first_day_of_the_month(org):  # type: ignore[no-untyped-def]
    result = run(csv_bytes("月份,订单数\n2026-02,3000\n2026-3,4000\n"))
    assert result.created == 2
    assert held() == {(date(2026, 2, 1), None, ""): (3000, None), (date(2026, 3, 1), None, ""): (4000, None)}


def test_an_xlsx_sheet_with_date_cells_and_numbers_is_read(org):  # type: ignore[no-untyped-def]
    data = xlsx(
        ["日期", "组织单元", "订单数", "销售额"],
        [[date(2026, 3, 3), org.store_sz.name, 42, 99.5], ["2026-03", "", 7, None]],
    )
    result = run(data, fmt="xlsx")
    assert (result.created, result.refused) == (2, 0)
    assert held() == {
        (date(2026, 3, 3), org.store_sz.pk, ""): (42, Decimal("99.50")),
        (date(2026, 3, 1), None, ""): (7, None),
    }


def test_an_org_unit_name_that_two_units_share_must_be_given_by_id(org):  # type: ignore[no-untyped-def]
    from accounts.choices import OrgUnitKind
    from accounts.models import OrgUnit

    OrgUnit.objects.create(name=org.store_sz.name, kind=OrgUnitKind.STORE, parent=org.north)
    result = run(csv_bytes(f"date,org_unit,orders\n2026-03-01,{org.store_sz.name},1\n2026-03-01,{org.store_sz.pk},2\n"))
    assert result.created == 1
    assert result.errors[0][:3] == [1, 2, "org_unit"] and "编号" in result.errors[0][3]


def test_a_dry_run_checks_and_counts_but_saves_nothing(org):  # type: ignore[no-untyped-def]
    result = run(csv_bytes("date,orders\n2026-03-01,1\n2026-03-02,x\n"), dry_run=True)
    assert (result.created, result.refused, result.dry_run) == (1, 1, True)
    assert not SalesVolume.objects.exists()


def test_the_same_key_in_two_batches_is_updated_not_duplicated(org, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sales_import, "BATCH", 2)
    text = "date,orders\n2026-03-01,1\n2026-03-02,2\n2026-03-03,3\n2026-03-01,10\n2026-03-03,30\n"
    result = run(csv_bytes(text))
    assert (result.created, result.updated) == (3, 2)
    assert {k[0].day: v[0] for k, v in held().items()} == {1: 10, 2: 2, 3: 30}


@pytest.mark.parametrize(
    ("header", "missing"),
    [("date,revenue", "orders"), ("orders,product", "date")],
)
def test_a_file_without_a_required_column_is_refused_naming_it(org, header, missing):  # type: ignore[no-untyped-def]
    with pytest.raises(sales_import.ImportRefused) as refused:
        run(csv_bytes(header + "\n1,2\n"))
    assert missing in str(refused.value)


def test_only_csv_or_xlsx_files_are_accepted_and_the_content_must_match_the_name():  # type: ignore[no-untyped-def]
    assert sales_import.detect_format("a.CSV", b"date") == "csv"
    assert sales_import.detect_format("a.xlsx", b"PK\x03\x04") == "xlsx"
    for name, head in (("a.txt", b"date"), ("a.xlsx", b"date"), ("a.csv", b"PK\x03\x04"), ("noext", b"")):
        with pytest.raises(sales_import.ImportRefused):
            sales_import.detect_format(name, head)


def test_the_command_prints_a_summary_and_every_row_error(org, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "sales.csv"
    path.write_bytes(csv_bytes("日期,订单数\n2026-03-01,5\n2026-03-02,五\n", "gb18030"))
    out = io.StringIO()
    call_command("import_sales", str(path), stdout=out)
    text = out.getvalue()
    assert "created 1, updated 0, unchanged 0, errors 1" in text
    assert "row 2 (line 3) orders:" in text and '"五"' in text
    out = io.StringIO()
    call_command("import_sales", str(path), "--dry-run", stdout=out)
    assert "created 0, updated 0, unchanged 1, errors 1 (dry run: nothing saved)" in out.getvalue()


def test_the_command_exits_2_when_the_file_cannot_be_read(org, tmp_path, capsys):  # type: ignore[no-untyped-def]
    path = tmp_path / "sales.csv"
    path.write_bytes(b"date,revenue\n2026-03-01,5\n")
    with pytest.raises(SystemExit) as exited:
        call_command("import_sales", str(path))
    assert exited.value.code == 2
    assert not SalesVolume.objects.exists()


# --- the page ------------------------------------------------------------------------------------------


def upload(client: Client, name: str, content: bytes, **extra: str) -> Any:
    return client.post("/staff/analytics/sales/", {"file": SimpleUploadedFile(name, content), **extra})


def test_anonymous_users_are_sent_to_login():  # type: ignore[no-untyped-def]
    response = Client().get("/staff/analytics/sales/")
    assert response.status_code == 302 and "/login" in response["Location"]


@pytest.mark.parametrize("role", ["supervisor", "manager", "agent", "auditor"])
def test_roles_other_than_admin_and_analyst_may_not_use_the_page(cast, role):  # type: ignore[no-untyped-def]
    client = logged_in(getattr(cast, role))
    assert client.get("/staff/analytics/sales/").status_code == 403
    assert upload(client, "s.csv", b"date,orders\n2026-03-01,1\n").status_code == 403
    assert not SalesVolume.objects.exists()


@pytest.mark.parametrize("role", ["admin", "analyst"])
def test_admins_and_analysts_upload_and_see_the_report_and_the_months_held(cast, org, role):  # type: ignore[no-untyped-def]
    client = logged_in(getattr(cast, role))
    text = f"日期,组织单元,订单数,销售额\n2026-03,,1000,50000\n2026-03,{org.store_sz.pk},40,\n2026-03-03,,abc,\n"
    response = upload(client, "sales.csv", csv_bytes(text, "gb18030"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="result-created">2<' in page and 'id="result-refused">1<' in page
    assert "<td>3</td><td>4</td><td>orders</td>" in page
    # The month's organisation-wide figure, not added to the store's part of it.
    assert '<tr id="month-2026-03"><td>2026-03</td><td class="orders">1000</td>' in page
    assert 'id="nav-sales"' in page


def test_the_page_refuses_a_file_that_is_not_csv_or_xlsx_too_large_or_missing(cast, settings):  # type: ignore[no-untyped-def]
    client = logged_in(cast.admin)
    response = upload(client, "sales.txt", b"date,orders\n2026-03-01,1\n")
    assert response.status_code == 400 and "只接受 CSV" in response.content.decode()
    response = upload(client, "sales.xlsx", b"date,orders\n2026-03-01,1\n")
    assert response.status_code == 400 and "不是 XLSX" in response.content.decode()
    settings.COMPLAINTDESK_SALES_IMPORT_MAX_BYTES = 10
    response = upload(client, "sales.csv", b"date,orders\n2026-03-01,1\n")
    assert response.status_code == 400 and "文件过大" in response.content.decode()
    response = client.post("/staff/analytics/sales/", {})
    assert response.status_code == 400 and 'id="sales-error-file"' in response.content.decode()
    assert not SalesVolume.objects.exists()


def test_an_xlsx_upload_can_be_a_dry_run_that_saves_nothing(cast):  # type: ignore[no-untyped-def]
    data = xlsx(["日期", "订单数"], [[date(2026, 3, 1), 1], [date(2026, 3, 2), "x"]])
    response = upload(logged_in(cast.analyst), "s.xlsx", data, dry_run="on")
    page = response.content.decode()
    assert response.status_code == 200 and "试运行结果" in page
    assert 'id="result-created">1<' in page and 'id="result-refused">1<' in page
    assert not SalesVolume.objects.exists()


# --- the totals the complaint rate reads ---------------------------------------------------------------


def put(day: date, orders: int, unit: Any = None, product: str = "", revenue: str | None = None) -> None:
    SalesVolume.objects.create(
        date=day, org_unit=unit, product=product, orders=orders, revenue=Decimal(revenue) if revenue else None
    )


def ask(**fields: Any) -> tuple[int | None, Decimal | None]:
    sales = totals(Filters(date_from=date(2026, 3, 1), date_to=date(2026, 3, 31), **fields))
    return sales.orders, sales.revenue


def test_a_total_is_never_added_to_its_own_parts_day_by_day(org):  # type: ignore[no-untyped-def]
    # 1 March: the whole organisation and its stores; 2 March: the stores only.
    put(date(2026, 3, 1), 1000, revenue="100")
    put(date(2026, 3, 1), 300, org.store_sz, revenue="30")
    put(date(2026, 3, 1), 200, org.store_bj)
    put(date(2026, 3, 2), 50, org.store_sz)
    put(date(2026, 3, 2), 70, org.store_bj)
    # Revenue only where every day counted has it (2 March has none): not a part passed off as the whole.
    assert ask() == (1000 + 50 + 70, None)
    assert ask(org_unit=org.store_sz.pk) == (350, None)
    assert totals(Filters(date_from=date(2026, 3, 1), date_to=date(2026, 3, 1))).revenue == Decimal("100")
    # A region's own figure covers its stores; where it has none, the stores add up.
    put(date(2026, 3, 1), 310, org.south)
    assert ask(org_unit=org.south.pk) == (310 + 50, None)
    assert ask(scope_unit_paths=(org.south.path,)) == (310 + 50, None)
    assert ask(scope_unit_paths=()) == (None, None)


def test_revenue_known_for_part_of_the_period_is_unknown_and_gives_no_cost_ratio(org):  # type: ignore[no-untyped-def]
    put(date(2026, 3, 1), 1000, revenue="50000")
    put(date(2026, 3, 2), 1000)  # orders only
    sales = totals(Filters(date_from=date(2026, 3, 1), date_to=date(2026, 3, 2)))
    assert (sales.orders, sales.revenue, sales.cost_ratio(Decimal("500"))) == (2000, None, None)
    SalesVolume.objects.filter(date=date(2026, 3, 2)).update(revenue=Decimal("50000"))  # now both days
    sales = totals(Filters(date_from=date(2026, 3, 1), date_to=date(2026, 3, 2)))
    assert (sales.revenue, sales.cost_ratio(Decimal("500"))) == (Decimal("100000"), 0.005)


def test_a_units_per_product_rows_count_where_another_unit_has_a_total(org):  # type: ignore[no-untyped-def]
    put(date(2026, 3, 1), 100, org.store_bj)  # a total for Beijing
    put(date(2026, 3, 1), 30, org.store_sz, product="KT-1001")  # Shenzhen by product only
    put(date(2026, 3, 1), 20, org.store_sz, product="KT-2002")
    assert ask(org_unit=org.store_sz.pk) == (50, None)
    assert ask() == (150, None)
    assert ask(product="KT-1001") == (30, None)
    put(date(2026, 3, 1), 60, org.store_sz)  # now a total for Shenzhen too: it covers its products
    assert ask(org_unit=org.store_sz.pk) == (60, None)
    assert ask(product="KT-2002") == (20, None)
    assert ask(product="nothing") == (None, None)
