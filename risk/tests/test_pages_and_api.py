"""The risk page and API as each reader: who sees which subjects, alerts and cases; the matrix and the
explanation of each level; acknowledging an alert; the high-risk case list without personal data."""

import json
from datetime import timedelta

import pytest

from risk.actions import assess_all
from risk.models import RiskAlert

from .conftest import DAY, at, logged_in, refresh_facts, set_fields

DAY2 = DAY + timedelta(days=1)


@pytest.fixture
def assessed(scenario):  # type: ignore[no-untyped-def]
    assess_all(day=DAY)
    return scenario


@pytest.fixture
def risen(scenario):  # type: ignore[no-untyped-def]
    """A second day on which KT-2002's cases carry legal threats: its store, region and department rise."""
    assess_all(day=DAY)
    for c in scenario.service_cases:
        set_fields(c, risk_flags=["legal"], risk_legal_media_safety=True)
    refresh_facts()
    assess_all(day=DAY2)
    return scenario


def _labels(response) -> set[str]:  # type: ignore[no-untyped-def]
    return {a["label"] for a in response.json()["assessments"]}


# --- who may read ---------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login_and_the_api_wants_credentials(client, api_as, assessed):
    response = client.get("/staff/risk/")
    assert response.status_code == 302 and response["Location"].startswith("/staff/login/")
    assert client.get("/staff/risk/thresholds/").status_code == 302
    anonymous = api_as()
    for path in ("/risk/assessments", "/risk/alerts", "/risk/cases"):
        assert anonymous.get(path).status_code == 401
    assert anonymous.post("/risk/alerts/1/acknowledge").status_code == 401


def test_an_agent_may_not_read_the_risk_assessment(cast, api_as, assessed):
    assert logged_in(cast.agent).get("/staff/risk/").status_code == 403
    api = api_as(cast.agent)
    for path in ("/risk/assessments", "/risk/alerts", "/risk/cases"):
        response = api.get(path)
        assert response.status_code == 403, path
        assert "统计分析" in response.json()["message"]
    assert api.post("/risk/alerts/1/acknowledge").status_code == 403


def test_analysts_and_auditors_see_every_subject(cast, api_as, assessed):
    for user in (cast.analyst, cast.auditor):
        response = api_as(user).get("/risk/assessments")
        assert response.status_code == 200
        products, units, departments = (
            {"KT-1001", "KT-2002", "KT-3003"},
            {"深圳南山店", "华南区"},
            {"质量部", "客服中心"},
        )
        assert _labels(response) == products | units | {"北京朝阳店", "华北区", "示例集团"} | departments


def test_a_supervisor_sees_only_their_departments_and_nothing_of_others(cast, api_as, assessed):
    assert _labels(api_as(cast.supervisor).get("/risk/assessments")) == {"客服中心"}
    assert _labels(api_as(cast.quality_supervisor).get("/risk/assessments")) == {"质量部"}
    page = logged_in(cast.supervisor).get("/staff/risk/").content.decode()
    assert "客服中心" in page
    for other in ("质量部", "KT-1001", "KT-2002", "深圳南山店", "示例集团"):
        assert other not in page, other


def test_a_manager_sees_the_units_they_manage_and_a_top_manager_everything(cast, api_as, assessed):
    assert _labels(api_as(cast.manager).get("/risk/assessments")) == {"华南区", "深圳南山店"}
    assert _labels(api_as(assessed.north_manager).get("/risk/assessments")) == {"华北区", "北京朝阳店"}
    assert len(_labels(api_as(assessed.top_manager).get("/risk/assessments"))) == 10


# --- the page -------------------------------------------------------------------------------------------


