"""The narrow rollups in use: the default dashboard reads only them, reports read analytics, the
complaint rate and the cost ratio where sales are imported, and the drill-downs of the histograms and
the timeliness bars open exactly the cases they count."""

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics import dashboard, rollups, selectors
from analytics.filters import Filters
from analytics.models import CaseFact, SalesVolume
from complaints.models import Complaint

from .conftest import DAYS, START, direct_cases, logged_in

FIRST = START.date()
LAST = FIRST + timedelta(days=DAYS - 1)
PERIOD = {"from": FIRST.isoformat(), "to": LAST.isoformat()}


@pytest.fixture
def small(mix):  # type: ignore[no-untyped-def]
    mix.intake(14)
    for _ in range(4):
        mix.advance()
    rollups.catch_up()
    return mix


def _whole() -> Filters:
    return Filters(date_from=FIRST, date_to=LAST)


def _charts(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in data["charts"]}


def test_the_default_dashboard_reads_only_the_narrow_rollups(small, cast, monkeypatch):  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as queries:
        data = dashboard.build(_whole().scoped(cast.analyst), cast.analyst)
    assert data["kpis"]["received"] == len(direct_cases(FIRST, LAST))
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in sql if "analytics_dailyrollup" in s]
    on_facts = [s for s in sql if "analytics_casefact" in s]
    # The p90 only: one percentile aggregate (PostgreSQL), or a count and an ordered offset per field.
    assert len(on_facts) <= 4 and not [s for s in on_facts if "GROUP BY" in s]
    assert all("percentile" in s or "LIMIT" in s or "COUNT(*)" in s for s in on_facts)
    assert any("analytics_dailyslice" in s for s in sql) and any("analytics_handlingrollup" in s for s in sql)
    # Past EXACT_PERCENTILE_MAX resolved cases the p90 reads one bucket of facts per field, not all of them.
    monkeypatch.setattr(selectors, "EXACT_PERCENTILE_MAX", 0)
    with CaptureQueriesContext(connection) as queries:
        again = dashboard.build(_whole().scoped(cast.analyst), cast.analyst)
    on_facts = [q["sql"] for q in queries.captured_queries if "analytics_casefact" in q["sql"]]
    assert len(on_facts) == 2 and all("bucket" in s for s in on_facts)
    assert again["kpis"] == data["kpis"]
    # A supervisor's and a manager's scope are slices too.
    assert selectors._plan(_whole().scoped(cast.supervisor))[0] == ("department",)
    assert selectors._plan(_whole().scoped(cast.manager), "category")[0] == ("category", "org_unit")


def test_complaint_rate_and_cost_ratio_where_sales_are_imported(small, cast, api_as):  # type: ignore[no-untyped-def]
    whole = _whole().scoped(cast.analyst)
    figures = selectors.kpis(whole)
    assert (figures["complaint_rate"], figures["cost_ratio"], figures["orders"]) == (None, None, None)
    page = logged_in(cast.analyst).get("/staff/analytics/", PERIOD).content.decode()
    assert 'id="hint-complaint_rate"' in page and 'id="hint-cost_ratio"' in page
    SalesVolume.objects.create(date=FIRST, orders=4000, revenue=Decimal("250000.00"))
    SalesVolume.objects.create(date=FIRST + timedelta(days=3), orders=1000, revenue=Decimal("50000.00"))
    figures = selectors.kpis(_whole().scoped(cast.analyst))
    assert figures["orders"] == 5000 and figures["revenue"] == Decimal("300000.00")
    assert figures["complaint_rate"] == round(figures["received"] * 10_000 / 5000, 2) > 0
    assert figures["cost_ratio"] == round(float(figures["compensation_paid"] / Decimal("300000")), 4)
    answer = api_as(cast.analyst).get("/analytics/kpis", **PERIOD).json()["kpis"]
    assert answer["complaint_rate"] == figures["complaint_rate"] and answer["orders"] == 5000
    page = logged_in(cast.analyst).get("/staff/analytics/", PERIOD).content.decode()
    assert 'id="hint-complaint_rate"' not in page
    tile = re.search(r'id="kpi-complaint_rate">([^<]*)<', page)
    assert tile is not None and str(figures["complaint_rate"]) in tile.group(1) and "5000" in tile.group(1)
    # Revenue unknown for (part of) the period: no cost ratio, the rate stands.
    SalesVolume.objects.filter(date=FIRST).update(revenue=None)
    figures = selectors.kpis(_whole())
    assert figures["cost_ratio"] is None and figures["complaint_rate"] is not None


