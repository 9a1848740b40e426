"""The dashboard page and the analytics API: access by role and scope, the stated definitions, the
drill-down links, and bad query strings refused naming the field."""

from datetime import timedelta

import pytest
import time_machine

from analytics import rollups

from .conftest import DAYS, START, logged_in

FIRST = START.date()
LAST = FIRST + timedelta(days=DAYS - 1)
PERIOD = {"from": FIRST.isoformat(), "to": LAST.isoformat()}


@pytest.fixture
def figures(mix, org):  # type: ignore[no-untyped-def]
    """A mix in the service department (the default), half in the south and half in the north."""
    mix.intake(16)
    for _ in range(4):
        mix.advance()
    rollups.catch_up()
    return mix


def test_anonymous_is_sent_to_login_and_the_api_says_401(figures, api_as):  # type: ignore[no-untyped-def]
    from django.test import Client

    response = Client().get("/staff/analytics/", PERIOD)
    assert response.status_code == 302 and "/login" in response["Location"]
    assert api_as().get("/analytics/kpis", **PERIOD).status_code == 401


def test_an_agent_may_not_read_the_analytics(figures, cast, api_as):  # type: ignore[no-untyped-def]
    assert logged_in(cast.agent).get("/staff/analytics/", PERIOD).status_code == 403
    assert api_as(cast.agent).get("/analytics/kpis", **PERIOD).status_code == 403
    assert api_as(cast.agent).get("/analytics/breakdown", dimension="channel", **PERIOD).status_code == 403


@pytest.mark.parametrize("role", ["analyst", "auditor", "supervisor"])
def test_readers_see_the_kpis_of_every_case_in_their_scope(figures, cast, api_as, role):  # type: ignore[no-untyped-def]
    response = api_as(getattr(cast, role)).get("/analytics/kpis", **PERIOD)
    assert response.status_code == 200, response.content
    from .conftest import direct_cases

    # All the mix is in the service department (the default), which the supervisor supervises.

    assert response.json()["kpis"]["received"] == len(direct_cases(FIRST, LAST))


def test_a_supervisor_of_another_department_sees_no_complaints(figures, cast, api_as):  # type: ignore[no-untyped-def]
    response = api_as(cast.quality_supervisor).get("/analytics/kpis", **PERIOD)
    assert response.status_code == 200
    answer = response.json()
    assert answer["empty"] is True and answer["message"] == "该期间没有投诉。"
    assert answer["kpis"]["received"] == 0 and answer["kpis"]["resolution_rate"] is None


def test_a_manager_sees_only_the_cases_of_their_org_units(figures, cast, org, api_as):  # type: ignore[no-untyped-def]
    from .conftest import direct_cases

    response = api_as(cast.manager).get("/analytics/kpis", **PERIOD)  # the manager holds the south
    assert response.status_code == 200
    south = direct_cases(FIRST, LAST, org_unit__path__startswith=org.south.path)
    assert response.json()["kpis"]["received"] == len(south) < len(direct_cases(FIRST, LAST))


def test_the_breakdown_gives_one_row_per_value_with_its_rates(figures, cast, api_as):  # type: ignore[no-untyped-def]
    from .conftest import direct_cases

    response = api_as(cast.analyst).get("/analytics/breakdown", dimension="channel", **PERIOD)
    assert response.status_code == 200
    rows = response.json()["rows"]
    cases = direct_cases(FIRST, LAST)
    assert {r["key"]: r["received"] for r in rows} == {
        ch: len([c for c in cases if c.channel == ch]) for ch in {c.channel for c in cases}
    }
    assert {"resolution_rate", "ack_timeliness", "satisfaction_rate", "reopen_rate", "label"} <= set(rows[0])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-03-10", "to": "2026-03-01"}, "to"),
        ({"from": "2026-03-01"}, "to"),
        ({"to": "2026-03-01"}, "from"),
        ({"from": "2020-01-01", "to": "2026-03-01"}, "to"),
        ({"from": "2026-13-01", "to": "2026-03-01"}, "from"),
        ({**PERIOD, "channel": "pigeon"}, "channel"),
        ({**PERIOD, "category": "nope"}, "category"),
        ({**PERIOD, "org_unit": "99999"}, "org_unit"),
        ({**PERIOD, "priority": "P9"}, "priority"),
        ({**PERIOD, "department": "nope"}, "department"),
        ({**PERIOD, "product": "x" * 201}, "product"),
        ({**PERIOD, "colour": "red"}, "colour"),
    ],
)
def test_a_bad_query_string_is_refused_naming_the_field(figures, cast, api_as, params, field):  # type: ignore[no-untyped-def]
    response = api_as(cast.analyst).get("/analytics/kpis", **params)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"dimension": "colour"}, "dimension"),
        ({"dimension": "channel", "limit": "0"}, "limit"),
        ({"dimension": "channel", "limit": "1000"}, "limit"),
    ],
)
def test_a_bad_breakdown_is_refused_naming_the_field(figures, cast, api_as, params, field):  # type: ignore[no-untyped-def]
    response = api_as(cast.analyst).get("/analytics/breakdown", **PERIOD, **params)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


