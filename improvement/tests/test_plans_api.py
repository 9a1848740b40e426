"""The plans API: who may list, create, read, change and complete plans; linked cases only the creator
may see; clear 422s naming the field; every write audited."""

import time_machine

from accounts.models import Notification
from improvement.actions import notify_overdue_plans
from improvement.models import ImprovementPlan, PlanEvent

from .conftest import at, fields, new_case, patch, plan_body


def _service_case(body, org):  # type: ignore[no-untyped-def]
    # New cases wait in the default department (客服中心); the store makes them the south manager's too.
    return new_case(body, org_unit=org.store_sz.pk)


def test_anonymous_gets_401_on_every_plan_endpoint(api_as, cast):
    api = api_as()
    assert api.get("/improvement/plans").status_code == 401
    assert api.post("/improvement/plans", plan_body()).status_code == 401
    assert api.get("/improvement/plans/1").status_code == 401


def test_an_agent_may_neither_list_nor_create_plans(api_as, cast, body, org):
    case = _service_case(body, org)
    api = api_as(cast.agent)
    assert api.get("/improvement/plans").status_code == 403
    assert api.post("/improvement/plans", plan_body(tracking_numbers=[case.tracking_no])).status_code == 403


def test_a_supervisor_creates_an_open_plan_from_tracking_numbers_with_a_working_day_due_date(api_as, cast, body, org):
    case = _service_case(body, org)
    with time_machine.travel(at(2026, 9, 25, 10), tick=False):  # Friday before the National Day holiday
        response = api_as(cast.supervisor).post("/improvement/plans", plan_body(tracking_numbers=[case.tracking_no]))
    assert response.status_code == 201, response.content
    plan = response.json()
    assert plan["status"] == "open" and plan["complaints"] == [case.tracking_no]
    # 10 working days from Fri 25 Sep 2026: 28, 29, 30 Sep, then the 1–7 Oct holiday, then 8–14 Oct (调休 aside)
    assert plan["due_date"] >= "2026-10-12"
    assert [e["action"] for e in plan["history"]] == ["created"]


def test_cases_the_creator_cannot_see_are_refused_naming_tracking_numbers(api_as, cast, body, org):
    quality_case = new_case(body)
    from complaints import actions
    from complaints.ledgering import Actor

    actions.assign(
        actions.accept(quality_case, actor=Actor.staff(cast.supervisor)),
        actor=Actor.staff(cast.supervisor),
        department=org.quality,
    )
    response = api_as(cast.supervisor).post(
        "/improvement/plans", plan_body(tracking_numbers=[quality_case.tracking_no])
    )
    assert response.status_code == 422 and "tracking_numbers" in fields(response)
    assert not ImprovementPlan.objects.exists()


def test_an_owner_who_cannot_see_the_cases_is_refused(api_as, cast, body, org):
    north_case = new_case(body, org_unit=org.store_bj.pk)  # the supervisor's department, not the south manager's unit
    response = api_as(cast.supervisor).post(
        "/improvement/plans", plan_body(tracking_numbers=[north_case.tracking_no], owner="manager")
    )
    assert response.status_code == 422 and fields(response) == {"owner"}


def test_bad_plan_input_names_each_field(api_as, cast, body, org):
    case = _service_case(body, org)
    response = api_as(cast.supervisor).post(
        "/improvement/plans",
        plan_body(
            tracking_numbers=[case.tracking_no],
            root_cause="nonsense",
            category="no_such_category",
            due_date="2026-01-01",
            owner="agent",
        ),
    )
    assert response.status_code == 422
    assert fields(response) >= {"root_cause", "category", "due_date", "owner"}
    reduction = api_as(cast.supervisor).post(
        "/improvement/plans", plan_body(tracking_numbers=[case.tracking_no], expected_reduction=150)
    )
    assert reduction.status_code == 422 and fields(reduction) == {"expected_reduction"}
    empty = api_as(cast.supervisor).post("/improvement/plans", plan_body())
    assert empty.status_code == 422 and fields(empty) == {"tracking_numbers"}


def test_unknown_list_filters_are_a_422_naming_the_filter(api_as, cast):
    api = api_as(cast.auditor)
    assert fields(api.get("/improvement/plans", status="bogus")) == {"status"}
    assert fields(api.get("/improvement/plans", colour="red")) == {"colour"}
    assert fields(api.get("/improvement/plans", category="nope")) == {"category"}


def test_an_analyst_creates_a_proposal_that_only_a_supervisor_or_manager_opens(api_as, cast, body, org):
    case = _service_case(body, org)
    created = api_as(cast.analyst).post("/improvement/plans", plan_body(tracking_numbers=[case.tracking_no]))
    assert created.status_code == 201 and created.json()["status"] == "proposed"
    pk = created.json()["id"]
    refused = patch(api_as(cast.analyst), f"/improvement/plans/{pk}", {"status": "open"})
    assert refused.status_code == 422 and fields(refused) == {"status"}
    opened = patch(api_as(cast.supervisor), f"/improvement/plans/{pk}", {"status": "open"})
    assert opened.status_code == 200 and opened.json()["status"] == "open"


