"""The dashboards' money maths: ROI, value per unit of cost, run-rates, budget variance, an investment to date."""

from decimal import Decimal as D

import pytest

from roi.engine.finance import (
    BudgetMonth,
    Spread,
    ValueAndCost,
    budget_outlook,
    investment_to_date,
    mean,
    mean_of_sum,
    monthly_budget,
    percent,
    roi_percent,
    running_totals,
    spread,
    value_and_cost,
    value_per_cost,
)
from roi.engine.money import decimal_or_none, money_text


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [
        (D(1), D(3), D("33.3333")),
        (D(2), D(3), D("66.6667")),
        (D("0.125"), D(1000), D("0.0125")),
        (D("0.00005"), D(1), D("0.0050")),
        (D(-50), D(200), D("-25.0000")),
        (D(5), D(0), None),  # undefined without a whole
    ],
)
def test_percent_is_rounded_to_four_places(part: D, whole: D, expected: D | None) -> None:
    assert percent(part, whole) == expected


@pytest.mark.parametrize(
    ("value", "cost", "expected"),
    [
        (D(400000), D(100000), D("300.0000")),
        (D(50000), D(100000), D("-50.0000")),
        (D(100000), D(100000), D("0.0000")),
        (D(1000), D(0), None),
    ],
)
def test_roi_is_value_less_cost_over_cost(value: D, cost: D, expected: D | None) -> None:
    assert roi_percent(value, cost) == expected
    assert ValueAndCost(value, cost).roi_percent == expected


@pytest.mark.parametrize(
    ("value", "cost", "expected"),
    [(D(250), D(100), "2.50"), (D(1), D(3), "0.33"), (D(2), D(3), "0.67"), (D(10), D(0), None)],
)
def test_value_per_unit_of_cost_is_to_the_cent(value: D, cost: D, expected: str | None) -> None:
    result = value_per_cost(value, cost)
    assert (None if result is None else str(result)) == expected


@pytest.mark.parametrize(
    ("amounts", "expected"),
    [([], D(0)), ([D(300)], D(300)), ([D(100), D(200), D(600)], D(300)), ([D(1), D(2)], D("1.5"))],
)
def test_a_run_rate_is_the_mean_and_zero_without_months(amounts: list[D], expected: D) -> None:
    assert mean(amounts) == expected


def test_value_and_cost_add_up_months_unrounded() -> None:
    figures = value_and_cost([D("0.004"), D("0.004")], [D(1), D("0.001")])
    assert (figures.value, figures.cost, figures.net) == (D("0.008"), D("1.001"), D("-0.993"))


def test_running_totals_accumulate_value_and_cost() -> None:
    totals = running_totals([(D(100), D(50)), (D(0), D(50)), (D(300), D(0))])
    assert [(t.value, t.cost, t.roi_percent) for t in totals] == [
        (D(100), D(50), D("100.0000")),
        (D(100), D(100), D("0.0000")),
        (D(400), D(100), D("300.0000")),
    ]


def test_a_budget_is_spread_evenly_over_twelve_months() -> None:
    assert money_text(monthly_budget(D(100000))) == "8333.33"
    assert monthly_budget(D(120000)) == D(10000)


def test_the_budget_outlook_counts_actuals_then_forecasts_at_committed_plus_run_rate() -> None:
    months = [
        BudgetMonth(committed=D(5000), actual=D(9000)),
        BudgetMonth(committed=D(5000), actual=D(4000), current=True),  # this month, to date
        BudgetMonth(committed=D(5000), actual=None),
        *[BudgetMonth(committed=D(0), actual=None)] * 9,
    ]
    outlook = budget_outlook(annual_budget=D(120000), months=months, cloud_run_rate=D(1000))
    assert [(m.actual, m.forecast, m.variance) for m in outlook.months[:3]] == [
        (D(9000), None, D(1000)),  # a past month: against its actual
        (D(4000), D(6000), D(4000)),  # this month: the larger of its actual and committed plus run-rate
        (None, D(6000), D(4000)),
    ]
    assert outlook.months[3] == outlook.months[11]
    assert outlook.months[3].forecast == D(1000)
    assert outlook.cost_to_date == D(13000)
    assert outlook.budget_to_date == D(20000)
    assert outlook.variance_to_date == D(7000)
    assert outlook.budget_used_percent == D("10.8333")
    assert outlook.forecast_year_cost == D(9000 + 6000 + 6000 + 9 * 1000)
    assert outlook.forecast_variance == D(120000 - 30000)
    assert outlook.forecast_used_percent == D("25.0000")


