"""Staff and department scorecards and the period ranking: the figures (the dashboard's arithmetic over
the cases a person owns now), the comparison with the previous period, the ranking rules, and who may
see what, on the pages and the API."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.choices import Role
from analytics import rollups
from analytics.models import CaseFact
from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from conftest import complaint_body, make_user

from .conftest import DAYS, START, direct_cases, direct_kpis, logged_in

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
FEBRUARY_DAY = date(2026, 2, 10)  # inside the previous period of equal length (29 Jan – 28 Feb)
MARCH_DAY = date(2026, 3, 10)
COMPARED = (
    "received",
    "resolution_timeliness",
    "resolution_rate",
    "satisfaction_rate",
    "reopen_rate",
    "handling_hours_working_mean",
)


def _complaint() -> Any:
    """A complaint for a fact row to hang on: one real intake, then copies of it (the fact rows are
    what scorecards read; the copies only give them distinct keys)."""
    from complaints.models import Complaint

    template = Complaint.objects.order_by("pk").first()
    if template is None:
        template, _code = actions.submit(
            check_intake(IntakeData(**complaint_body()), staff=False), actor=Actor.consumer()
        )
        return template
    template.pk = None
    template.tracking_no = f"TS20260301-{Complaint.objects.count() + 1:06d}"
    Complaint.objects.bulk_create([template])
    return Complaint.objects.get(tracking_no=template.tracking_no)


def fact(
    owner: Any,
    department: Any,
    day: date = MARCH_DAY,
    *,
    resolved: bool = False,
    in_sla: bool = False,
    closed: bool = False,
    solved: bool = False,
    reopened: bool = False,
    score: int | None = None,
    hours: float | None = None,
) -> CaseFact:
    """One case's analysis row, written directly (the rollups that compute it have their own tests)."""
    complaint = _complaint()
    return CaseFact.objects.create(
        complaint=complaint,
        tracking_no=complaint.tracking_no,
        received_date=day,
        channel="web",
        priority="P3",
        department=department,
        owner=owner,
        status="closed" if closed else "resolved" if resolved else "in_progress",
        resolved=resolved,
        resolved_in_sla=resolved and in_sla,
        closed=closed,
        ever_closed=closed or reopened,
        closed_resolved=closed and solved,
        reopen_count=1 if reopened else 0,
        handling_working_seconds=hours * 3600 if hours is not None else None,
        handling_calendar_seconds=hours * 3600 if hours is not None else None,
        survey_score=score,
        refreshed_at=timezone.now(),
    )


@dataclass
class Staff:
    agent3: Any
    agent4: Any
    agent5: Any
    agent6: Any
    store_agent: Any  # an agent placed in the Shenzhen store (south)
    north_agent: Any  # placed in the Beijing store (north)
    north_manager: Any
    ceo: Any  # manager of the company, the root unit
    nobody: Any  # signed in, no role


@pytest.fixture
def staff(cast, org) -> Staff:  # type: ignore[no-untyped-def]
    return Staff(
        agent3=make_user("agent3", (Role.AGENT, org.service)),
        agent4=make_user("agent4", (Role.AGENT, org.service)),
        agent5=make_user("agent5", (Role.AGENT, org.service)),
        agent6=make_user("agent6", (Role.AGENT, org.service)),
        store_agent=make_user("store_agent", (Role.AGENT, org.store_sz)),
        north_agent=make_user("north_agent", (Role.AGENT, org.store_bj)),
        north_manager=make_user("north_manager", (Role.MANAGER, org.north)),
        ceo=make_user("ceo", (Role.MANAGER, org.company)),
        nobody=make_user("nobody"),
    )


@pytest.fixture
def board(cast, org, staff, settings):  # type: ignore[no-untyped-def]
    """March in the service department: resolution timeliness agent2 3/3, agent 3/4, agent4 3/4,
    agent3 2/3; agent5 1/1 with one case only; agent6 three cases, none resolved."""
    settings.COMPLAINTDESK_SCORECARD_MIN_CASES = 3
    service = org.service
    for owner, in_sla, late in (
        (cast.agent2, 3, 0),
        (cast.agent, 3, 1),
        (staff.agent4, 3, 1),
        (staff.agent3, 2, 1),
        (staff.agent5, 1, 0),
    ):
        for i in range(in_sla + late):
            fact(owner, service, resolved=True, in_sla=i < in_sla, closed=True, solved=True, hours=4.0 + i)
    for _ in range(3):
        fact(staff.agent6, service)
    fact(cast.agent, service, FEBRUARY_DAY, resolved=True, in_sla=False, hours=30.0)
    fact(cast.quality_agent, org.quality, resolved=True, in_sla=True)
    fact(staff.store_agent, service, resolved=True, in_sla=True)