def test_auditors_read_plans_but_cannot_change_them(api_as, cast, body, org):
    case = _service_case(body, org)
    pk = api_as(cast.supervisor).post("/improvement/plans", plan_body(tracking_numbers=[case.tracking_no])).json()["id"]
    auditor = api_as(cast.auditor)
    assert auditor.get(f"/improvement/plans/{pk}").json()["complaints"] == [case.tracking_no]
    assert [p["id"] for p in auditor.get("/improvement/plans").json()] == [pk]
    assert auditor.post("/improvement/plans", plan_body(tracking_numbers=[case.tracking_no])).status_code == 403
    assert patch(auditor, f"/improvement/plans/{pk}", {"title": "x"}).status_code == 403
    assert auditor.post(f"/improvement/plans/{pk}/complete", {}).status_code == 403


def test_a_supervisor_of_another_department_cannot_change_a_plan_they_neither_own_nor_made(api_as, cast, body, org):
    case = _service_case(body, org)
    pk = api_as(cast.supervisor).post("/improvement/plans", plan_body(tracking_numbers=[case.tracking_no])).json()["id"]
    other = api_as(cast.quality_supervisor)
    assert other.get(f"/improvement/plans/{pk}").status_code == 200  # reads: plans hold no personal data
    assert other.get(f"/improvement/plans/{pk}").json()["complaints"] == []  # but not the cases it cannot see
    assert patch(other, f"/improvement/plans/{pk}", {"title": "改名"}).status_code == 403


def test_the_owner_updates_and_completes_the_plan_and_each_write_is_audited(api_as, cast, body, org):
    case = _service_case(body, org)
    pk = (
        api_as(cast.supervisor)
        .post("/improvement/plans", plan_body(tracking_numbers=[case.tracking_no], owner="manager"))
        .json()["id"]
    )
    manager = api_as(cast.manager)
    changed = patch(manager, f"/improvement/plans/{pk}", {"status": "in_progress", "expected_reduction": 40})
    assert changed.status_code == 200 and changed.json()["status"] == "in_progress"
    done = manager.post(f"/improvement/plans/{pk}/complete", {"note": "供应商已更换"})
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert done.json()["effect"]["complete"] is False and "尚未结束" in done.json()["effect"]["sentence"]
    again = manager.post(f"/improvement/plans/{pk}/complete", {})
    assert again.status_code == 409
    events = list(PlanEvent.objects.filter(plan_id=pk).values_list("action", "actor__username"))
    assert events == [("created", "supervisor"), ("updated", "manager"), ("completed", "manager")]
    assert PlanEvent.objects.get(plan_id=pk, action="updated").changes["expected_reduction"] == [50, 40]
    assert patch(manager, f"/improvement/plans/{pk}", {"title": "晚了"}).status_code == 409


def test_a_plan_may_not_be_patched_to_done_or_given_two_due_dates(api_as, cast, body, org):
    case = _service_case(body, org)
    pk = api_as(cast.supervisor).post("/improvement/plans", plan_body(tracking_numbers=[case.tracking_no])).json()["id"]
    api = api_as(cast.supervisor)
    assert fields(patch(api, f"/improvement/plans/{pk}", {"status": "done"})) == {"status"}
    both = patch(api, f"/improvement/plans/{pk}", {"due_date": "2030-01-02", "due_in_working_days": 3})
    assert both.status_code == 422 and fields(both) == {"due_date"}


def test_overdue_plans_come_first_and_their_owner_is_notified_once(api_as, cast, body, org):
    case = _service_case(body, org)
    with time_machine.travel(at(2026, 3, 2, 10), tick=False):
        api = api_as(cast.supervisor)
        late = api.post("/improvement/plans", plan_body(tracking_numbers=[case.tracking_no], title="A")).json()["id"]
        later = api.post(
            "/improvement/plans", plan_body(tracking_numbers=[case.tracking_no], title="B", due_in_working_days=100)
        ).json()["id"]
    with time_machine.travel(at(2026, 4, 1, 10), tick=False):
        rows = api_as(cast.auditor).get("/improvement/plans").json()
        assert [(r["id"], r["overdue"]) for r in rows] == [(late, True), (later, False)]
        assert [r["id"] for r in api_as(cast.auditor).get("/improvement/plans", overdue="1").json()] == [late]
        assert notify_overdue_plans() == 1
        assert notify_overdue_plans() == 0
    notices = Notification.objects.filter(recipient=cast.supervisor, kind="improvement_plan_overdue")
    assert notices.count() == 1 and "A" in notices.get().message