def test_the_page_states_the_definitions_and_draws_every_chart_with_drill_down_links(figures, cast):  # type: ignore[no-untyped-def]
    import json

    from django.urls import reverse

    response = logged_in(cast.analyst).get("/staff/analytics/", PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="definitions"' in html and "解决率 = " in html and "满意率 = " in html
    assert "vendor/echarts.min.js" in html and "analytics/dashboard.js" in html
    assert "<script>" not in html.replace('<script id="analytics-charts" type="application/json">', "")
    start = html.index('id="analytics-charts" type="application/json">') + len(
        'id="analytics-charts" type="application/json">'
    )
    charts = json.loads(html[start : html.index("</script>", start)])
    ids = {c["id"] for c in charts}
    assert {
        "chart-trend",
        "chart-category-received",
        "chart-subcategory-received",
        "chart-region-received",
        "chart-channel-received",
        "chart-product-received",
        "chart-org_unit-received",
        "chart-rates",
        "chart-handling_working_seconds",
        "chart-handling_calendar_seconds",
        "chart-escalations-remedies",
    } <= ids
    queue = reverse("complaints:queue")
    for chart in charts:
        assert chart["urls"], chart["id"]
        # None: the "(未填写)" bar, which the queue cannot select (no link rather than a wrong one).
        assert all(u is None or u.startswith(queue + "?scope=all") for u in chart["urls"]), chart["id"]
    channel = next(c for c in charts if c["id"] == "chart-channel-received")
    assert all("channel=" in u for u in channel["urls"])


def test_the_page_says_no_complaints_in_an_empty_period_instead_of_empty_charts(figures, cast):  # type: ignore[no-untyped-def]
    response = logged_in(cast.analyst).get("/staff/analytics/", {"from": "2020-01-01", "to": "2020-01-31"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="no-complaints"' in html and "analytics-charts" not in html


def test_the_page_refuses_a_reversed_range_naming_the_field(figures, cast):  # type: ignore[no-untyped-def]
    response = logged_in(cast.analyst).get("/staff/analytics/", {"from": "2026-03-10", "to": "2026-03-01"})
    assert response.status_code == 400
    assert 'id="error-to"' in response.content.decode()


def test_without_dates_the_page_shows_the_last_thirty_days(figures, cast):  # type: ignore[no-untyped-def]
    with time_machine.travel(START + timedelta(days=DAYS + 2), tick=False):
        response = logged_in(cast.auditor).get("/staff/analytics/")
    assert response.status_code == 200
    assert 'id="kpi-received"' in response.content.decode()


def test_the_nav_link_shows_for_readers_only(figures, cast):  # type: ignore[no-untyped-def]
    assert 'id="nav-analytics"' in logged_in(cast.supervisor).get("/staff/analytics/", PERIOD).content.decode()
    assert 'id="nav-analytics"' not in logged_in(cast.agent).get("/staff/").content.decode()


def test_the_busy_page_runs_a_fixed_number_of_queries(figures, cast, django_assert_max_num_queries):  # type: ignore[no-untyped-def]
    client = logged_in(cast.analyst)
    client.get("/staff/analytics/", PERIOD)
    with django_assert_max_num_queries(60):
        assert client.get("/staff/analytics/", PERIOD).status_code == 200