# --- figures ---------------------------------------------------------------------------------------


def test_a_persons_scorecard_is_the_dashboard_arithmetic_over_the_cases_they_own_now(mix, cast, org, api_as):  # type: ignore[no-untyped-def]
    mix.intake(7)
    for _ in range(4):
        mix.advance()
    rollups.catch_up()
    first, last = START.date(), START.date() + timedelta(days=DAYS - 1)
    period = {"from": first.isoformat(), "to": last.isoformat()}
    mine = api_as(cast.agent).get("/analytics/scorecards/me", **period).json()
    expected = direct_kpis(direct_cases(first, last, owner=cast.agent))
    assert expected["received"] > 0 and expected["resolved"] > 0
    assert {line["kpi"]: line["value"] for line in mine["lines"]} == {key: expected[key] for key in COMPARED}
    assert mine["counted_by"] == "current_owner" and mine["kpis"]["closed"] == expected["closed"]
    department = api_as(cast.analyst).get("/analytics/scorecards/departments/service", **period).json()
    expected = direct_kpis(direct_cases(first, last, department=org.service))
    assert {line["kpi"]: line["value"] for line in department["lines"]} == {key: expected[key] for key in COMPARED}


def test_the_scorecard_compares_each_kpi_with_the_previous_period_of_equal_length(cast, org, api_as):  # type: ignore[no-untyped-def]
    for i in range(4):  # March: 3 of 4 on time, one reopened, 10 working hours on average
        fact(cast.agent, org.service, resolved=True, in_sla=i < 3, closed=True, reopened=i == 0, hours=10.0)
    fact(cast.agent, org.service, score=5)
    for i in range(2):  # February: 2 of 2 on time, one of two reopened, 20 hours
        fact(
            cast.agent, org.service, FEBRUARY_DAY, resolved=True, in_sla=True, closed=True, reopened=i == 0, hours=20.0
        )
    card = api_as(cast.agent).get("/analytics/scorecards/me", **MARCH).json()
    assert card["period"] == MARCH and card["previous_period"] == {"from": "2026-01-29", "to": "2026-02-28"}
    lines = {line["kpi"]: line for line in card["lines"]}
    timeliness = lines["resolution_timeliness"]
    assert (timeliness["value"], timeliness["previous"], timeliness["part"], timeliness["whole"]) == (0.75, 1.0, 3, 4)
    assert (timeliness["change"], timeliness["direction"], timeliness["better"]) == (-0.25, "down", False)
    # Lower is better for the reopen rate and the handling time.
    assert (lines["reopen_rate"]["value"], lines["reopen_rate"]["previous"]) == (0.25, 0.5)
    assert (lines["reopen_rate"]["direction"], lines["reopen_rate"]["better"]) == ("down", True)
    hours = lines["handling_hours_working_mean"]
    assert (hours["value"], hours["previous"], hours["direction"], hours["better"]) == (10.0, 20.0, "down", True)
    assert (lines["received"]["value"], lines["received"]["change"], lines["received"]["better"]) == (5, 3, True)
    # Satisfaction: nothing to compare with (no answer in February).
    assert (lines["satisfaction_rate"]["value"], lines["satisfaction_rate"]["direction"]) == (1.0, "")
    page = logged_in(cast.agent).get("/staff/analytics/scorecards/me/", MARCH).content.decode()
    assert "2026-01-29 至 2026-02-28" in page
    assert "↓</span> -25.0 个百分点（变差）" in page and "↓</span> -10.0 小时（变好）" in page
    assert "投诉的当前承办人" in page and 'id="chart-scorecard-rates"' in page


def test_a_period_without_cases_says_so_instead_of_showing_zeros(cast):  # type: ignore[no-untyped-def]
    response = logged_in(cast.agent).get("/staff/analytics/scorecards/me/", MARCH)
    assert response.status_code == 200 and 'id="no-complaints"' in response.content.decode()


