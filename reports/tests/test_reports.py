import io

import pytest
import time_machine
from openpyxl import load_workbook
from pypdf import PdfReader

from reports import documents
from reports.figures import Scope, report_figures
from reports.inputs import parse_period

from .conftest import at, category, filed, logged_in, set_fields


@pytest.fixture
def service_rise(cast, body, org):  # type: ignore[no-untyped-def]
    """September: 10 service complaints in the north; October: 4 there and 10 in the south (+40%)."""
    for day in range(1, 11):
        filed(body, at(2026, 9, day, 10), org_unit=org.store_bj.pk, category="service")
    for day in range(1, 5):
        filed(body, at(2026, 10, day, 10), org_unit=org.store_bj.pk, category="service")
    for day in range(5, 15):
        c = filed(body, at(2026, 10, day, 10), org_unit=org.store_sz.pk, category="service")
        # acknowledged late: the diagnosis must say so
        set_fields(c, acknowledged_at=at(2026, 10, day, 12), ack_due_at=at(2026, 10, day, 11))


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_findings_name_the_rise_and_the_unit_it_came_from(service_rise):
    f = report_figures(Scope(), parse_period("monthly", "2026-10"))
    lines = documents.findings(f)
    name = category("service").name
    # September has 30 days, October 31: per day 10/30 → 14/31 is +35 %, not the +40 % of the counts.
    assert f"{name}类投诉环比上升 35%，主要来自华南区深圳南山店。" in lines
    assert "投诉总量环比上升 35%（按日均计：10 件/30 天 → 14 件/31 天）。" in lines


def test_findings_compare_per_day_rates_of_periods_of_different_length(cast, body, org, settings):
    # One complaint a day in January (31) and February (28): the same rate, no fall to report.
    settings.COMPLAINTDESK_REPORTS_CHANGE_THRESHOLD = 0.05
    for day in range(1, 32):
        filed(body, at(2026, 1, day, 10), org_unit=org.store_bj.pk, category="service")
    for day in range(1, 29):
        filed(body, at(2026, 2, day, 10), org_unit=org.store_bj.pk, category="service")
    lines = documents.findings(report_figures(Scope(), parse_period("monthly", "2026-02")))
    assert lines[0] == "本期共收到投诉 28 件。"
    assert not any("环比" in line for line in lines), lines


def test_reopen_rate_counts_reopened_cases_that_are_open_again(cast, body, org):
    closed = filed(body, at(2026, 10, 2, 10), org_unit=org.store_sz.pk)
    reopened = filed(body, at(2026, 10, 3, 10), org_unit=org.store_sz.pk)
    set_fields(closed, status="closed", closed_at=at(2026, 10, 10, 10), outcome="executed")
    # Reopening clears closed_at: the case is open again, and was closed once.
    set_fields(reopened, status="reopened", closed_at=None, reopen_count=1, outcome="")
    k = report_figures(Scope(), parse_period("monthly", "2026-10"))["kpis"]
    assert (k["reopened"], k["ever_closed"], k["reopen_rate"]) == (1, 2, 0.5)
    assert k["closed"] == 1  # the resolution rate still counts only the cases closed now


def test_no_rise_is_stated_below_the_minimum_number_of_cases(cast, body, org, settings):
    filed(body, at(2026, 9, 3, 10), org_unit=org.store_bj.pk, category="service")
    for day in (3, 4, 5):
        filed(body, at(2026, 10, day, 10), org_unit=org.store_bj.pk, category="service")
    lines = documents.findings(report_figures(Scope(), parse_period("monthly", "2026-10")))
    assert not any("环比" in line for line in lines)


def test_late_acknowledgements_lead_to_a_diagnosis_and_a_recommendation(service_rise):
    f = report_figures(Scope(), parse_period("monthly", "2026-10"))
    diagnosis, advice = documents.diagnosis_and_recommendations(f)
    assert any(line.startswith("受理及时率") and "低于目标 95.0%" in line for line in diagnosis)
    assert any("受理" in line for line in advice)


def test_pdf_report_renders_chinese_findings_that_can_be_extracted(service_rise):
    pdf = documents.render_pdf(Scope(), parse_period("monthly", "2026-10"), "zh-hans")
    text = _text(pdf)
    assert "2026-10 月度投诉分析报告" in text
    assert "主要来自华南区深圳南山店" in text
    assert "建议" in text