def test_without_a_budget_only_cost_is_known() -> None:
    outlook = budget_outlook(
        annual_budget=None, months=[BudgetMonth(committed=D(0), actual=D(10))], cloud_run_rate=D(0)
    )
    assert outlook.monthly_budget is None and outlook.months[0].variance is None
    assert (outlook.budget_to_date, outlook.variance_to_date, outlook.budget_used_percent) == (None, None, None)
    assert (outlook.forecast_variance, outlook.forecast_used_percent) == (None, None)
    assert outlook.cost_to_date == outlook.forecast_year_cost == D(10)


def test_a_zero_budget_has_variances_but_no_percentage_used() -> None:
    outlook = budget_outlook(
        annual_budget=D(0), months=[BudgetMonth(committed=D(0), actual=D(10))], cloud_run_rate=D(0)
    )
    assert (outlook.variance_to_date, outlook.forecast_variance) == (D(-10), D(-10))
    assert (outlook.budget_used_percent, outlook.forecast_used_percent) == (None, None)


def test_an_investment_to_date_against_its_case() -> None:
    result = investment_to_date(
        upfront_cost=D(10000),
        monthly_cost=D(1000),
        promised_monthly_benefit=D(5000),
        month_costs=[D(11000), D(1000), D(1000)],
        month_values=[D(4000), D(6000), D(8000)],
    )
    assert (result.cost, result.value, result.promised, result.value_gap) == (D(13000), D(18000), D(15000), D(3000))
    assert result.roi_percent == D("38.4615")
    assert result.promised_roi_percent == D("15.3846")
    # -10000, then +3000, +5000, +7000: under water until part-way through month 3.
    assert result.payback_months is not None
    assert result.payback_months.quantize(D("0.0001")) == D("2.2857")


def test_an_investment_not_started_has_no_payback_and_no_roi() -> None:
    result = investment_to_date(
        upfront_cost=D(10000), monthly_cost=D(0), promised_monthly_benefit=D(1), month_costs=[], month_values=[]
    )
    assert (result.cost, result.roi_percent, result.payback_months) == (D(0), None, None)


@pytest.mark.parametrize(
    ("shown", "expected"),
    [
        ("1234.50", D("1234.50")),
        (D("-3.2"), D("-3.2")),
        (7, D(7)),
        (0.1, D("0.1")),
        (None, None),
        ("", None),
        ("n/a", None),
        ("NaN", None),
        ("Infinity", None),
    ],
)
def test_a_shown_figure_reads_back_as_a_decimal_or_none(shown: object, expected: D | None) -> None:
    assert decimal_or_none(shown) == expected


@pytest.mark.parametrize(
    ("amount", "expected"), [(D("0.125"), "0.12"), (D("2.675"), "2.68"), (D("-0.004"), "0.00"), (None, None)]
)
def test_money_is_shown_to_the_cent_half_even(amount: D | None, expected: str | None) -> None:
    assert money_text(amount) == expected


@pytest.mark.parametrize(
    ("total", "count", "expected"), [(D("299.7"), 3, D("99.9")), (None, 2, D(0)), (D(5), 0, None), (D(5), None, None)]
)
def test_a_mean_kept_as_sum_and_count(total: D | None, count: int | None, expected: D | None) -> None:
    assert mean_of_sum(total, count) == expected


def test_spread_is_the_mean_and_population_standard_deviation() -> None:
    usual = spread([2, 4, 4, 4, 5, 5, 7, 9])
    assert usual.mean == D(5)
    assert usual.sigma == D(2)
    assert spread([]) == Spread(D(0), D(0))