# --- access ----------------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_login_and_the_api_says_401(org, api_as):  # type: ignore[no-untyped-def]
    for path in ("", "me/", "people/1/", "departments/service/"):
        response = Client().get(f"/staff/analytics/scorecards/{path}")
        assert response.status_code == 302 and "/login" in response["Location"]
    for path in ("me", "people/1", "departments/service", "ranking"):
        assert api_as().get(f"/analytics/scorecards/{path}").status_code == 401


def test_every_staff_user_sees_their_own_scorecard(cast, api_as):  # type: ignore[no-untyped-def]
    for role in ("agent", "handler", "legal", "analyst", "auditor", "supervisor", "admin"):
        user = getattr(cast, role)
        assert logged_in(user).get("/staff/analytics/scorecards/me/").status_code == 200, role
        assert logged_in(user).get(f"/staff/analytics/scorecards/people/{user.pk}/").status_code == 200, role
        assert api_as(user).get("/analytics/scorecards/me").json()["key"] == user.pk, role


def test_a_user_without_a_role_has_no_scorecard(staff, api_as):  # type: ignore[no-untyped-def]
    assert logged_in(staff.nobody).get("/staff/analytics/scorecards/me/").status_code == 403
    assert api_as(staff.nobody).get("/analytics/scorecards/me").status_code == 403


def test_a_supervisor_sees_the_scorecards_of_their_departments_staff_only(board, cast, staff, api_as):  # type: ignore[no-untyped-def]
    client, api = logged_in(cast.supervisor), api_as(cast.supervisor)
    for person in (cast.agent, staff.agent5):
        assert client.get(f"/staff/analytics/scorecards/people/{person.pk}/").status_code == 200
        assert api.get(f"/analytics/scorecards/people/{person.pk}", **MARCH).status_code == 200
    card = api.get(f"/analytics/scorecards/people/{cast.agent.pk}", **MARCH).json()
    assert card["name"] == "agent" and card["kpis"]["received"] == 4
    for person in (cast.quality_agent, cast.outsider, staff.store_agent):  # other departments, a store
        assert client.get(f"/staff/analytics/scorecards/people/{person.pk}/").status_code == 403
        assert api.get(f"/analytics/scorecards/people/{person.pk}").status_code == 403


def test_colleagues_analysts_and_auditors_may_not_see_a_persons_scorecard(board, cast, api_as):  # type: ignore[no-untyped-def]
    for role in ("agent", "analyst", "auditor", "handler"):
        reader = getattr(cast, role)
        assert logged_in(reader).get(f"/staff/analytics/scorecards/people/{cast.agent2.pk}/").status_code == 403, role
        assert api_as(reader).get(f"/analytics/scorecards/people/{cast.agent2.pk}").status_code == 403, role


def test_a_manager_sees_the_staff_of_their_org_units_and_a_root_manager_everyone(board, cast, staff, api_as):  # type: ignore[no-untyped-def]
    south = api_as(cast.manager)
    assert south.get(f"/analytics/scorecards/people/{staff.store_agent.pk}").status_code == 200
    for person in (staff.north_agent, staff.north_manager, cast.agent):  # the north; no org unit
        assert south.get(f"/analytics/scorecards/people/{person.pk}").status_code == 403
    north = api_as(staff.north_manager)
    assert north.get(f"/analytics/scorecards/people/{staff.north_agent.pk}").status_code == 200
    assert north.get(f"/analytics/scorecards/people/{staff.store_agent.pk}").status_code == 403
    ceo = api_as(staff.ceo)
    for person in (staff.store_agent, staff.north_manager, cast.agent, cast.quality_agent):
        assert ceo.get(f"/analytics/scorecards/people/{person.pk}").status_code == 200


def test_a_root_manager_may_not_see_a_scorecard_of_someone_who_is_not_staff(board, staff, api_as):  # type: ignore[no-untyped-def]
    ceo = api_as(staff.ceo)
    assert ceo.get(f"/analytics/scorecards/people/{staff.nobody.pk}").status_code == 403
    assert logged_in(staff.ceo).get(f"/staff/analytics/scorecards/people/{staff.nobody.pk}/").status_code == 403
    assert ceo.get(f"/analytics/scorecards/people/{staff.north_agent.pk}").status_code == 200