def _rows(client: Any, url: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200
    return set(re.findall(r"/staff/cases/(TS[0-9-]+)", response.content.decode()))


def test_histogram_and_timeliness_bars_open_exactly_the_cases_they_count(small, cast):  # type: ignore[no-untyped-def]
    late = Complaint.objects.filter(acknowledged_at__isnull=False).exclude(status="merged").order_by("pk").first()
    Complaint.objects.filter(pk=late.pk).update(acknowledged_at=late.ack_due_at + timedelta(hours=3))
    rollups.rebuild_days(rollups.refresh_cases({late.pk: 10**6}))
    charts = _charts(dashboard.build(_whole().scoped(cast.analyst), cast.analyst))
    client = logged_in(cast.analyst)
    for chart_id in ("chart-handling_working_seconds", "chart-handling_calendar_seconds"):
        chart = charts[chart_id]
        assert sum(chart["values"]) == CaseFact.objects.filter(resolved=True, merged=False).count() > 0
        for count, url in zip(chart["values"], chart["urls"], strict=True):
            assert "handling=" in url
            assert len(_rows(client, url)) == count, url
    cases = direct_cases(FIRST, LAST)
    rates = charts["chart-rates"]
    late_acks = {
        c.tracking_no for c in cases if c.acknowledged_at and c.ack_due_at and c.acknowledged_at > c.ack_due_at
    }
    assert late.tracking_no in late_acks
    assert "ack=late" in rates["urls"][0] and _rows(client, rates["urls"][0]) == late_acks
    late_resolutions = {
        c.tracking_no for c in cases if c.resolved_at and c.resolution_due_at and c.resolved_at > c.resolution_due_at
    }
    assert "resolution=late" in rates["urls"][1] and _rows(client, rates["urls"][1]) == late_resolutions
    on_time = client.get("/staff/", {"scope": "all", "state": "all", "ack": "in_time", **PERIOD}).content.decode()
    acknowledged = {c.tracking_no for c in cases if c.acknowledged_at}
    assert set(re.findall(r"/staff/cases/(TS[0-9-]+)", on_time)) == acknowledged - late_acks


@pytest.mark.parametrize(("name", "value"), [("ack", "soon"), ("handling", "hours:1-2"), ("handling", "working:x")])
def test_a_malformed_drill_filter_is_named_and_not_applied(small, cast, name, value):  # type: ignore[no-untyped-def]
    html = logged_in(cast.analyst).get("/staff/", {"scope": "all", "state": "all", name: value}).content.decode()
    assert f"“{name}”" in html
    assert len(set(re.findall(r"/staff/cases/(TS[0-9-]+)", html))) == min(Complaint.objects.count(), 50)


def test_reports_read_analytics_and_agree_with_the_dashboard(small, cast):  # type: ignore[no-untyped-def]
    from reports.figures import Scope, report_figures
    from reports.inputs import parse_period

    with CaptureQueriesContext(connection) as queries:
        figures = report_figures(Scope(user=cast.analyst), parse_period("monthly", "2026-03"))
    assert not [q for q in queries.captured_queries if "complaints_complaint" in q["sql"]]
    month = Filters(date_from=date(2026, 3, 1), date_to=date(2026, 3, 31)).scoped(cast.analyst)
    k = selectors.kpis(month)
    report = figures["kpis"]
    assert report["received"] == k["received"] == len(direct_cases(date(2026, 3, 1), date(2026, 3, 31)))
    for ours, theirs in (
        ("resolution_rate", "resolution_rate"),
        ("reopen_rate", "reopen_rate"),
        ("ack_timeliness", "ack_timeliness"),
        ("resolution_timeliness", "resolution_timeliness"),
        ("escalated", "escalations"),
    ):
        assert report[ours] == k[theirs], ours
    assert sum(n for _day, n in figures["by_day"]) == k["received"] and len(figures["by_day"]) == 31
    assert sum(r["n"] for r in figures["by_category"]) == sum(figures["by_category_and_unit"].values()) == k["received"]
    # The manager's report counts the manager's org units only, as the dashboard does.
    managed = report_figures(Scope(user=cast.manager), parse_period("monthly", "2026-03"))["kpis"]["received"]
    assert managed == selectors.kpis(month.scoped(cast.manager))["received"] < k["received"]