def test_pdf_report_is_written_in_the_requested_language(service_rise):
    # "全部" is already in the English catalogue; the report's own msgids reach it with the next
    # catalogue build (/tmp/i18n/reports.json).
    english = _text(documents.render_pdf(Scope(), parse_period("monthly", "2026-10"), "en"))
    chinese = _text(documents.render_pdf(Scope(), parse_period("monthly", "2026-10"), "zh-hans"))
    assert "All" in english and "全部" not in english
    assert "全部" in chinese


def test_empty_period_says_no_complaints_and_has_no_tables(org):
    period = parse_period("quarterly", "2026-Q3")
    text = _text(documents.render_pdf(Scope(), period, "zh-hans"))
    assert "本期无投诉" in text and "按分类" not in text
    book = load_workbook(io.BytesIO(documents.render_xlsx(Scope(), period, "zh-hans")))
    assert "本期无投诉。" in [row[0] for row in book["摘要"].values]


def test_excel_report_has_summary_category_unit_and_trend_sheets(service_rise):
    book = load_workbook(io.BytesIO(documents.render_xlsx(Scope(), parse_period("monthly", "2026-10"), "zh-hans")))
    assert book.sheetnames == ["摘要", "按分类", "按单元区域", "按日趋势", "按周趋势"]
    assert list(book["按分类"].values)[1][2:] == (14, 10)
    days = list(book["按日趋势"].values)
    assert len(days) == 32 and sum(n for _d, n in days[1:]) == 14
    units = {(r[0], r[1]): r[2] for r in list(book["按单元区域"].values)[1:]}
    assert units == {("华南区", "深圳南山店"): 10, ("华北区", "北京朝阳店"): 4}


def test_report_counts_only_the_managers_units(cast, service_rise):
    f = report_figures(Scope(user=cast.manager), parse_period("monthly", "2026-10"))
    assert f["kpis"]["received"] == 10


@time_machine.travel("2026-11-10 10:00 +0800", tick=False)
def test_report_page_by_role(client, cast, service_rise):
    assert client.get("/staff/reports/").status_code == 302
    assert logged_in(cast.agent).get("/staff/reports/").status_code == 403
    for user in (cast.manager, cast.analyst, cast.auditor, cast.supervisor):
        assert logged_in(user).get("/staff/reports/").status_code == 200
    response = logged_in(cast.manager).get("/staff/reports/", {"kind": "monthly", "period": "2026-10", "format": "pdf"})
    assert response["Content-Type"] == "application/pdf"
    text = _text(response.content)
    assert "收到投诉" in text and "14" not in text.split("收到投诉")[1][:6]


@time_machine.travel("2026-11-10 10:00 +0800", tick=False)
def test_report_page_downloads_excel(cast, service_rise):
    response = logged_in(cast.analyst).get(
        "/staff/reports/", {"kind": "quarterly", "period": "2026-Q3", "format": "xlsx"}
    )
    assert response.status_code == 200
    assert load_workbook(io.BytesIO(response.content)).sheetnames[0] == "摘要"


@time_machine.travel("2026-11-10 10:00 +0800", tick=False)
def test_report_page_names_the_bad_field(cast, org):
    client = logged_in(cast.auditor)
    cases = [
        ({"kind": "monthly", "period": "2026-13"}, "period"),
        ({"kind": "weekly", "period": "2026-10"}, "kind"),
        ({"kind": "monthly", "period": "2027-01"}, "period"),
        ({"kind": "monthly", "period": "2026-11"}, "period"),  # not over yet
        ({"kind": "quarterly", "period": "2026-Q4"}, "period"),  # not over yet
        ({"kind": "monthly", "period": "2026-10", "format": "docx"}, "format"),
        ({"kind": "monthly", "period": "2026-10", "department": "nowhere"}, "department"),
        ({"kind": "monthly", "period": "2026-10", "org_unit": "999999"}, "org_unit"),
        ({"kind": "monthly", "period": "2026-10", "colour": "red"}, "colour"),
    ]
    for params, field in cases:
        response = client.get("/staff/reports/", params)
        assert response.status_code == 400, params
        assert f"{field}：" in response.content.decode(), params
    response = client.get("/staff/reports/", {"kind": "monthly", "period": "2026-11"})
    assert "报告期尚未结束，2026-12-01 起可生成该期报告。" in response.content.decode()
    assert client.get("/staff/reports/", {"kind": "monthly", "period": "2026-10"}).status_code == 200
