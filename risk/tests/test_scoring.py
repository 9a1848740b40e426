"""The scoring itself: bands from the edges, the axes' weighted means, the level from probability ×
impact, and which measures are left out when their inputs are unknown."""

from decimal import Decimal

import pytest

from analytics.sales import Sales
from risk import assess
from risk.assess import DEFAULT_EDGES, Figures, band, level_of, score, weighted_band
from risk.choices import Measure, RiskLevel, SubjectKind

EDGES = dict(DEFAULT_EDGES)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 1), (9.99, 1), (10, 2), (24, 2), (25, 3), (49, 3), (50, 4), (99, 4), (100, 5), (5000, 5)],
)
def test_a_value_at_an_edge_enters_the_next_band(value: float, expected: int) -> None:
    assert band(Measure.FREQUENCY_COUNT, value, (10, 25, 50, 100)) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(1.0, 1), (0.9, 1), (0.89, 2), (0.8, 2), (0.75, 3), (0.65, 4), (0.6, 4), (0.2, 5)]
)
def test_satisfaction_bands_count_down_because_lower_is_worse(value: float, expected: int) -> None:
    assert band(Measure.SATISFACTION, value, (0.6, 0.7, 0.8, 0.9)) == expected


def test_a_falling_trend_is_band_one_and_a_doubling_band_five() -> None:
    assert band(Measure.TREND, -0.5, EDGES[Measure.TREND]) == 1
    assert band(Measure.TREND, 0.0, EDGES[Measure.TREND]) == 2
    assert band(Measure.TREND, 1.0, EDGES[Measure.TREND]) == 5


def test_axes_are_weighted_means_rounded_half_up_and_unknown_bands_are_left_out() -> None:
    weights = assess.PROBABILITY_WEIGHTS  # frequency 2, trend 1
    assert weighted_band({"frequency": 1, "trend": 5}, weights) == 2  # 7/3 = 2.33
    assert weighted_band({"frequency": 2, "trend": 5}, weights) == 3  # 9/3
    assert weighted_band({"frequency": 3, "trend": 4}, weights) == 3  # 10/3 = 3.33
    assert weighted_band({"frequency": 4, "trend": 3}, weights) == 4  # 11/3 = 3.67
    assert weighted_band({"frequency": 4, "trend": None}, weights) == 4
    impact = assess.IMPACT_WEIGHTS
    assert weighted_band({"handling_hours": 2, "flagged_share": 1}, impact) == 2  # 1.5 rounds up
    assert weighted_band({"handling_hours": None, "satisfaction": None, "cost_ratio": None}, impact) is None


def test_level_comes_from_probability_times_impact_with_the_configured_cutoffs(settings) -> None:
    assert level_of(1, 4) == RiskLevel.LOW
    assert level_of(1, 5) == RiskLevel.MEDIUM
    assert level_of(2, 5) == RiskLevel.MEDIUM
    assert level_of(3, 4) == RiskLevel.MEDIUM
    assert level_of(3, 5) == RiskLevel.HIGH
    assert level_of(4, 4) == RiskLevel.HIGH
    settings.COMPLAINTDESK_RISK_MEDIUM_FROM = 4
    settings.COMPLAINTDESK_RISK_HIGH_FROM = 12
    assert level_of(1, 4) == RiskLevel.MEDIUM
    assert level_of(3, 4) == RiskLevel.HIGH


def _figures(**fields: object) -> Figures:
    defaults: dict[str, object] = {"kind": SubjectKind.PRODUCT, "key": "KT-1", "label": "KT-1"}
    defaults.update(fields)
    return Figures(**defaults)  # type: ignore[arg-type]


def test_without_sales_the_frequency_is_counted_and_cost_ratio_is_left_out() -> None:
    scored = score(_figures(cases=30, previous_cases=20, flagged=3), EDGES)
    m = scored.measures
    assert (m["frequency"]["threshold"], m["frequency"]["value"], m["frequency"]["band"]) == ("frequency_count", 30, 3)
    assert m["frequency"]["note"] == "no_sales"
    assert (m["trend"]["value"], m["trend"]["band"]) == (0.5, 4)
    assert (m["cost_ratio"]["value"], m["cost_ratio"]["note"]) == (None, "no_revenue")
    assert (m["flagged_share"]["value"], m["flagged_share"]["band"]) == (0.1, 3)
    # probability (2×3 + 4)/3 = 3.33 → 3; impact: only the share is known → 3; 9 → medium
    assert (scored.probability, scored.impact, scored.level) == (3, 3, RiskLevel.MEDIUM)


