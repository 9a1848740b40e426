"""Care actions (关怀): the rule gives a valued customer's serious complaint a manager's call, once,
to the nearest manager, due on a working day; staff create and finish them by hand, on the ledger."""

from datetime import datetime

import pytest
import time_machine
from django.utils import timezone

from accounts.choices import Role
from complaints import actions
from complaints.ledgering import Actor
from complaints.models import Complaint
from complaints.tests.clock import _fresh_calendar, at, eod  # noqa: F401 (the fixture is used by name)
from conftest import make_user
from customers.actions import cancel_care_action, complete_care_action, create_care_action
from customers.events import on_case_event
from customers.models import CareAction
from ledger.models import LedgerEvent

from .conftest import logged_in, orders, submit

pytestmark = pytest.mark.django_db


def accepted(cast, body, org, *, severity="serious", **overrides):  # type: ignore[no-untyped-def]
    complaint = submit(body, org_unit=org.store_sz.pk, **overrides)
    return actions.accept(complaint, actor=Actor.staff(cast.supervisor), severity=severity)


def gold(body, org):  # type: ignore[no-untyped-def]
    """张三 becomes a gold customer (12 orders this year) before complaining again."""
    first = submit(body, org_unit=org.store_sz.pk)
    orders(first.customer, 12, "100")
    return first.customer


def test_a_gold_customers_serious_complaint_gets_a_manager_call_due_the_next_working_day_after_the_holiday(
    cast, body, org
):
    # 30 September 2025, a Tuesday: 1–8 October are the National Day and Mid-Autumn holidays.
    with time_machine.travel(at(2025, 9, 30, 10), tick=False):
        customer = gold(body, org)
        complaint = accepted(cast, body, org)
        on_case_event(complaint.pk, "accept")
    care = CareAction.objects.get()
    assert care.customer_id == customer.pk and care.complaint_id == complaint.pk
    assert care.kind == "manager_call" and care.automatic and care.status == "open"
    assert care.assignee == cast.manager  # the manager of 华南区, above the 深圳南山店
    assert care.due_at == eod(2025, 10, 9)
    assert "金卡" in care.reason and "严重" in care.reason


def test_the_rule_fires_once_per_complaint_whatever_the_events(cast, body, org):
    gold(body, org)
    complaint = accepted(cast, body, org)
    for action in ("receive", "accept", "classify", "accept"):
        on_case_event(complaint.pk, action)
    assert CareAction.objects.filter(complaint=complaint).count() == 1


def test_the_rule_runs_after_commit_through_the_case_event_hook(cast, body, org, django_capture_on_commit_callbacks):
    gold(body, org)
    with django_capture_on_commit_callbacks(execute=True):
        complaint = accepted(cast, body, org)
    assert CareAction.objects.filter(complaint=complaint, automatic=True).count() == 1


def test_the_nearest_manager_is_chosen_over_one_higher_up(cast, body, org):
    store_manager = make_user("store_manager", (Role.MANAGER, org.store_sz))
    make_user("ceo", (Role.MANAGER, org.company))
    gold(body, org)
    complaint = accepted(cast, body, org)
    on_case_event(complaint.pk, "accept")
    assert CareAction.objects.get().assignee == store_manager


def test_without_an_org_unit_the_departments_supervisor_gets_the_call(cast, body, org):
    first = submit(body)
    orders(first.customer, 12, "100")
    complaint = actions.accept(submit(body), actor=Actor.staff(cast.supervisor), priority="P1")
    on_case_event(complaint.pk, "accept")
    assert CareAction.objects.get().assignee == cast.supervisor


def test_a_standard_customers_serious_complaint_gets_no_care_action(cast, body, org):
    complaint = accepted(cast, body, org)
    on_case_event(complaint.pk, "accept")
    assert not CareAction.objects.exists()


def test_a_gold_customers_minor_p3_complaint_gets_no_care_action(cast, body, org):
    gold(body, org)
    complaint = accepted(cast, body, org, severity="minor")
    on_case_event(complaint.pk, "accept")
    assert not CareAction.objects.exists()


