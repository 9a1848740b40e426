"""The statutory calculator: the arithmetic the issue pins, and each rule's conditions and exceptions.
Every result names the rule it came from."""

from datetime import date
from decimal import Decimal

import pytest

from core.errors import ValidationError
from resolutions import statutory


@pytest.mark.parametrize(("price", "expected"), [("99", "500.00"), ("300", "900.00"), ("166.66", "500.00"),
                                                 ("166.67", "500.01"), ("0", "500.00")])  # fmt: skip
def test_fraud_is_three_times_the_price_at_least_500(price, expected):
    result = statutory.crpl_55_fraud(Decimal(price))
    assert result.amount == Decimal(expected)
    assert result.rule.code == "crpl_55" and "第五十五条" in str(result.rule.article)
    assert "消费者权益保护法" in str(result.rule.law) and "五百元" in str(result.rule.text)
    assert result.steps[0].startswith("价款")


def test_fraud_on_a_99_item_shows_the_minimum_step():
    result = statutory.crpl_55_fraud(Decimal("99"))
    assert result.steps == ["价款 99.00 元 × 3 = 297.00 元", "不足五百元，按五百元计：500.00 元"]
    assert any("法律另有规定" in note for note in result.notes)


@pytest.mark.parametrize(("price", "expected"), [("50", "1000.00"), ("300", "3000.00"), ("100", "1000.00")])
def test_non_compliant_food_is_ten_times_the_price_at_least_1000(price, expected):
    result = statutory.food_safety_148(Decimal(price))
    assert result.amount == Decimal(expected) and result.applies
    assert result.rule.code == "food_148" and "食品安全法" in str(result.rule.law)


def test_food_takes_three_times_the_loss_when_that_is_higher():
    result = statutory.food_safety_148(Decimal("20"), Decimal("2000"))
    assert result.amount == Decimal("6000.00")
    assert "损失 2,000.00 元 × 3 = 6,000.00 元" in result.steps
    lower_loss = statutory.food_safety_148(Decimal("300"), Decimal("100"))
    assert lower_loss.amount == Decimal("3000.00")  # 10 x 300 beats 3 x 100


def test_food_labelling_defect_that_neither_harms_nor_misleads_gives_no_punitive_damages():
    result = statutory.food_safety_148(Decimal("300"), labelling_defect_only=True)
    assert not result.applies and result.amount == Decimal("0.00")


def test_no_reason_return_within_seven_days_of_receipt_for_a_distance_sale():
    day7 = statutory.crpl_25_no_reason_return(
        received_on=date(2025, 3, 1), asked_on=date(2025, 3, 8), price=Decimal("259")
    )
    assert day7.applies and day7.amount == Decimal("259.00") and day7.remedies == ["return_refund"]
    assert day7.rule.code == "crpl_25"
    day8 = statutory.crpl_25_no_reason_return(received_on=date(2025, 3, 1), asked_on=date(2025, 3, 9))
    assert not day8.applies and "七日" in day8.steps[-1]


@pytest.mark.parametrize("exception", list(statutory.ART_25_EXCEPTIONS))
def test_no_reason_return_exceptions(exception):
    result = statutory.crpl_25_no_reason_return(
        received_on=date(2025, 3, 1), asked_on=date(2025, 3, 2), exception=exception
    )
    assert not result.applies
    assert str(statutory.ART_25_EXCEPTIONS[exception]) in result.steps[-1]


def test_no_reason_return_needs_a_distance_sale_and_intact_goods():
    shop = statutory.crpl_25_no_reason_return(
        received_on=date(2025, 3, 1), asked_on=date(2025, 3, 2), distance_sale=False
    )
    damaged = statutory.crpl_25_no_reason_return(received_on=date(2025, 3, 1), asked_on=date(2025, 3, 2), intact=False)
    assert not shop.applies and not damaged.applies
    assert "完好" in damaged.steps[-1]


def test_quality_defect_return_within_seven_days_then_replace_or_repair():
    early = statutory.crpl_24_quality(received_on=date(2025, 3, 1), asked_on=date(2025, 3, 5), price=Decimal("80"))
    assert early.remedies == ["return_refund", "replacement", "repair"] and early.amount == Decimal("80.00")
    late = statutory.crpl_24_quality(received_on=date(2025, 3, 1), asked_on=date(2025, 4, 1), price=Decimal("80"))
    assert late.remedies == ["replacement", "repair"] and late.amount is None
    terminable = statutory.crpl_24_quality(
        received_on=date(2025, 3, 1), asked_on=date(2025, 4, 1), termination_conditions_met=True
    )
    assert "return_refund" in terminable.remedies
    assert any("运输等必要费用" in n for n in early.notes)


@pytest.mark.parametrize("defence", list(statutory.PQL_41_DEFENCES))
def test_each_product_quality_defence_relieves_the_producer(defence):
    result = statutory.pql_41_defences([defence])
    assert not result.applies and result.rule.code == "pql_41"
    assert str(statutory.PQL_41_DEFENCES[defence]) in result.steps[0]


def test_without_a_defence_the_producer_is_liable():
    result = statutory.pql_41_defences([])
    assert result.applies and result.remedies == ["compensation"]


def test_calculate_parses_form_input_and_refuses_bad_input():
    assert statutory.calculate("crpl_55", {"price": "99"}).amount == Decimal("500.00")
    assert statutory.calculate("food_148", {"price": "50", "loss": ""}).amount == Decimal("1000.00")
    assert (
        statutory.calculate(
            "crpl_25", {"received_on": "2025-03-01", "asked_on": "2025-03-03", "distance_sale": "0"}
        ).applies
        is False
    )
    for rule, values, field in [
        ("crpl_55", {"price": "-1"}, "price"),
        ("crpl_55", {"price": "abc"}, "price"),
        ("crpl_55", {"price": "99999999999"}, "price"),
        ("crpl_55", {"price": "1.001"}, "price"),
        ("food_148", {"price": "10", "loss": "x"}, "loss"),
        ("crpl_25", {"received_on": "yesterday", "asked_on": "2025-03-03"}, "received_on"),
        ("crpl_25", {"received_on": "2025-03-01", "asked_on": "2025-03-03", "exception": "??"}, "exception"),
        ("pql_41", {"defences": ["force_majeure"]}, "defences"),
        ("nope", {}, "rule"),
    ]:
        with pytest.raises(ValidationError) as refused:
            statutory.calculate(rule, values)
        assert field in refused.value.errors, (rule, values)


def test_every_result_serialises_with_its_rule():
    data = statutory.crpl_55_fraud(Decimal("300")).as_dict()
    assert data["amount"] == "900.00" and data["currency"] == "CNY"
    assert data["rule"]["code"] == "crpl_55" and data["rule"]["article"] == "第五十五条第一款"