def test_a_plan_from_a_spike_alert_links_only_the_alerts_cases_the_creator_sees(api_as, cast, body, org):
    from datetime import date

    from complaints import actions
    from complaints.ledgering import Actor
    from intelligence.models import SpikeAlert

    seen = _service_case(body, org)
    hidden = new_case(body)
    actions.assign(
        actions.accept(hidden, actor=Actor.staff(cast.supervisor)),
        actor=Actor.staff(cast.supervisor),
        department=org.quality,
    )
    alert = SpikeAlert.objects.create(
        dimension="category", value="product_quality", value_label="产品质量", day=date(2026, 3, 1), window_days=7,
        observed=9, expected=2.0, rise_percent=350.0, p_value=0.001, complaint_ids=[seen.pk, hidden.pk],
    )  # fmt: skip
    response = api_as(cast.supervisor).post("/improvement/plans", plan_body(spike_alert=alert.pk))
    assert response.status_code == 201, response.content
    assert response.json()["source"] == "spike" and response.json()["complaints"] == [seen.tracking_no]
    missing = api_as(cast.supervisor).post("/improvement/plans", plan_body(spike_alert=999999))
    assert fields(missing) == {"spike_alert"}


def test_a_plan_from_a_case_links_the_case_and_its_similar_cases(api_as, cast, body, org):
    from intelligence import similar

    texts = ["快递三天还没送到，物流信息一直不更新", "衣服洗一次就掉色，质量太差", "结账时多收了费用，价格和标价不一致"]
    cases = [new_case(body, description=texts[i % 3] + f"（第{i}次）", org_unit=org.store_sz.pk) for i in range(30)]
    similar.build()
    response = api_as(cast.supervisor).post("/improvement/plans", plan_body(similar_to=cases[0].tracking_no))
    assert response.status_code == 201, response.content
    linked = set(response.json()["complaints"])
    delivery = {c.tracking_no for c in cases[::3]}
    assert cases[0].tracking_no in linked and response.json()["source"] == "similar"
    assert len(linked & delivery) > len(linked - delivery)  # mostly the same kind of complaint
    unknown = api_as(cast.supervisor).post("/improvement/plans", plan_body(similar_to="TS20260101-000999"))
    assert fields(unknown) == {"similar_to"}


def test_a_manager_of_another_region_may_neither_change_re_own_nor_complete_a_plan(api_as, cast, body, org):
    from accounts.choices import Role
    from conftest import make_user

    north_manager = make_user("north_manager", (Role.MANAGER, org.north))
    case = _service_case(body, org)  # a 华南区 store's case
    pk = api_as(cast.supervisor).post("/improvement/plans", plan_body(tracking_numbers=[case.tracking_no])).json()["id"]
    north = api_as(north_manager)
    assert north.get(f"/improvement/plans/{pk}").status_code == 200  # readers still read every plan
    assert patch(north, f"/improvement/plans/{pk}", {"title": "改名"}).status_code == 403
    assert patch(north, f"/improvement/plans/{pk}", {"owner": "north_manager"}).status_code == 403
    assert north.post(f"/improvement/plans/{pk}/complete", {}).status_code == 403
    assert ImprovementPlan.objects.get(pk=pk).status == "open"
    south = api_as(cast.manager)  # 华南区: the plan's case is theirs
    assert patch(south, f"/improvement/plans/{pk}", {"title": "改名"}).status_code == 200
    assert south.post(f"/improvement/plans/{pk}/complete", {}).status_code == 200


def test_a_plan_scoped_to_a_unit_belongs_to_the_manager_of_that_unit(api_as, cast, body, org):
    from accounts.choices import Role
    from conftest import make_user

    north_manager = make_user("north_manager", (Role.MANAGER, org.north))
    case = _service_case(body, org)
    created = api_as(cast.supervisor).post(
        "/improvement/plans", plan_body(tracking_numbers=[case.tracking_no], org_unit=org.store_bj.pk)
    )
    pk = created.json()["id"]
    # the unit is the north manager's even though the linked case is not
    assert patch(api_as(north_manager), f"/improvement/plans/{pk}", {"title": "北区整改"}).status_code == 200


def test_a_supervisor_keeps_the_plans_they_created_only_while_the_cases_are_in_their_departments(
    api_as, cast, body, org
):
    from complaints import actions
    from complaints.ledgering import Actor

    case = _service_case(body, org)
    pk = (
        api_as(cast.supervisor)
        .post("/improvement/plans", plan_body(tracking_numbers=[case.tracking_no], owner="manager"))
        .json()["id"]
    )
    assert patch(api_as(cast.supervisor), f"/improvement/plans/{pk}", {"title": "一"}).status_code == 200
    actions.assign(
        actions.accept(case, actor=Actor.staff(cast.supervisor)), actor=Actor.staff(cast.supervisor),
        department=org.quality,
    )  # fmt: skip
    assert patch(api_as(cast.supervisor), f"/improvement/plans/{pk}", {"title": "二"}).status_code == 403
    assert patch(api_as(cast.quality_supervisor), f"/improvement/plans/{pk}", {"title": "三"}).status_code == 403