def test_a_high_churn_risk_counts_like_a_high_tier(cast, body, org, settings):
    settings.COMPLAINTDESK_CARE_CHURN_THRESHOLD = 30
    submit(body, org_unit=org.store_sz.pk)
    submit(body, org_unit=org.store_sz.pk)
    complaint = accepted(cast, body, org)  # three recent complaints, open, one serious: 30 + 10 + 10
    on_case_event(complaint.pk, "accept")
    assert "流失风险" in CareAction.objects.get().reason


def test_the_rule_can_be_turned_off(cast, body, org, settings):
    settings.COMPLAINTDESK_CARE_RULE = False
    gold(body, org)
    complaint = accepted(cast, body, org)
    on_case_event(complaint.pk, "accept")
    assert not CareAction.objects.exists()


def test_creating_and_finishing_a_care_action_are_events_on_the_case_chain(cast, body, org):
    complaint = accepted(cast, body, org, severity="general")
    version = Complaint.objects.get(pk=complaint.pk).version
    care = create_care_action(
        complaint.customer,
        actor=Actor.staff(cast.supervisor),
        kind="gift",
        due_at=timezone.now() + timezone.timedelta(days=2),
        assignee=cast.agent,
        complaint=complaint,
        note="寄送礼品卡",
    )
    done = complete_care_action(care, actor=Actor.staff(cast.agent), note="已寄出，客户表示感谢")
    assert done.status == "done" and done.done_by == cast.agent
    events = list(LedgerEvent.objects.filter(complaint_id=complaint.pk).order_by("seq").values_list("action", "data"))
    assert [a for a, _d in events][-2:] == ["care_create", "care_done"]
    assert events[-1][1]["care_action"] == care.pk
    assert "已寄出" not in str(events[-1][1])  # the note is encrypted
    assert Complaint.objects.get(pk=complaint.pk).version == version + 2
    from ledger.verify import verify

    assert verify().ok


def test_a_care_action_cannot_be_finished_twice_nor_by_a_stranger(cast, body, org):
    complaint = accepted(cast, body, org, severity="general")
    care = create_care_action(
        complaint.customer, actor=Actor.staff(cast.agent), kind="visit", due_at=timezone.now(), assignee=cast.agent
    )
    from django.core.exceptions import PermissionDenied

    from core.errors import ValidationError

    with pytest.raises(PermissionDenied):
        complete_care_action(care, actor=Actor.staff(cast.outsider), note="不是我的")
    with pytest.raises(ValidationError) as no_note:
        complete_care_action(care, actor=Actor.staff(cast.agent), note="")
    assert "done_note" in no_note.value.errors
    cancel_care_action(care, actor=Actor.staff(cast.agent))
    with pytest.raises(ValidationError) as twice:
        complete_care_action(care, actor=Actor.staff(cast.agent), note="已拜访")
    assert "status" in twice.value.errors


def test_bad_care_action_input_is_refused_field_by_field(cast, body, org):
    from core.errors import ValidationError

    complaint = accepted(cast, body, org, severity="general")
    other = submit(body, complainant_phone="139 0000 2222", complainant_email="")
    with pytest.raises(ValidationError) as refused:
        create_care_action(
            complaint.customer,
            actor=Actor.staff(cast.agent),
            kind="bribe",
            due_at=datetime(2000, 1, 1, tzinfo=timezone.get_default_timezone()),
            complaint=other,
            note="x" * 3000,
        )
    assert set(refused.value.errors) == {"kind", "due_at", "complaint", "note"}
    assert not CareAction.objects.exists()


# --- the pages -------------------------------------------------------------------------------------


def test_staff_create_a_care_action_on_the_profile_and_finish_it_from_my_list(cast, case):
    client = logged_in(cast.agent)
    response = client.post(
        f"/staff/customers/{case.customer_id}/care/",
        {"kind": "manager_call", "tracking_no": case.tracking_no, "assignee": "agent2", "note": "请致电安抚"},
    )
    assert response.status_code == 302
    care = CareAction.objects.get()
    assert care.assignee == cast.agent2 and care.complaint_id == case.pk and not care.automatic
    mine = logged_in(cast.agent2).get("/staff/customers/care/").content.decode()
    assert f'id="my-care-{care.pk}"' in mine
    assert f'id="my-care-{care.pk}"' not in logged_in(cast.agent).get("/staff/customers/care/").content.decode()
    done = logged_in(cast.agent2).post(f"/staff/customers/care/{care.pk}/done/", {"note": "已致电", "next": "mine"})
    assert done.status_code == 302
    care.refresh_from_db()
    assert care.status == "done" and care.done_note == "已致电"