def test_an_unknown_person_is_404_for_a_supervisor_and_403_for_others(board, cast, api_as):  # type: ignore[no-untyped-def]
    assert api_as(cast.supervisor).get("/analytics/scorecards/people/999999").status_code == 404
    assert logged_in(cast.supervisor).get("/staff/analytics/scorecards/people/999999/").status_code == 404
    assert api_as(cast.agent).get("/analytics/scorecards/people/999999").status_code == 403
    assert logged_in(cast.analyst).get("/staff/analytics/scorecards/people/999999/").status_code == 403


def test_a_department_scorecard_is_for_its_supervisors_root_managers_analysts_and_auditors(  # type: ignore[no-untyped-def]
    board, cast, staff, api_as
):
    for reader, department, status in (
        ("supervisor", "service", 200),
        ("supervisor", "quality", 403),
        ("quality_supervisor", "quality", 200),
        ("analyst", "logistics", 200),
        ("auditor", "service", 200),
        ("manager", "service", 403),  # a regional manager: departments are organisation-wide
        ("ceo", "service", 200),
        ("agent", "service", 403),
        ("handler", "quality", 403),
        ("analyst", "nope", 404),
        ("agent", "nope", 403),
    ):
        user = getattr(cast, reader, None) or getattr(staff, reader)
        response = api_as(user).get(f"/analytics/scorecards/departments/{department}", **MARCH)
        assert response.status_code == status, (reader, department)
        page = logged_in(user).get(f"/staff/analytics/scorecards/departments/{department}/", MARCH)
        assert page.status_code == status, (reader, department)


def test_a_department_scorecard_counts_the_department_s_cases(board, cast, api_as):  # type: ignore[no-untyped-def]
    card = api_as(cast.supervisor).get("/analytics/scorecards/departments/service", **MARCH).json()
    assert card["counted_by"] == "current_department" and card["name"] == "客服中心"
    assert card["kpis"]["received"] == 3 + 4 + 4 + 3 + 1 + 3 + 1  # the store agent's service case too
    assert card["previous_kpis"]["received"] == 1


# --- the ranking -----------------------------------------------------------------------------------


def test_the_ranking_ranks_people_with_enough_cases_best_first_sharing_ties(board, cast, staff, api_as):  # type: ignore[no-untyped-def]
    answer = api_as(cast.supervisor).get("/analytics/scorecards/ranking", **MARCH).json()
    assert answer["by"] == "resolution_timeliness" and answer["min_cases"] == 3
    people = [(p["name"], p["rank"], p["top"], p["value"]) for p in answer["people"]]
    assert people[:4] == [
        ("agent2", 1, True, 1.0),
        ("agent", 2, True, 0.75),
        ("agent4", 2, True, 0.75),
        ("agent3", 4, False, 0.6667),
    ]
    unranked = {p["name"]: p for p in answer["people"][4:]}
    # One lucky case does not top the list; no resolved case, no timeliness.
    assert unranked["agent5"]["rank"] is None and unranked["agent5"]["value"] == 1.0
    assert "少于 3 件" in unranked["agent5"]["note"]
    assert unranked["agent6"]["rank"] is None and "没有“办结及时率”的数据" in unranked["agent6"]["note"]
    # Only the people the supervisor supervises, the supervisor left out.
    assert {p["name"] for p in answer["people"]} == {"agent", "agent2", "agent3", "agent4", "agent5", "agent6"}
    agent = next(p for p in answer["people"] if p["name"] == "agent")
    assert (agent["previous"], agent["direction"]) == (0.0, "up")
    assert [(d["key"], d["rank"]) for d in answer["departments"]] == [("service", 1)]


def test_a_kpi_where_lower_is_better_ranks_the_lowest_first(board, cast, api_as):  # type: ignore[no-untyped-def]
    answer = api_as(cast.supervisor).get("/analytics/scorecards/ranking", by="handling_hours_working_mean", **MARCH)
    ranked = [(p["name"], p["value"]) for p in answer.json()["people"] if p["rank"] is not None]
    assert ranked == [("agent2", 5.0), ("agent3", 5.0), ("agent", 5.5), ("agent4", 5.5)]
    assert answer.json()["higher_is_better"] is False


