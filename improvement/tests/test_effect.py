"""The effect measurement: equal windows before and after completion, the exact conditional test, the
sentence on the plan, per 10,000 orders where orders give the volume, and incomplete windows."""

from datetime import timedelta

import pytest
import time_machine
from scipy.stats import binomtest

from complaints.models import Category
from improvement.effect import binomial_p, measure
from improvement.models import ImprovementPlan
from investigation.models import RootCause

from .conftest import at, new_case

DONE = at(2026, 3, 2, 12)


def _plan(cast, **scope):  # type: ignore[no-untyped-def]
    return ImprovementPlan.objects.create(
        title="t", root_cause=RootCause.objects.get(code="manufacturing"), action="a", owner=cast.supervisor,
        due_date=DONE.date(), status="done", completed_at=DONE, created_by=cast.supervisor, **scope,
    )  # fmt: skip


def _cases(body, count: int, start, **overrides) -> None:  # type: ignore[no-untyped-def]
    for i in range(count):
        new_case(body, received_at=start + timedelta(hours=7 * i + 1), **overrides)


def test_the_conditional_binomial_test_matches_scipy_and_is_one_without_complaints():
    assert binomial_p(30, 10, 0.5) == pytest.approx(binomtest(10, 40, 0.5).pvalue)
    assert binomial_p(0, 0, 0.5) == 1.0


def test_a_clear_drop_in_scope_is_reported_as_significant(cast, body):
    quality = Category.objects.get(code="product_quality")
    plan = _plan(cast, category=quality)
    _cases(body, 30, DONE - timedelta(weeks=7))
    _cases(body, 8, DONE + timedelta(days=1))
    _cases(body, 20, DONE + timedelta(days=1), category="service")  # outside the scope: not counted
    effect = measure(plan, now=DONE + timedelta(weeks=9))
    assert (effect["before"], effect["after"], effect["unit"]) == (30, 8, "day")
    assert effect["p_value"] == pytest.approx(binomtest(8, 38, 0.5).pvalue, abs=1e-4)
    assert effect["significant"] and effect["change_percent"] == pytest.approx(-73.3, abs=0.1)
    assert effect["sentence"].startswith("投诉率下降 73%") and "效果显著" in effect["sentence"]


def test_a_small_difference_cannot_be_confirmed(cast, body):
    plan = _plan(cast, product_sku="KT-1001")
    _cases(body, 6, DONE - timedelta(weeks=3))
    _cases(body, 5, DONE + timedelta(weeks=2))
    effect = measure(plan, now=DONE + timedelta(weeks=8, days=1))
    assert not effect["significant"] and effect["sentence"].startswith("尚不能确认效果（p = 1.000")


def test_an_incomplete_after_window_says_so_and_tests_nothing(cast, body):
    plan = _plan(cast)
    _cases(body, 3, DONE - timedelta(weeks=1))
    effect = measure(plan, now=DONE + timedelta(weeks=3))
    assert effect["complete"] is False and effect["p_value"] is None and "尚未结束" in effect["sentence"]


def test_no_complaints_in_either_window_is_said_plainly(cast, body):
    plan = _plan(cast, product_sku="NOTHING")
    effect = measure(plan, now=DONE + timedelta(weeks=10))
    assert effect["p_value"] is None and "都没有该范围的投诉" in effect["sentence"]


def test_the_rate_is_per_ten_thousand_orders_when_orders_give_the_volume(cast, body):
    from customers.models import Customer, Order
    from ledger.crypto import new_subject_key

    customer = Customer.objects.create(name="买家", subject_key=new_subject_key())
    for i in range(40):  # 10 orders before, 30 after: the volume tripled
        Order.objects.create(
            customer=customer, order_no=f"O{i}", product_sku="KT-1001", amount=100,
            ordered_at=DONE - timedelta(days=20) if i < 10 else DONE + timedelta(days=20),
        )  # fmt: skip
    plan = _plan(cast, product_sku="KT-1001")
    _cases(body, 10, DONE - timedelta(weeks=4))
    _cases(body, 12, DONE + timedelta(weeks=1))
    effect = measure(plan, now=DONE + timedelta(weeks=9))
    assert effect["unit"] == "10000_orders"
    assert (effect["rate_before"], effect["rate_after"]) == (10000.0, 4000.0)
    assert effect["p_value"] == pytest.approx(binomtest(12, 22, 0.75).pvalue, abs=1e-4)
    assert effect["change_percent"] == -60.0


def test_the_plan_page_shows_the_sentence(cast, body):
    from .conftest import logged_in

    plan = _plan(cast, category=Category.objects.get(code="product_quality"))
    _cases(body, 30, DONE - timedelta(weeks=7))
    _cases(body, 5, DONE + timedelta(days=1))
    with time_machine.travel(DONE + timedelta(weeks=9), tick=False):
        page = logged_in(cast.analyst).get(f"/staff/improvement/plans/{plan.pk}/")
    assert page.status_code == 200 and "效果显著" in page.content.decode()


def test_orders_are_not_the_exposure_when_the_plan_also_narrows_by_category(cast, body):
    from customers.models import Customer, Order
    from ledger.crypto import new_subject_key

    customer = Customer.objects.create(name="买家", subject_key=new_subject_key())
    for i in range(40):  # company-wide orders of the SKU, which carry no category
        Order.objects.create(
            customer=customer, order_no=f"O{i}", product_sku="KT-1001", amount=100,
            ordered_at=DONE - timedelta(days=20) if i < 10 else DONE + timedelta(days=20),
        )  # fmt: skip
    plan = _plan(cast, product_sku="KT-1001", category=Category.objects.get(code="product_quality"))
    _cases(body, 10, DONE - timedelta(weeks=4))
    _cases(body, 12, DONE + timedelta(weeks=1))
    effect = measure(plan, now=DONE + timedelta(weeks=9))
    assert effect["unit"] == "day" and "orders_before" not in effect
    assert effect["p_value"] == pytest.approx(binomtest(12, 22, 0.5).pvalue, abs=1e-4)


def test_the_change_is_computed_from_exact_rates_not_the_rounded_ones(cast, body):
    plan = _plan(cast)
    _cases(body, 3, DONE - timedelta(weeks=2))
    _cases(body, 1, DONE + timedelta(weeks=1))
    effect = measure(plan, now=DONE + timedelta(weeks=9))
    # 3 and 1 complaints in 56 days each: -66.67 %; from rates rounded to 4 places it would be -66.6 %
    assert effect["change_percent"] == -66.7
    assert (effect["rate_before"], effect["rate_after"]) == (0.0536, 0.0179)
