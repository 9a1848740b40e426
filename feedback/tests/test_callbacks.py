"""Call-backs (回访): chosen at closing by the rules (P1–P2, compensation, a stable 10 % sample), due
7 days after closing for the case owner (or the department's supervisor); the outcome recorded as a
ledger event, retried when nobody answered, and a new issue opening a linked complaint."""

from datetime import timedelta
from decimal import Decimal

import pytest

from complaints.ledgering import Actor
from complaints.models import Complaint
from feedback import actions
from feedback.models import Callback, CallbackRule
from ledger.models import LedgerEvent

from .conftest import case_in_progress, closed_case, resolve_and_close

SEED = "complaintdesk-callback-1"


def _numbers(n: int) -> list[str]:
    return [f"TS20250101-{i:06d}" for i in range(1, n + 1)]


def test_the_default_callback_rules_are_seeded(db):
    rules = list(CallbackRule.objects.values_list("kind", "priorities", "percent", "seed"))
    assert rules == [
        ("priority", ["P1", "P2"], Decimal("0.00"), ""),
        ("compensation", [], Decimal("0.00"), ""),
        ("sample", [], Decimal("10.00"), SEED),
    ]


def test_the_sample_chooses_the_same_cases_every_run():
    chosen = [no for no in _numbers(40) if actions.sample_hit(no, SEED, Decimal(10))]
    assert chosen == ["TS20250101-000027", "TS20250101-000038"]


def test_the_sample_is_about_ten_percent_of_a_thousand_cases():
    chosen = sum(actions.sample_hit(no, SEED, Decimal(10)) for no in _numbers(1000))
    assert 80 <= chosen <= 120
    other_seed = {no for no in _numbers(1000) if actions.sample_hit(no, "another-seed", Decimal(10))}
    assert other_seed != {no for no in _numbers(1000) if actions.sample_hit(no, SEED, Decimal(10))}
    assert not any(actions.sample_hit(no, SEED, Decimal(0)) for no in _numbers(1000))
    assert all(actions.sample_hit(no, SEED, Decimal(100)) for no in _numbers(1000))


@pytest.fixture
def no_sample(db):  # type: ignore[no-untyped-def]
    CallbackRule.objects.filter(kind="sample").update(percent=0)


def test_a_p1_case_gets_a_call_back_for_its_owner_seven_days_after_closing(
    cast, body, org, no_sample, django_capture_on_commit_callbacks
):
    case = closed_case(cast, body, org, django_capture_on_commit_callbacks, priority="P1")
    callback = Callback.objects.get(complaint=case)
    assert callback.assignee == cast.agent and callback.source == "rule"
    assert callback.reason == "P1–P2 投诉全部回访"
    assert callback.due_at == case.closed_at + timedelta(days=7)


def test_a_p3_case_without_compensation_outside_the_sample_gets_none(
    cast, body, org, no_sample, django_capture_on_commit_callbacks
):
    closed_case(cast, body, org, django_capture_on_commit_callbacks)
    assert not Callback.objects.exists()


def test_a_case_with_paid_compensation_gets_a_call_back(cast, body, org, no_sample, django_capture_on_commit_callbacks):
    from resolutions import actions as remedies

    case = case_in_progress(cast, body, org_unit=org.store_sz.pk)
    remedy = remedies.add_remedy(case, actor=Actor.staff(cast.agent), kind="compensation", amount="150.00")
    remedies.mark_remedy_paid(remedy, actor=Actor.staff(cast.agent), reference="TX-1")
    resolve_and_close(case, cast.agent, django_capture_on_commit_callbacks)
    assert Callback.objects.get(complaint=case).reason == "有赔偿/补偿的投诉全部回访"


def test_the_sample_rule_chooses_by_tracking_number(cast, body, org, django_capture_on_commit_callbacks):
    CallbackRule.objects.filter(kind="sample").update(percent=100)
    case = closed_case(cast, body, org, django_capture_on_commit_callbacks)
    assert Callback.objects.get(complaint=case).reason == "其余投诉随机抽查 10%"


def test_without_an_active_owner_the_supervisor_gets_the_call_back(
    cast, body, org, no_sample, django_capture_on_commit_callbacks
):
    case = closed_case(cast, body, org, django_capture_on_commit_callbacks)
    Callback.objects.all().delete()
    type(cast.agent).objects.filter(pk=cast.agent.pk).update(is_active=False)
    complaint = Complaint.objects.select_related("owner").get(pk=case.pk)
    callback = actions.create_callback(complaint, source="rule", reason="test")
    assert callback.assignee == cast.supervisor