def test_with_sales_the_frequency_is_a_rate_the_trend_compares_rates_and_the_cost_ratio_counts_handling_cost(
    settings,
) -> None:
    settings.COMPLAINTDESK_RISK_HANDLING_COST_PER_HOUR = "200"
    figures = _figures(
        cases=20,
        previous_cases=20,
        flagged=0,
        resolved=10,
        handling_hours=12.5,  # 125 working hours in all → 25,000 CNY of handling
        satisfaction=0.75,
        answers=8,
        compensation=Decimal("5000.00"),
        sales=Sales(orders=40_000, revenue=Decimal("6000000")),
        previous_sales=Sales(orders=20_000, revenue=None),
    )
    scored = score(figures, EDGES)
    m = scored.measures
    assert (m["frequency"]["threshold"], m["frequency"]["value"], m["frequency"]["band"]) == ("frequency_rate", 5, 3)
    # The same count on twice the orders: the rate halved (−50 %), not "no change".
    assert (m["trend"]["value"], m["trend"]["band"], m["trend"]["note"]) == (-0.5, 1, "")
    assert m["handling_hours"]["band"] == 2
    assert m["satisfaction"]["band"] == 3
    assert scored.inputs["handling_cost"] == "25000.00"
    assert m["cost_ratio"]["value"] == 0.005  # (5,000 + 25,000) / 6,000,000
    assert m["cost_ratio"]["band"] == 4
    # probability (2×3 + 1)/3 = 2.33 → 2; impact (2 + 3 + 4 + 1)/4 = 2.5 → 3; 6 → medium
    assert (scored.probability, scored.impact, scored.level) == (2, 3, RiskLevel.MEDIUM)


def test_the_handling_cost_is_left_out_at_the_default_rate_of_zero() -> None:
    figures = _figures(cases=10, resolved=10, handling_hours=40, sales=Sales(orders=1000, revenue=Decimal("100000")))
    scored = score(figures, EDGES)
    assert scored.inputs["handling_cost"] == "0.00"
    assert scored.measures["cost_ratio"]["value"] == 0


def test_a_trend_without_orders_in_the_window_before_falls_back_to_counts_and_says_so() -> None:
    figures = _figures(cases=10, previous_cases=5, sales=Sales(orders=10_000, revenue=None))
    trend = score(figures, EDGES).measures["trend"]
    assert (trend["value"], trend["band"], trend["note"]) == (1.0, 5, "trend_counts")


def test_no_trend_when_the_window_before_had_no_complaints() -> None:
    trend = score(_figures(cases=10, previous_cases=0), EDGES).measures["trend"]
    assert (trend["value"], trend["band"], trend["note"]) == (None, None, "no_previous")


def test_departments_have_no_cost_ratio_because_sales_are_not_divided_by_department() -> None:
    scored = score(_figures(kind=SubjectKind.DEPARTMENT, cases=10), EDGES)
    assert scored.measures["cost_ratio"]["note"] == "no_revenue_department"


def test_subjects_with_too_few_cases_are_measured_but_not_assessed(settings) -> None:
    scored = score(_figures(cases=4, flagged=4), EDGES)
    assert (scored.assessed, scored.level, scored.probability) == (False, "", None)
    assert scored.measures["flagged_share"]["value"] == 1.0
    settings.COMPLAINTDESK_RISK_MIN_CASES = 3
    assert score(_figures(cases=4, flagged=4), EDGES).assessed is True


def test_the_edges_in_force_are_the_admins_rows(db) -> None:
    from risk.models import RiskThreshold

    # The data migration wrote the defaults.
    assert assess.thresholds() == {k: tuple(float(e) for e in v) for k, v in DEFAULT_EDGES.items()}
    RiskThreshold.objects.filter(measure=Measure.FREQUENCY_COUNT).update(edge_1=1, edge_2=2, edge_3=3, edge_4=4)
    assert assess.thresholds()[Measure.FREQUENCY_COUNT] == (1, 2, 3, 4)
    assert band(Measure.FREQUENCY_COUNT, 3, assess.thresholds()[Measure.FREQUENCY_COUNT]) == 4
