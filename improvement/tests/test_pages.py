"""The staff pages: the plan list (overdue first, filters), the new/edit forms, the detail with its
complete button, and the spike alerts page — anonymous, without the right, with it."""

from datetime import date

from improvement.models import ImprovementPlan, PlanEvent
from intelligence.models import SpikeAlert

from .conftest import logged_in, new_case


def _form(case, **extra):  # type: ignore[no-untyped-def]
    return {
        "title": "门店服务整改", "root_cause": "service_attitude", "action": "培训", "owner": "supervisor",
        "due_in_working_days": "5", "tracking_numbers": case.tracking_no, "expected_reduction": "20", **extra,
    }  # fmt: skip


def test_the_plan_pages_need_a_login_and_a_plan_role(cast, client):
    assert client.get("/staff/improvement/plans/").status_code == 302
    assert logged_in(cast.agent).get("/staff/improvement/plans/").status_code == 403
    assert logged_in(cast.agent).get("/staff/improvement/plans/new/").status_code == 403
    assert logged_in(cast.auditor).get("/staff/improvement/plans/new/").status_code == 403
    assert logged_in(cast.handler).get("/staff/improvement/spikes/").status_code == 403
    page = logged_in(cast.analyst).get("/staff/improvement/plans/")
    assert page.status_code == 200 and 'id="nav-improvement"' in page.content.decode()


def test_a_supervisor_creates_a_plan_with_the_form_and_sees_it_listed(cast, body, org):
    case = new_case(body, org_unit=org.store_sz.pk)
    client = logged_in(cast.supervisor)
    response = client.post("/staff/improvement/plans/new/", _form(case))
    assert response.status_code == 302
    plan = ImprovementPlan.objects.get()
    assert list(plan.complaints.values_list("tracking_no", flat=True)) == [case.tracking_no]
    listing = client.get("/staff/improvement/plans/").content.decode()
    assert f'id="plan-{plan.pk}"' in listing and "门店服务整改" in listing
    detail = client.get(f"/staff/improvement/plans/{plan.pk}/").content.decode()
    assert case.tracking_no in detail and 'id="plan-complete"' in detail


def test_form_errors_name_the_fields_and_keep_the_input(cast, body, org):
    case = new_case(body, org_unit=org.store_sz.pk)
    response = logged_in(cast.supervisor).post(
        "/staff/improvement/plans/new/", _form(case, root_cause="", due_in_working_days="0")
    )
    html = response.content.decode()
    assert response.status_code == 400 and "root_cause" in html and "due_in_working_days" in html
    assert "门店服务整改" in html and not ImprovementPlan.objects.exists()


def test_a_bad_list_filter_is_a_400_naming_it(cast):
    response = logged_in(cast.manager).get("/staff/improvement/plans/", {"status": "whatever"})
    assert response.status_code == 400 and "status" in response.content.decode()


def test_the_spike_page_offers_a_plan_from_each_alert_and_the_form_links_its_cases(cast, body, org):
    case = new_case(body, org_unit=org.store_sz.pk)
    alert = SpikeAlert.objects.create(
        dimension="category", value="product_quality", value_label="产品质量", day=date(2026, 3, 1), window_days=7,
        observed=9, expected=2.0, rise_percent=350.0, p_value=0.001, complaint_ids=[case.pk],
    )  # fmt: skip
    client = logged_in(cast.supervisor)
    page = client.get("/staff/improvement/spikes/").content.decode()
    assert f"?spike_alert={alert.pk}" in page
    form = client.get(f"/staff/improvement/plans/new/?spike_alert={alert.pk}").content.decode()
    assert f'value="{alert.pk}"' in form
    assert (
        client.post(
            "/staff/improvement/plans/new/", _form(case, tracking_numbers="", spike_alert=str(alert.pk))
        ).status_code
        == 302
    )
    plan = ImprovementPlan.objects.get()
    assert plan.source == "spike" and plan.spike_alert_id == alert.pk and plan.complaints.get() == case


def test_the_owner_edits_and_completes_on_the_pages_and_others_cannot(cast, body, org):
    case = new_case(body, org_unit=org.store_sz.pk)
    logged_in(cast.supervisor).post("/staff/improvement/plans/new/", _form(case, owner="manager"))
    plan = ImprovementPlan.objects.get()
    assert logged_in(cast.quality_supervisor).get(f"/staff/improvement/plans/{plan.pk}/edit/").status_code == 403
    assert logged_in(cast.analyst).post(f"/staff/improvement/plans/{plan.pk}/complete/").status_code == 403
    manager = logged_in(cast.manager)
    edited = manager.post(
        f"/staff/improvement/plans/{plan.pk}/edit/",
        {"title": "门店服务整改（二期）", "due_date": "2027-06-01", "status": "in_progress"},
    )
    assert edited.status_code == 302
    assert manager.post(f"/staff/improvement/plans/{plan.pk}/complete/", {"note": "完成"}).status_code == 302
    plan.refresh_from_db()
    assert (plan.title, plan.status, plan.due_date) == ("门店服务整改（二期）", "done", date(2027, 6, 1))
    assert list(PlanEvent.objects.filter(plan=plan).values_list("action", flat=True)) == [
        "created",
        "updated",
        "completed",
    ]
    assert "尚未结束" in manager.get(f"/staff/improvement/plans/{plan.pk}/").content.decode()


def test_the_library_nav_link_shows_for_case_roles_only(cast):
    assert 'id="nav-library"' in logged_in(cast.agent).get("/staff/improvement/library/").content.decode()
    assert 'id="nav-improvement"' not in logged_in(cast.agent).get("/staff/improvement/library/").content.decode()