def test_the_care_form_names_the_bad_fields(cast, case):
    response = logged_in(cast.agent).post(
        f"/staff/customers/{case.customer_id}/care/",
        {"kind": "", "assignee": "nobody", "due_on": "明天", "tracking_no": "TS20990101-000001"},
    )
    page = response.content.decode()
    assert response.status_code == 400
    for field in ("kind", "assignee", "due_on", "tracking_no"):
        assert f'id="care-error-{field}"' in page
    assert not CareAction.objects.exists()


def test_care_pages_refuse_anonymous_analysts_and_other_departments(cast, case):
    url = f"/staff/customers/{case.customer_id}/care/"
    from django.test import Client

    assert Client().post(url, {"kind": "gift"}).status_code == 302
    assert logged_in(cast.analyst).post(url, {"kind": "gift"}).status_code == 403  # sees the profile, may not write
    assert logged_in(cast.outsider).post(url, {"kind": "gift"}).status_code == 404  # may not open it: as if missing
    assert logged_in(cast.admin).post(url, {"kind": "gift"}).status_code == 403  # never opens profiles
    assert logged_in(cast.admin).get("/staff/customers/care/").status_code == 403
    care = create_care_action(
        case.customer, actor=Actor.staff(cast.agent), kind="visit", due_at=timezone.now(), assignee=cast.agent
    )
    done = f"/staff/customers/care/{care.pk}/done/"
    assert logged_in(cast.outsider).post(done, {"note": "完成"}).status_code == 404
    assert logged_in(cast.outsider).post("/staff/customers/care/999999/done/", {"note": "完成"}).status_code == 404
    assert logged_in(cast.analyst).post(done, {"note": "完成"}).status_code == 403
    assert logged_in(cast.admin).post(done, {"note": "完成"}).status_code == 403
    assert not CareAction.objects.exclude(status="open").exists()


def test_the_case_timeline_names_the_care_events(cast, case):
    care = create_care_action(
        case.customer,
        actor=Actor.staff(cast.agent),
        kind="gift",
        due_at=timezone.now(),
        assignee=cast.agent,
        complaint=case,
        note="礼品卡",
    )
    complete_care_action(care, actor=Actor.staff(cast.agent), note="已寄出")
    page = logged_in(cast.agent).get(f"/staff/cases/{case.tracking_no}/").content.decode()
    assert "创建关怀任务" in page and "关怀任务完成" in page


def test_no_care_action_can_be_tied_to_an_archived_complaint(cast, case):
    from core.errors import ValidationError

    Complaint.objects.filter(pk=case.pk).update(status="archived")
    case.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        create_care_action(
            case.customer, actor=Actor.staff(cast.agent), kind="gift", due_at=timezone.now(), complaint=case
        )
    assert set(refused.value.errors) == {"complaint"}
    assert not LedgerEvent.objects.filter(complaint_id=case.pk, action="care_create").exists()


# --- who may be given a care action, and who may finish it (review fix B) ---------------------------


def _new_care(customer, actor, assignee, complaint=None):  # type: ignore[no-untyped-def]
    return create_care_action(
        customer,
        actor=Actor.staff(actor),
        kind="gift",
        due_at=timezone.now() + timezone.timedelta(days=2),
        assignee=assignee,
        complaint=complaint,
        note="礼品卡",
    )


@pytest.mark.parametrize("who", ["analyst", "handler", "outsider", "admin", "auditor"])
def test_a_care_action_cannot_be_given_to_someone_who_may_not_work_on_the_profile(cast, case, who):
    from core.errors import ValidationError

    with pytest.raises(ValidationError) as refused:
        _new_care(case.customer, cast.agent, getattr(cast, who), complaint=case)
    assert set(refused.value.errors) == {"assignee"}
    assert who in refused.value.errors["assignee"]
    assert not CareAction.objects.exists()
    assert not LedgerEvent.objects.filter(complaint_id=case.pk, action="care_create").exists()


