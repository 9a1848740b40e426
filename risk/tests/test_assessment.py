"""The daily assessment on real cases and their analytics facts: every subject's measures and level,
sales figures when imported, one run a day, and an alert (with its notices) once when a level rises."""

from datetime import date, timedelta
from decimal import Decimal

from django.core.management import call_command

from accounts.models import Notification
from analytics import rollups
from analytics.models import CaseFact, SalesVolume
from risk.actions import assess_all
from risk.choices import RiskLevel, SubjectKind
from risk.models import RiskAlert, RiskAssessment, RiskRun

from .conftest import DAY, at, filed, refresh_facts, set_fields


def _row(kind: str, label: str, day: date = DAY) -> RiskAssessment:
    return RiskAssessment.objects.get(day=day, kind=kind, label=label)


def _levels(day: date = DAY) -> dict[tuple[str, str], str]:
    return {(a.kind, a.label): a.level for a in RiskAssessment.objects.filter(day=day)}


def test_every_product_unit_and_department_is_assessed_from_the_analytics_facts(scenario):
    assert assess_all(day=DAY) == {"assessed": 9, "not_assessed": 1, "alerts": 0}
    run = RiskRun.objects.get(day=DAY)
    assert (run.window_from, run.window_to) == (date(2026, 5, 11), date(2026, 6, 9))
    assert _levels() == {
        ("product", "KT-1001"): "medium",  # P (2×1 + 5)/3 → 2, I 5 (half flagged): 10
        ("product", "KT-2002"): "low",
        ("product", "KT-3003"): "",  # one case: not assessed
        ("org_unit", "深圳南山店"): "medium",
        ("org_unit", "华南区"): "medium",  # its store's cases
        ("org_unit", "北京朝阳店"): "low",
        ("org_unit", "华北区"): "low",
        ("org_unit", "示例集团"): "medium",  # P (2×2 + 5)/3 = 3, I (2 + 4)/2 = 3: 9
        ("department", "质量部"): "medium",
        ("department", "客服中心"): "low",
    }
    kt1 = _row(SubjectKind.PRODUCT, "KT-1001")
    assert (kt1.cases, kt1.previous_cases, kt1.probability, kt1.impact) == (6, 2, 2, 5)
    assert kt1.measures["trend"]["value"] == 2.0
    assert kt1.measures["flagged_share"]["value"] == 0.5  # a legal flag, a repeat flag, one escalation
    assert kt1.measures["handling_hours"]["note"] == "no_resolved"
    company = _row(SubjectKind.ORG_UNIT, "示例集团")
    assert (company.cases, company.previous_cases) == (12, 7)
    assert company.measures["flagged_share"]["value"] == 0.25
    # The resolved case's handling time as analytics counts it (working hours, 09:00–17:30).
    service = _row(SubjectKind.DEPARTMENT, "客服中心")
    assert (service.measures["handling_hours"]["value"], service.measures["handling_hours"]["band"]) == (17.0, 2)
    assert service.measures["cost_ratio"]["note"] == "no_revenue_department"
    assert service.department_id is not None and service.key == "service"
    assert _row(SubjectKind.ORG_UNIT, "北京朝阳店").key == str(scenario.service_cases[0].org_unit_id)


def test_merged_duplicates_and_cases_outside_the_window_are_not_counted(scenario):
    merged = scenario.quality_cases[-1]
    set_fields(merged, status="merged", merged_into=scenario.quality_cases[0])
    refresh_facts()
    assess_all(day=DAY)
    assert _row(SubjectKind.PRODUCT, "KT-1001").cases == 5
    # The next day's window starts a day later: 2026-05-12 is still in, 2026-05-11 would not be.
    assess_all(day=DAY + timedelta(days=1))
    assert _row(SubjectKind.PRODUCT, "KT-1001", DAY + timedelta(days=1)).cases == 5


def test_satisfaction_from_the_survey_answers_enters_the_impact(scenario):
    ids = [c.pk for c in scenario.service_cases]
    # Survey answers as the rollups record them: 1 of 4 satisfied (25 %) → band 5.
    for pk, score in zip(ids, (5, 2, 1, 3), strict=False):
        CaseFact.objects.filter(pk=pk).update(survey_score=score)
    rollups.rebuild_days(CaseFact.objects.values_list("received_date", flat=True))
    assess_all(day=DAY)
    row = _row(SubjectKind.PRODUCT, "KT-2002")
    assert (row.measures["satisfaction"]["value"], row.measures["satisfaction"]["band"]) == (0.25, 5)
    # impact (handling 2 + satisfaction 5 + share 1)/3 = 2.67 → 3; probability 1 → low (3)
    assert (row.impact, row.level) == (3, RiskLevel.LOW)