def test_the_page_shows_the_matrix_the_tables_by_level_and_why_each_level(cast, assessed):
    response = logged_in(cast.analyst).get("/staff/risk/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "2026-05-11 至 2026-06-09" in page
    # ECharts from the local vendor file, the chart's script from a file: nothing inline (the CSP).
    assert "/static/vendor/echarts.min.js" in page and "/static/risk/matrix.js" in page
    data = json.loads(page.split('id="risk-matrix-data" type="application/json">')[1].split("</script>")[0])
    assert len(data["points"]) == 9 and len(data["cells"]) == 25
    kt1 = next(p for p in data["points"] if p["label"] == "KT-1001")
    assert (kt1["probability"], kt1["impact"], kt1["level"]) == (2, 5, "medium")
    assert "product=KT-1001" in kt1["url"]
    cell = {(c["probability"], c["impact"]): c["level"] for c in data["cells"]}
    assert (cell[(1, 4)], cell[(1, 5)], cell[(3, 5)]) == ("low", "medium", "high")
    # The product table: medium before low; KT-3003 listed as not assessed.
    products = page.split('id="subjects-product"')[1].split("</section>")[0]
    assert products.index("KT-1001") < products.index("KT-2002")
    assert "1 个主体在窗口内投诉少于 5 件，未评估。" in products and "KT-3003（1）" in products
    # The explanation of KT-1001's level: the bands, the arithmetic, and what was left out.
    assert "(2×频次 1 + 1×趋势 5) ÷ 3 = 2.33" in products
    assert "2 × 5 = 10 → 中（中 ≥ 5，高 ≥ 15）" in products
    assert "窗口内没有已解决的投诉：不计入。" in products
    assert "无该主体的销量数据：频次按投诉件数计，不计算投诉率。" in products
    assert "+200%" in products and "50%" in products


def test_a_subject_drills_down_to_its_cases_in_the_queue(cast, assessed):
    client = logged_in(cast.analyst)
    page = client.get("/staff/risk/").content.decode()
    link = "/staff/?scope=all&amp;state=all&amp;from=2026-05-11&amp;to=2026-06-09&amp;product=KT-1001"
    assert link in page
    queue = client.get(link.replace("&amp;", "&")).content.decode()
    for c in assessed.quality_cases:
        assert c.tracking_no in queue
    assert assessed.service_cases[0].tracking_no not in queue


def test_before_any_assessment_the_page_says_so(cast, scenario, api_as):
    page = logged_in(cast.analyst).get("/staff/risk/").content.decode()
    assert 'id="no-run"' in page and "risk-matrix-data" not in page
    assert api_as(cast.analyst).get("/risk/assessments").json()["assessments"] == []


def test_a_past_day_can_be_shown_and_a_bad_day_is_named(cast, api_as, risen):
    client = logged_in(cast.analyst)
    assert "评估日期 2026-06-10" in client.get("/staff/risk/?day=2026-06-10").content.decode()
    bad = client.get("/staff/risk/?day=2026-13-01")
    assert bad.status_code == 400 and 'id="error-day"' in bad.content.decode()
    api = api_as(cast.analyst)
    assert api.get("/risk/assessments", day="2026-06-10").json()["day"] == "2026-06-10"
    for params in ({"day": "yesterday"}, {"day": "2026-01-01"}, {"kind": "shop"}, {"level": "severe"}, {"sort": "x"}):
        response = api.get("/risk/assessments", **params)
        assert response.status_code == 422, params
        assert [e["field"] for e in response.json()["errors"]] == list(params)


# --- alerts ---------------------------------------------------------------------------------------------


def test_open_alerts_are_listed_for_the_people_in_scope(cast, api_as, risen):
    analyst = api_as(cast.analyst).get("/risk/alerts").json()
    assert {a["label"] for a in analyst} == {"北京朝阳店", "华北区", "客服中心"}
    supervisor = api_as(cast.supervisor).get("/risk/alerts").json()
    assert [(a["label"], a["previous_level"], a["level"]) for a in supervisor] == [("客服中心", "low", "medium")]
    assert api_as(cast.quality_supervisor).get("/risk/alerts").json() == []
    assert api_as(cast.manager).get("/risk/alerts").json() == []  # 华南区: nothing rose
    page = logged_in(cast.supervisor).get("/staff/risk/").content.decode()
    assert 'id="alerts-table"' in page and "低 → " in page


def test_a_supervisor_acknowledges_their_alert_once(cast, api_as, risen):
    alert = RiskAlert.objects.get(assessment__label="客服中心")
    api = api_as(cast.supervisor)
    response = api.post(f"/risk/alerts/{alert.pk}/acknowledge", {"note": "已安排法务复核"})
    assert response.status_code == 200
    assert (response.json()["acknowledged_by"], response.json()["note"]) == ("supervisor", "已安排法务复核")
    again = api.post(f"/risk/alerts/{alert.pk}/acknowledge", {})
    assert again.status_code == 409 and "已被确认" in again.json()["message"]
    assert api.get("/risk/alerts").json() == []
    assert [a["label"] for a in api.get("/risk/alerts", state="all").json()] == ["客服中心"]
    assert api.get("/risk/alerts", state="closed").status_code == 422


def test_acknowledging_needs_an_acting_role_and_the_alert_in_scope(cast, api_as, risen):
    alert = RiskAlert.objects.get(assessment__label="客服中心")
    path = f"/risk/alerts/{alert.pk}/acknowledge"
    assert api_as(cast.auditor).post(path).status_code == 403  # reads everything, acts on nothing
    assert api_as(cast.quality_supervisor).post(path).status_code == 404  # not theirs: not even its existence
    assert api_as(cast.manager).post(path).status_code == 404
    assert api_as(cast.analyst).post(path, {"note": "x" * 501}).status_code == 422
    assert api_as(cast.analyst).post(path, {"seen": True}).status_code == 422
    assert RiskAlert.objects.get(pk=alert.pk).acknowledged_at is None
    assert 'id="alerts-table"' in logged_in(cast.auditor).get("/staff/risk/").content.decode()
    assert "/acknowledge/" not in logged_in(cast.auditor).get("/staff/risk/").content.decode()


def test_the_page_form_acknowledges_an_alert(cast, risen):
    alert = RiskAlert.objects.get(assessment__label="北京朝阳店")
    client = logged_in(risen.north_manager)
    response = client.post(f"/staff/risk/alerts/{alert.pk}/acknowledge/", {"note": "门店已整改"}, follow=True)
    assert response.status_code == 200
    assert "已确认预警：北京朝阳店。" in response.content.decode()
    alert.refresh_from_db()
    assert (alert.acknowledged_by, alert.note) == (risen.north_manager, "门店已整改")
    again = client.post(f"/staff/risk/alerts/{alert.pk}/acknowledge/", {}, follow=True)
    assert "此预警已被确认，无需再次确认。" in again.content.decode()
    from django.test import Client

    assert Client().post(f"/staff/risk/alerts/{alert.pk}/acknowledge/").status_code == 302  # to the login
    assert logged_in(cast.agent).post(f"/staff/risk/alerts/{alert.pk}/acknowledge/").status_code == 403
    assert logged_in(cast.manager).post(f"/staff/risk/alerts/{alert.pk}/acknowledge/").status_code == 404
    assert logged_in(cast.auditor).post(f"/staff/risk/alerts/{alert.pk}/acknowledge/").status_code == 403
    assert logged_in(cast.analyst).get(f"/staff/risk/alerts/{alert.pk}/acknowledge/").status_code == 405


# --- the high-risk case list ----------------------------------------------------------------------------


def test_the_high_risk_list_holds_open_flagged_escalated_and_referred_cases_without_personal_data(
    cast, api_as, assessed
):
    flagged, repeat, escalated, plain, closed, _late = assessed.quality_cases
    set_fields(closed, risk_flags=["media"], status="closed")  # closed: no longer on the list
    referred = set_fields(assessed.service_cases[1], regulator_due_at=at(2026, 6, 1, 17))
    body = api_as(cast.analyst).get("/risk/cases").json()
    numbers = [c["tracking_no"] for c in body["cases"]]
    assert body["count"] == 4
    # Most escalated first, then the nearest regulator due date, then the oldest.
    assert numbers == [escalated.tracking_no, referred.tracking_no, flagged.tracking_no, repeat.tracking_no]
    first = body["cases"][0]
    assert first["reasons"] == ["L1 主管"] and first["url"] == f"/staff/cases/{escalated.tracking_no}/"
    assert body["cases"][1]["regulator_referral"] is True and body["cases"][1]["regulator_due_date"] == "2026-06-01"
    assert body["cases"][2]["risk_flag_labels"] == ["诉讼威胁"]
    text = json.dumps(body, ensure_ascii=False).lower()
    for personal in ("张三", "138 0013 8000", "13800138000", "zhang.san", "漏电"):
        assert personal not in text
    page = logged_in(cast.analyst).get("/staff/risk/").content.decode()
    cases = page.split('id="high-risk-cases"')[1].split("</section>")[0]
    assert escalated.tracking_no in cases and plain.tracking_no not in cases and closed.tracking_no not in cases
    assert 'class="regulator-overdue"' in cases  # 2026-06-01 has passed
    for personal in ("张三", "138 0013 8000", "漏电"):
        assert personal not in cases


def test_the_high_risk_list_is_the_cases_the_user_may_see(cast, api_as, assessed):
    assert api_as(cast.supervisor).get("/risk/cases").json()["count"] == 0  # service: nothing flagged
    assert api_as(cast.quality_supervisor).get("/risk/cases").json()["count"] == 3
    assert api_as(cast.manager).get("/risk/cases").json()["count"] == 3  # 华南区's store
    escalated = set_fields(assessed.service_cases[2], escalation_level=2)
    assert [c["tracking_no"] for c in api_as(cast.supervisor).get("/risk/cases").json()["cases"]] == [
        escalated.tracking_no
    ]
    assert escalated.tracking_no not in logged_in(cast.quality_supervisor).get("/staff/risk/").content.decode()


def test_a_regulator_proceeding_puts_a_case_on_the_list(cast, api_as, assessed):
    from dossier.models import ExternalProceeding

    case = assessed.service_cases[3]
    ExternalProceeding.objects.create(complaint=case, route="regulator", body="市场监管局")
    cases = api_as(cast.supervisor).get("/risk/cases").json()["cases"]
    assert [(c["tracking_no"], c["regulator_referral"]) for c in cases] == [(case.tracking_no, True)]


def test_the_case_list_pages_and_names_bad_paging(cast, api_as, assessed):
    api = api_as(cast.analyst)
    page = api.get("/risk/cases", limit="2", offset="1").json()
    assert (page["count"], len(page["cases"])) == (3, 2)
    for params, field in (({"limit": "0"}, "limit"), ({"limit": "201"}, "limit"), ({"offset": "-1"}, "offset")):
        response = api.get("/risk/cases", **params)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field


def test_the_page_query_count_does_not_grow_with_subjects_alerts_or_cases(cast, risen):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = logged_in(cast.analyst)
    client.get("/staff/risk/")  # sessions, caches
    with CaptureQueriesContext(connection) as before:
        client.get("/staff/risk/")
    for c in risen.quality_cases[3:]:
        set_fields(c, escalation_level=2, department=risen.quality_cases[0].department)
    assess_all(day=DAY2 + timedelta(days=1))  # a third day: more rows, more flagged cases
    with CaptureQueriesContext(connection) as after:
        client.get("/staff/risk/")
    assert len(after.captured_queries) == len(before.captured_queries) <= 20, [
        q["sql"][:120] for q in after.captured_queries
    ]


def test_the_pages_case_list_has_pages_that_keep_the_day(cast, assessed):
    from .conftest import copies

    copies(assessed.quality_cases[0], *((at(2026, 5, 20, 10), {"risk_flags": ["group"]}) for _ in range(50)))
    client = logged_in(cast.analyst)
    html = client.get("/staff/risk/?day=2026-06-10").content.decode()
    assert "第 1 / 2 页，共 53 件" in html
    assert 'href="?day=2026-06-10&amp;page=2#high-risk-cases"' in html
    second = client.get("/staff/risk/?day=2026-06-10&page=2").content.decode()
    rows = second.split('id="cases-table"')[1].split("</table>")[0]
    assert rows.count("<tr>") == 1 + 3  # the header and the last three cases