def test_the_assignee_must_see_the_case_the_care_action_belongs_to(cast, case, body, org):
    from core.errors import ValidationError

    # The logistics agent works on another case of 张三: they may open the profile as a writer ...
    other = submit(body)
    Complaint.objects.filter(pk=other.pk).update(department=org.logistics)
    _new_care(case.customer, cast.agent, cast.outsider)  # ... so a care action of no case is fine,
    with pytest.raises(ValidationError) as refused:  # but not one on the service case they do not see
        _new_care(case.customer, cast.agent, cast.outsider, complaint=case)
    assert set(refused.value.errors) == {"assignee"} and case.tracking_no in refused.value.errors["assignee"]


def test_the_care_form_names_the_assignee_who_may_not_take_it(cast, case):
    response = logged_in(cast.agent).post(
        f"/staff/customers/{case.customer_id}/care/",
        {"kind": "gift", "tracking_no": case.tracking_no, "assignee": "analyst", "note": "请回访"},
    )
    assert response.status_code == 400 and 'id="care-error-assignee"' in response.content.decode()
    assert not CareAction.objects.exists()


def test_an_assignee_who_no_longer_sees_the_case_cannot_finish_its_care_action(cast, case, org):
    from django.core.exceptions import PermissionDenied

    care = _new_care(case.customer, cast.agent, cast.agent2, complaint=case)
    Complaint.objects.filter(pk=case.pk).update(department=org.logistics, owner=None)
    with pytest.raises(PermissionDenied):
        complete_care_action(care, actor=Actor.staff(cast.agent2), note="已寄出")
    assert logged_in(cast.agent2).post(f"/staff/customers/care/{care.pk}/done/", {"note": "已寄出"}).status_code == 404
    care.refresh_from_db()
    assert care.status == "open"
    assert not LedgerEvent.objects.filter(complaint_id=case.pk, action="care_done").exists()


@pytest.mark.parametrize("state", ["archived", "merged"])
def test_a_care_action_of_an_archived_or_merged_case_cannot_be_finished(cast, case, state):
    from core.errors import ValidationError

    care = _new_care(case.customer, cast.agent, cast.agent, complaint=case)
    Complaint.objects.filter(pk=case.pk).update(status=state)
    for finish in (complete_care_action, cancel_care_action):
        with pytest.raises(ValidationError) as refused:
            finish(care, actor=Actor.staff(cast.agent), note="已寄出")
        assert set(refused.value.errors) == {"complaint"} and case.tracking_no in refused.value.errors["complaint"]
    page = logged_in(cast.agent).post(f"/staff/customers/care/{care.pk}/done/", {"note": "已寄出"})
    assert page.status_code == 400 and 'id="care-finish-error-complaint"' in page.content.decode()
    care.refresh_from_db()
    assert care.status == "open"
    assert not LedgerEvent.objects.filter(complaint_id=case.pk, action__in=["care_done", "care_cancel"]).exists()


# --- lock order (review fix C) ------------------------------------------------------------------------


def test_finishing_a_care_action_locks_the_case_before_the_care_action(cast, case):
    """Every write locks the case first; finishing a care action must too, or two writers wait on each
    other in opposite order (a deadlock on PostgreSQL). SQLite has no row locks, so the order of the
    reads that take them on PostgreSQL is checked: the case row, then the full care-action row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    care = _new_care(case.customer, cast.agent, cast.agent, complaint=case)
    with CaptureQueriesContext(connection) as captured:
        complete_care_action(care, actor=Actor.staff(cast.agent), note="已寄出")
    sql = [q["sql"] for q in captured]
    first_case = next(i for i, s in enumerate(sql) if s.startswith("SELECT") and 'FROM "complaints_complaint"' in s)
    care_row = next(
        i for i, s in enumerate(sql) if 'FROM "customers_careaction"' in s and '"customers_careaction"."note"' in s
    )
    assert first_case < care_row