def test_imported_sales_make_the_frequency_a_rate_and_give_the_cost_ratio(scenario, settings):
    settings.COMPLAINTDESK_RISK_HANDLING_COST_PER_HOUR = "100"
    SalesVolume.objects.create(date=date(2026, 5, 15), product="KT-2002", orders=2000, revenue=Decimal("100000"))
    SalesVolume.objects.create(date=date(2026, 4, 15), product="KT-2002", orders=1000, revenue=Decimal("50000"))
    assess_all(day=DAY)
    row = _row(SubjectKind.PRODUCT, "KT-2002")
    m = row.measures
    assert (m["frequency"]["threshold"], m["frequency"]["value"], m["frequency"]["band"]) == ("frequency_rate", 25, 4)
    assert m["trend"]["value"] == -0.5  # 25 per 10,000 orders against 50 before
    # (0 compensation + 17 h × 100 CNY) / 100,000 CNY
    assert row.inputs["handling_cost"] == "1700.00"
    assert (m["cost_ratio"]["value"], m["cost_ratio"]["band"]) == (0.017, 5)
    # KT-1001 has no sales figures: counted, and no cost ratio.
    assert _row(SubjectKind.PRODUCT, "KT-1001").measures["frequency"]["note"] == "no_sales"


def test_the_job_runs_once_a_day(scenario):
    assert assess_all(day=DAY)["assessed"] == 9
    assert assess_all(day=DAY) == {"done": 1}
    assert RiskAssessment.objects.filter(day=DAY).count() == 10
    # Forced, the day's rows are updated in place; KT-3003, now without cases, goes.
    set_fields(scenario.lone, product_sku="KT-2002")
    refresh_facts()
    assert assess_all(day=DAY, force=True) == {"assessed": 9, "not_assessed": 0, "alerts": 0}
    assert RiskAssessment.objects.filter(day=DAY).count() == 9
    assert not RiskAssessment.objects.filter(key="KT-3003").exists()
    assert _row(SubjectKind.PRODUCT, "KT-2002").cases == 6


def test_a_crashed_run_is_taken_over_after_a_while_but_a_running_one_is_left_alone(scenario):
    from django.utils import timezone

    RiskRun.objects.create(day=DAY, window_from=DAY, window_to=DAY, started_at=timezone.now())
    assert assess_all(day=DAY) == {"busy": 1}  # another worker is on it
    assert not RiskAssessment.objects.exists()
    RiskRun.objects.filter(day=DAY).update(started_at=timezone.now() - timedelta(hours=1))
    assert assess_all(day=DAY)["assessed"] == 9
    assert RiskRun.objects.get(day=DAY).finished_at is not None


