"""Value tier from 12 months of orders, explained; churn-risk score from complaints, outcomes and
satisfaction, each factor with its points."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers import churn, jobs, tiers
from customers.actions import match_or_create_customer
from customers.models import Customer

from .conftest import orders

pytestmark = pytest.mark.django_db


@pytest.fixture
def someone():  # type: ignore[no-untyped-def]
    return match_or_create_customer(name="王小明", phone="+8613812345678", email="")


@pytest.mark.parametrize(
    ("spend", "count", "tier"),
    [
        ("0", 0, "standard"),
        ("4999.99", 4, "standard"),
        ("5000", 1, "silver"),
        ("10", 5, "silver"),
        ("20000", 1, "gold"),
        ("10", 12, "gold"),
        ("100000", 1, "vip"),
        ("10", 30, "vip"),
    ],
)
def test_the_tier_is_the_highest_reached_by_spend_or_order_count(spend, count, tier):
    assert tiers.classify(Decimal(spend), count) == tier


def test_thresholds_come_from_settings(settings):
    settings.COMPLAINTDESK_TIER_GOLD_SPEND = "1000"
    assert tiers.classify(Decimal("1000"), 1) == "gold"


def test_the_tier_counts_only_the_last_twelve_months_and_says_why(someone):
    orders(someone, 14, "2728.57", days_ago=30)
    orders(someone, 10, "50000", days_ago=400, prefix="OLD")
    tier = tiers.tier_of(someone.pk)
    assert tier.tier == "gold"
    assert tier.orders == 14
    assert tier.why == "12 个月消费 ¥38,200，订单 14 笔 → 金卡"


def test_other_currencies_count_as_orders_but_not_as_spend(someone):
    from customers.models import Order

    Order.objects.create(
        customer=someone, order_no="USD-1", ordered_at=timezone.now(), amount=Decimal("50000"), currency="USD"
    )
    tier = tiers.tier_of(someone.pk)
    assert (tier.spend, tier.orders, tier.tier) == (Decimal(0), 1, "standard")


def test_the_daily_job_stores_tiers_once_a_day(someone):
    orders(someone, 30, "10")
    assert jobs.refresh_value_tiers() == 1
    someone.refresh_from_db()
    assert someone.value_tier == "vip" and someone.tier_refreshed_on == timezone.localdate()
    assert jobs.refresh_value_tiers() == 0


def test_a_customer_without_history_has_no_churn_risk():
    result = churn.score([], [])
    assert result.score == 0 and result.factors == [] and result.level == "low"


def _complaint(**kw):  # type: ignore[no-untyped-def]
    base = {
        "id": 1,
        "received_at": timezone.now() - timedelta(days=5),
        "severity": "general",
        "status": "closed",
        "reopen_count": 0,
        "nature": "",
        "refusal_reason": "",
        "external_route": "",
    }
    return {**base, **kw}


def test_each_churn_factor_is_listed_with_its_points():
    complaints = [
        _complaint(id=1, severity="major", status="in_progress"),
        _complaint(id=2, severity="serious", reopen_count=1, refusal_reason="金额太低"),
        _complaint(
            id=3, received_at=timezone.now() - timedelta(days=200), external_route="regulator", nature="unfounded"
        ),
    ]
    answers = [
        {"outcome": 1, "handling": 3, "solved": "no"},
        {"outcome": 4, "handling": 4, "solved": "partly"},
    ]
    result = churn.score(complaints, answers)
    points = {f["code"]: (f["count"], f["points"]) for f in result.factors}
    assert points == {
        "recent": (2, 20),
        "serious": (1, 10),
        "major": (1, 15),
        "open": (1, 5),
        "reopened": (1, 10),
        "not_upheld": (1, 10),
        "refused": (1, 10),
        "external": (1, 15),
        "low_score": (1, 10),
        "not_solved": (1, 10),
        "partly_solved": (1, 5),
    }
    assert result.score == 100  # 120 points, capped
    assert result.level == "high"


def test_factors_are_capped_so_one_kind_cannot_fill_the_score():
    result = churn.score([_complaint(id=i) for i in range(8)], [])
    assert result.factors == [{"code": "recent", "label": "90 天内投诉", "count": 8, "points": 30}]
    assert result.level == "medium"


def test_old_complaints_do_not_count_as_recent():
    result = churn.score([_complaint(received_at=timezone.now() - timedelta(days=91))], [])
    assert result.score == 0


def test_churn_of_reads_the_customers_real_complaints(cast, case):
    result = churn.churn_of(case.customer_id)
    assert {f["code"] for f in result.factors} == {"recent", "open"}
    assert result.score == 15
    assert Customer.objects.count() == 1