def test_with_several_supervisors_the_one_with_the_lowest_id_gets_the_call_back(
    cast, body, org, no_sample, monkeypatch, django_capture_on_commit_callbacks
):
    """The supervisors come from a DISTINCT join without ORDER BY, in whatever order the database
    likes (PostgreSQL varies it); the pick must not depend on that order."""
    from accounts.choices import Role
    from conftest import make_user

    second = make_user("supervisor2", (Role.SUPERVISOR, org.service))
    case = closed_case(cast, body, org, django_capture_on_commit_callbacks)
    Callback.objects.all().delete()
    type(cast.agent).objects.filter(pk=cast.agent.pk).update(is_active=False)
    complaint = Complaint.objects.select_related("owner").get(pk=case.pk)
    real = actions._supervisors
    monkeypatch.setattr(actions, "_supervisors", lambda c: list(reversed(real(c))))  # the other order
    first = actions.create_callback(complaint, source="rule", reason="test")
    monkeypatch.setattr(actions, "_supervisors", real)
    again = actions.create_callback(complaint, source="rule", reason="test")
    assert first.assignee == again.assignee == min(cast.supervisor, second, key=lambda u: u.pk)


@pytest.fixture
def callback(cast, body, org, no_sample, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    case = closed_case(cast, body, org, django_capture_on_commit_callbacks, priority="P2")
    return Callback.objects.select_related("complaint").get(complaint=case)


def test_not_reached_counts_an_attempt_and_stays_open_for_a_retry(cast, callback):
    outcome = actions.check_outcome(False, None, "无人接听", "")
    actions.record_callback(callback, actor=Actor.staff(cast.agent), outcome=outcome)
    callback.refresh_from_db()
    assert (callback.status, callback.attempts, callback.reached) == ("open", 1, False)
    outcome = actions.check_outcome(True, True, "客户表示满意", "")
    actions.record_callback(callback, actor=Actor.staff(cast.agent), outcome=outcome)
    callback.refresh_from_db()
    assert (callback.status, callback.attempts, callback.satisfied) == ("done", 2, True)
    events = list(LedgerEvent.objects.filter(complaint=callback.complaint, action="record_callback").order_by("seq"))
    assert [e.data["reached"] for e in events] == [False, True]
    assert "客户表示满意" not in str(events[1].data)  # the note is encrypted


def test_a_done_call_back_takes_no_second_outcome(cast, callback):
    actions.record_callback(callback, actor=Actor.staff(cast.agent), outcome=actions.check_outcome(True, False, "", ""))
    with pytest.raises(actions.ValidationError) as refused:
        actions.record_callback(
            callback, actor=Actor.staff(cast.agent), outcome=actions.check_outcome(True, True, "", "")
        )
    assert list(refused.value.errors) == ["callback"]


def test_a_new_issue_opens_a_linked_phone_complaint_for_the_same_complainant(cast, callback):
    outcome = actions.check_outcome(True, False, "客户反映新问题", "新换的电热水壶底座有异响，要求检测。")
    actions.record_callback(callback, actor=Actor.staff(cast.agent), outcome=outcome)
    callback.refresh_from_db()
    linked = callback.linked_complaint
    original = callback.complaint
    assert linked is not None and linked.pk != original.pk
    assert linked.channel == "phone" and linked.status == "new"
    assert (linked.complainant_phone, linked.complainant_email) == (
        original.complainant_phone,
        original.complainant_email,
    )
    assert original.tracking_no in linked.description and "底座有异响" in linked.description
    assert linked.customer_id == original.customer_id
    event = LedgerEvent.objects.get(complaint=original, action="record_callback")
    assert event.data["linked_tracking_no"] == linked.tracking_no


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((None, None, "", ""), "reached"),
        ((True, None, "", ""), "satisfied"),
        ((False, None, "", "又有新问题需要处理"), "new_issue"),
        ((True, True, "", "短"), "new_issue"),
        ((True, True, "x" * 5001, ""), "note"),
    ],
)
def test_a_bad_outcome_is_refused_naming_the_field(args, field):
    with pytest.raises(actions.ValidationError) as refused:
        actions.check_outcome(*args)
    assert field in refused.value.errors