def test_a_rise_raises_one_alert_and_tells_the_people_responsible_once(scenario, cast, org, body):
    day1, day2 = DAY, DAY + timedelta(days=1)
    assess_all(day=day1)  # the baseline: no earlier run, no alert
    assert not RiskAlert.objects.exists()
    # KT-2002's cases turn out to be legal threats, and two more come in: its frequency trend and impact
    # rise, and so do its store's, its region's and its department's.
    for when in (at(2026, 5, 30, 10), at(2026, 6, 5, 10)):
        set_fields(filed(body, when, org_unit=org.store_bj.pk, product_sku="KT-2002"), department=org.service)
    for c in scenario.service_cases:
        set_fields(c, risk_flags=["legal"], risk_legal_media_safety=True)
    refresh_facts()
    result = assess_all(day=day2)
    risen = {(a.assessment.kind, a.assessment.label): (a.previous_level, a.level) for a in RiskAlert.objects.all()}
    assert risen == {
        ("product", "KT-2002"): ("low", "medium"),
        ("org_unit", "北京朝阳店"): ("low", "medium"),
        ("org_unit", "华北区"): ("low", "medium"),
        ("department", "客服中心"): ("low", "medium"),
    }
    assert _levels(day2)[("org_unit", "示例集团")] == "medium"  # risen within medium: no alert
    assert result["alerts"] == 4

    def told(user: object) -> list[str]:
        notices = Notification.objects.filter(recipient=user, kind="risk_level_rose")
        return sorted(notices.values_list("message", flat=True))

    # Product: analysts and the top unit's manager. Units: the managers of the unit and above.
    # Department: its supervisors.
    assert len(told(cast.analyst)) == 1 and "KT-2002" in told(cast.analyst)[0]
    assert len(told(scenario.top_manager)) == 3  # the product and the two units
    assert len(told(scenario.north_manager)) == 2  # 北京朝阳店 and 华北区
    assert len(told(cast.supervisor)) == 1 and "客服中心" in told(cast.supervisor)[0]
    assert "由低升为中" in told(cast.supervisor)[0]
    assert told(cast.manager) == [] and told(cast.quality_supervisor) == []  # 华南区, 质量部: nothing rose
    assert told(cast.auditor) == [] and told(cast.agent) == []
    notices = Notification.objects.filter(kind="risk_level_rose").count()
    # The same day again (forced): no second alert, no second notice.
    assert assess_all(day=day2, force=True)["alerts"] == 0
    # The next day at the same level: nothing new either.
    assert assess_all(day=day2 + timedelta(days=1))["alerts"] == 0
    assert RiskAlert.objects.count() == 4
    assert Notification.objects.filter(kind="risk_level_rose").count() == notices


def test_a_subject_not_assessed_before_counts_as_low(scenario, org, body):
    assess_all(day=DAY)
    # KT-3003 gets five more cases with safety flags: from "not assessed" (1 case) to a level.
    for day in range(2, 7):
        c = filed(body, at(2026, 6, day, 10), org_unit=org.store_bj.pk, product_sku="KT-3003")
        set_fields(c, risk_flags=["safety"], risk_legal_media_safety=True)
    refresh_facts()
    assess_all(day=DAY + timedelta(days=1))
    alert = RiskAlert.objects.get(assessment__key="KT-3003")
    # probability 1 (6 cases, no trend), impact 5 (5 of 6 flagged): 5 → medium
    assert (alert.previous_level, alert.level) == ("", RiskLevel.MEDIUM)


def test_a_subject_back_above_the_minimum_at_its_old_level_raises_no_new_alert(scenario, settings):
    day1, day2, day3 = DAY, DAY + timedelta(days=1), DAY + timedelta(days=2)
    assess_all(day=day1)  # KT-1001 (6 cases): medium
    settings.COMPLAINTDESK_RISK_MIN_CASES = 7  # its count dips below the minimum: not assessed
    assess_all(day=day2)
    assert _levels(day2)[("product", "KT-1001")] == ""
    settings.COMPLAINTDESK_RISK_MIN_CASES = 5  # back above it, at the level it had: no rise
    assess_all(day=day3)
    assert _levels(day3)[("product", "KT-1001")] == RiskLevel.MEDIUM
    assert not RiskAlert.objects.exists()


def test_the_command_runs_the_assessment(scenario):
    from io import StringIO

    out = StringIO()
    call_command("risk_assess", "--day", DAY.isoformat(), stdout=out)
    assert "assessed 9" in out.getvalue()
    out = StringIO()
    call_command("risk_assess", "--day", DAY.isoformat(), stdout=out)
    assert "already assessed" in out.getvalue()


def test_the_scheduler_runs_the_job(scenario):
    import time_machine

    from core import scheduler

    assert ("risk_assess", assess_all) in scheduler.jobs()
    with time_machine.travel(at(2026, 6, 10, 0, 5), tick=False):
        assert assess_all()["assessed"] == 9
    assert RiskRun.objects.get().day == DAY


def test_a_rise_nobody_holds_is_told_to_the_organisations_managers_else_the_analysts(cast, org):
    from accounts.choices import Role
    from conftest import make_user
    from risk.actions import _Recipients

    orphan = RiskAssessment(kind=SubjectKind.DEPARTMENT, key="logistics", department=org.logistics)
    held = RiskAssessment(kind=SubjectKind.DEPARTMENT, key="service", department=org.service)
    assert _Recipients().of(orphan) == [cast.analyst.pk]  # no top-level manager yet
    top = make_user("topmanager", (Role.MANAGER, org.company))
    assert _Recipients().of(orphan) == [top.pk]
    assert _Recipients().of(held) == [cast.supervisor.pk]