def test_managers_rank_the_staff_of_their_units_and_analysts_rank_departments_only(board, cast, staff, api_as):  # type: ignore[no-untyped-def]
    south = api_as(cast.manager).get("/analytics/scorecards/ranking", **MARCH).json()
    assert [p["name"] for p in south["people"]] == ["store_agent"] and south["departments"] == []
    ceo = api_as(staff.ceo).get("/analytics/scorecards/ranking", **MARCH).json()
    names = {p["name"] for p in ceo["people"]}
    assert {"agent", "store_agent", "north_agent", "manager", "qagent", "legal"} <= names
    assert not names & {"ceo", "analyst", "auditor", "admin", "nobody"}
    analyst = api_as(cast.analyst).get("/analytics/scorecards/ranking", **MARCH).json()
    assert analyst["people"] is None
    departments = {d["key"]: d for d in analyst["departments"]}
    assert set(departments) == {"service", "quality", "logistics", "legal"}
    assert departments["service"]["rank"] == 1 and departments["quality"]["rank"] is None


def test_readers_of_no_one_may_not_see_the_ranking(board, cast, api_as):  # type: ignore[no-untyped-def]
    for role in ("agent", "handler", "legal", "admin"):
        assert api_as(getattr(cast, role)).get("/analytics/scorecards/ranking").status_code == 403, role
        assert logged_in(getattr(cast, role)).get("/staff/analytics/scorecards/").status_code == 403, role


def test_the_ranking_page_highlights_the_top_three_for_recognition(board, cast, staff):  # type: ignore[no-untyped-def]
    page = logged_in(cast.supervisor).get("/staff/analytics/scorecards/", MARCH).content.decode()
    rows = page.split('<tr id="ranking-people-')[1:]
    recognised = [row.split('"', 1)[0] for row in rows if "表彰" in row.split("</tr>", 1)[0]]
    assert recognised == [str(cast.agent2.pk), str(cast.agent.pk), str(staff.agent4.pk)]
    assert f'href="/staff/analytics/scorecards/people/{cast.agent2.pk}/"' in page
    assert 'id="chart-ranking-people"' in page and "不少于 3 件投诉才参与排名" in page


def test_a_bad_period_or_kpi_is_refused_naming_the_field(cast, api_as):  # type: ignore[no-untyped-def]
    client, api = logged_in(cast.supervisor), api_as(cast.supervisor)
    for path, params, field in (
        ("ranking", {"by": "colour"}, "by"),
        ("ranking", {"from": "2026-03-10", "to": "2026-03-01"}, "to"),
        ("ranking", {"from": "2026-03-10"}, "to"),
        ("ranking", {"category": "service"}, "category"),
        ("me", {"to": "2026-03-01"}, "from"),
        ("me", {"by": "received"}, "by"),
        ("departments/service", {"from": "someday", "to": "2026-03-01"}, "from"),
    ):
        response = api.get(f"/analytics/scorecards/{path}", **params)
        assert response.status_code == 422, (path, params)
        assert field in [e["field"] for e in response.json()["errors"]], (path, params)
        page = client.get(f"/staff/analytics/scorecards/{'' if path == 'ranking' else path + '/'}", params)
        assert page.status_code == 400 and f'id="error-{field}"' in page.content.decode(), (path, params)


def test_a_bad_period_tells_an_outsider_nothing(board, cast):  # type: ignore[no-untyped-def]
    url = f"/staff/analytics/scorecards/people/{cast.agent.pk}/"
    assert logged_in(cast.outsider).get(url, {"from": "bad"}).status_code == 403


def test_the_navigation_offers_my_scorecard_to_all_staff_and_the_ranking_to_supervisors(board, cast):  # type: ignore[no-untyped-def]
    agent_page = logged_in(cast.agent).get("/staff/analytics/scorecards/me/").content.decode()
    assert 'id="nav-scorecard"' in agent_page and 'id="nav-ranking"' not in agent_page
    supervisor_page = logged_in(cast.supervisor).get("/staff/analytics/scorecards/me/").content.decode()
    assert 'id="nav-scorecard"' in supervisor_page and 'id="nav-ranking"' in supervisor_page


def test_the_ranking_costs_the_same_queries_however_many_people_it_ranks(board, cast, org):  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from analytics import scorecards

    filters, kpi = scorecards.parse_ranking(MARCH)

    def count() -> int:
        reader = type(cast.supervisor).objects.get(pk=cast.supervisor.pk)  # a fresh user: no cached roles
        with CaptureQueriesContext(connection) as queries:
            scorecards.ranking(filters, reader, kpi)
        return len(queries)

    before = count()
    for i in range(3):
        newcomer = make_user(f"newcomer{i}", (Role.AGENT, org.service))
        for _ in range(3):
            fact(newcomer, org.service, resolved=True, in_sla=True)
    assert count() == before <= 12
