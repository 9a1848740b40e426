"""`complaintdesk seed_demo` (DESIGN.md §12): a demo organisation and complaints made through the real
actions, over every state, channel, category and priority, with chains that verify."""

import random
from collections import defaultdict
from datetime import datetime, time, timedelta
from io import StringIO
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.choices import Role
from accounts.models import Department, Membership, OrgUnit, User
from complaints import calendar, demo
from complaints.choices import Channel, Priority, Status
from complaints.models import Category, Complaint, RoutingRule
from ledger.chain import GENESIS, event_hash
from ledger.models import LedgerEvent


def test_seed_demo(db):  # type: ignore[no-untyped-def]
    """One run (seeding is the slow part), checked from every side."""
    out = StringIO()
    call_command("seed_demo", count=60, stdout=out)
    check_every_state_channel_category_and_priority()
    check_org_users_and_documented_password(out.getvalue())
    check_ledger_chains()
    check_classifier_active_with_predictions(out.getvalue())
    check_if_empty_does_nothing_the_second_time()


def check_every_state_channel_category_and_priority() -> None:
    demo_cases = Complaint.objects.filter(is_demo=True)
    assert demo_cases.count() == 60
    assert set(demo_cases.values_list("status", flat=True)) == set(Status.values)
    assert set(demo_cases.values_list("channel", flat=True)) == set(Channel.values)
    assert set(demo_cases.values_list("priority", flat=True)) == set(Priority.values)
    top_level = set(Category.objects.filter(parent=None).values_list("id", flat=True))
    assert set(demo_cases.values_list("category", flat=True)) >= top_level
    assert demo_cases.exclude(subcategory=None).exists()
    assert demo_cases.filter(language="en").exists() and demo_cases.filter(language="zh-hans").exists()
    assert demo_cases.filter(escalation_level__gt=0).exists()
    assert demo_cases.exclude(risk_flags=[]).exists()
    # spread over the last ~120 days, none in the future
    now = timezone.now()
    received = list(demo_cases.values_list("received_at", flat=True))
    assert max(received) <= now
    assert (now - min(received)).days >= 30
    assert LedgerEvent.objects.filter(created_at__gt=now).count() == 0


def check_classifier_active_with_predictions(printed: str) -> None:
    from intelligence.models import ClassifierModel, Prediction

    assert "Classifier: category model v1" in printed
    assert ClassifierModel.objects.filter(target="category", active=True).count() == 1
    new_cases = Complaint.objects.filter(is_demo=True, status="new")
    assert Prediction.objects.filter(complaint__in=new_cases, target="category").count() == new_cases.count() > 0


def check_org_users_and_documented_password(printed: str) -> None:
    assert Department.objects.get(code="service").is_default
    assert set(Department.objects.values_list("code", flat=True)) >= {
        "service",
        "quality",
        "logistics",
        "finance",
        "legal",
        "pr",
    }
    store = OrgUnit.objects.get(name="深圳南山店")
    assert (store.province_code, store.city_code, store.district_code) == ("440000", "440300", "440305")
    assert store.parent.name == "华南区" and store.parent.parent.name == demo.COMPANY
    assert RoutingRule.objects.filter(category__code="product_quality", department__code="quality").exists()
    usernames = [
        "demo_agent",
        "demo_agent2",
        "demo_supervisor",
        "demo_quality_agent",
        "demo_handler",
        "demo_legal",
        "demo_manager",
        "demo_analyst",
        "demo_auditor",
        "demo_admin",
    ]
    for username in usernames:
        user = User.objects.get(username=username)
        assert user.check_password("ComplaintDesk-2026!"), username
        assert user.memberships.exists(), username
    assert {m.role for m in Membership.objects.filter(user__username__startswith="demo_")} == set(Role.values)
    admin = User.objects.get(username="demo_admin")
    assert admin.is_staff and admin.is_superuser
    manager = Membership.objects.get(user__username="demo_manager")
    assert manager.role == Role.MANAGER and manager.org_unit.name == demo.COMPANY
    assert Membership.objects.get(user__username="demo_agent").department.code == "service"
    assert "demo_auditor" in printed and "ComplaintDesk-2026!" in printed  # the printed table


def check_ledger_chains() -> None:
    events = defaultdict(list)
    for event in LedgerEvent.objects.order_by("complaint_id", "seq"):
        events[event.complaint_id].append(event)
    for complaint in Complaint.objects.all():
        chain = events[complaint.pk]
        assert complaint.version == len(chain), complaint.tracking_no
        assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
        assert chain[0].action == "receive" and chain[0].prev_hash == GENESIS
        for before, after in pairwise(chain):
            assert after.prev_hash == before.hash, (complaint.tracking_no, after.seq)
            assert before.created_at <= after.created_at, (complaint.tracking_no, after.seq)
        for event in chain:
            assert event_hash(event) == event.hash, (complaint.tracking_no, event.seq)


def check_if_empty_does_nothing_the_second_time() -> None:
    counts = (Complaint.objects.count(), LedgerEvent.objects.count(), User.objects.count(), OrgUnit.objects.count())
    out = StringIO()
    call_command("seed_demo", if_empty=True, count=60, stdout=out)
    assert "nothing to do" in out.getvalue()
    after = (Complaint.objects.count(), LedgerEvent.objects.count(), User.objects.count(), OrgUnit.objects.count())
    assert after == counts


def test_organisation_is_idempotent(db):
    first = demo.ensure_org()
    second = demo.ensure_org()
    assert sum(first.created.values()) > 0
    assert sum(second.created.values()) == 0
    assert first.users["demo_agent"].pk == second.users["demo_agent"].pk


CST = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 11, 23, 2, 30, tzinfo=CST),  # a Monday before dawn
        datetime(2026, 11, 22, 12, 0, tzinfo=CST),  # a Sunday
        datetime(2026, 10, 4, 7, 59, tzinfo=CST),  # National Day week, before the desk opens
        datetime(2026, 2, 20, 23, 0, tzinfo=CST),  # Spring Festival holidays, at night
    ],
)
def test_stories_fit_in_the_past_whatever_the_hour(db, now):  # type: ignore[no-untyped-def]
    """Planning only (no actions): every story happens before `now`, in order, staff in their hours."""
    categories = {c.code: c for c in Category.objects.all()}
    specs = demo.build_specs(300, random.Random(5), now, categories)
    latest = now - timedelta(minutes=10)
    assert [s.received_at for s in specs] == sorted(s.received_at for s in specs)
    for spec in specs:
        moments = [spec.received_at, *spec.times]
        assert moments == sorted(moments) and moments[-1] <= latest, spec.status
        assert (now - spec.received_at).days <= 125
        assert spec.fields["occurred_at"] <= spec.received_at
        if "purchase_date" in spec.fields:
            assert spec.fields["purchase_date"] <= timezone.localdate(spec.received_at)
        assert demo.WHEN not in spec.fields["description"] + spec.fields["title"]
        for step, at in zip(spec.steps, spec.times, strict=True):
            local = timezone.localtime(at)
            if step.hours == "office":
                assert calendar.is_working_day(local.date()) and time(9) <= local.time() < time(18, 0), step.action
            elif step.hours == "desk":
                assert time(8) <= local.time() < time(22), step.action
        actions = [step.action for step in spec.steps]
        if "reopen" in actions:  # within the reopen window
            closed = spec.times[actions.index("close")]
            assert spec.times[actions.index("reopen")] - closed < timedelta(days=30)
        if spec.status == Status.CLOSED:  # younger than the automatic archiving
            assert now - spec.times[actions.index("close")] < timedelta(days=85)
