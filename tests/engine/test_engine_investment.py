"""investment_roi: the spec's monthly and cash-flow examples, payback, IRR and monotonicity."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roi.engine import METHODS, FinancialFigures
from roi.engine.investment import (
    CashFlowRoi,
    InvestmentRoi,
    cash_flow_roi,
    internal_rate,
    investment_roi,
    monthly_rate,
    payback,
)
from roi.engine.money import EngineInputError

D = Decimal


def figures() -> FinancialFigures:
    return FinancialFigures(annual_recurring_revenue=D(56000000))


def spec_case(**changes: object) -> InvestmentRoi:
    values: dict[str, object] = {"upfront_cost": 100000, "monthly_cost": 5000, "monthly_benefit": 25000, "months": 36}
    values.update(changes)
    result = METHODS["investment_roi"].run(values, figures())
    assert isinstance(result, InvestmentRoi)
    return result


def test_it_reproduces_the_spec_example() -> None:
    result = spec_case()
    assert result.total_benefits == D("900000.00")
    assert result.total_costs == D("280000.00")
    assert result.roi_percent == D("221.4286")
    assert result.payback_months == D("5.0")
    assert result.npv == D("523729.17")
    assert result.irr_annual == D("7.8908")
    assert result.roi_percent_discounted == (result.npv / result.pv_costs * 100).quantize(D("0.0001"))


def test_it_reproduces_the_yearly_cash_flow_example() -> None:
    result = METHODS["investment_roi"].run(
        {
            "cash_flows": {"period": "year", "costs": [10000, 5000, 5000, 5000], "benefits": [0, 12000, 14000, 16000]},
            "annual_discount_rate": "0.10",
        },
        figures(),
    )
    assert isinstance(result, CashFlowRoi)
    assert result.pv_costs == D("22434.26")
    assert result.pv_benefits == D("34500.38")
    assert result.npv == D("12066.12")
    assert result.roi_percent_discounted == D("53.7843")
    assert result.payback_periods == D("1.3333")
    assert result.as_dict()["npv"] == "12066.12"


def test_monthly_rate_compounds_to_the_annual_rate() -> None:
    assert ((1 + monthly_rate(D("0.10"))) ** 12).quantize(D("1e-20")) == D("1.1").quantize(D("1e-20"))


@pytest.mark.parametrize(
    ("flows", "expected"),
    [
        ([D(-100), D(50), D(50)], D(2)),
        ([D(-100), D(40), D(40), D(40)], D(2) + D(20) / D(40)),
        ([D(-10000), D(7000), D(9000)], D(1) + D(3000) / D(9000)),
        ([D(0), D(10), D(10)], D(0)),  # never under water
        ([D(-100), D(10), D(10)], None),  # never recovers
        ([D(0), D(-50), D(100)], D(1) + D(50) / D(100)),  # outflow later, still counted
    ],
)
def test_payback_is_linear_inside_the_period(flows: list[Decimal], expected: Decimal | None) -> None:
    assert payback(flows) == expected


def test_irr_is_null_when_flows_never_change_sign() -> None:
    assert internal_rate([D(100), D(10)]) is None
    assert internal_rate([D(-100), D(-10)]) is None
    assert spec_case(monthly_benefit=0, monthly_cost=0).irr_annual is None


def test_irr_of_a_simple_loan() -> None:
    # -100 now, 110 in a period: 10 % a period.
    assert internal_rate([D(-100), D(110)]).quantize(D("1e-12")) == D("0.1").quantize(D("1e-12"))  # type: ignore[union-attr]


def test_roi_is_null_without_costs_and_payback_null_when_never_paid() -> None:
    free = investment_roi(upfront_cost=D(0), monthly_cost=D(0), monthly_benefit=D(10), months=12)
    assert free.roi_percent is None
    assert free.payback_months == D(0)
    loss = investment_roi(upfront_cost=D(1000), monthly_cost=D(100), monthly_benefit=D(50), months=12)
    assert loss.payback_months is None
    assert loss.npv < 0


def test_a_benefits_list_equals_the_same_monthly_benefit() -> None:
    listed = spec_case(monthly_benefit=None, benefits=[25000] * 36, months=None)
    assert listed == spec_case()


def test_risk_adjustment_lowers_benefits_and_raises_costs() -> None:
    result = spec_case(benefit_risk_adjustment="0.1", cost_risk_adjustment="0.2")
    assert result.total_benefits == D("810000.00")
    assert result.total_costs == D("336000.00")


def test_monthly_cash_flows_match_the_monthly_form() -> None:
    result = cash_flow_roi(period="month", costs=[D(100000)] + [D(5000)] * 36, benefits=[D(0)] + [D(25000)] * 36)
    assert result.npv == D("523729.17")
    assert result.payback_periods == D("5.0")
    assert result.irr_annual == D("7.8908")


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({"upfront_cost": 1, "monthly_cost": 1, "months": 12}, "monthly_benefit"),
        ({"upfront_cost": 1, "monthly_benefit": 1, "months": 0}, "months"),
        ({"upfront_cost": 1, "monthly_benefit": 1, "months": 601}, "months"),
        (
            {"upfront_cost": 1, "monthly_benefit": 1, "months": 12, "annual_discount_rate": "Infinity"},
            "annual_discount_rate",
        ),
        ({"upfront_cost": 1, "benefits": [1, 2], "months": 3}, "benefits"),
        ({"upfront_cost": 1, "benefits": [1, "x"]}, "benefits[1]"),
        ({"upfront_cost": -1, "monthly_benefit": 1, "months": 3}, "upfront_cost"),
        ({"cash_flows": {"period": "week", "costs": [1], "benefits": [1]}}, "cash_flows.period"),
        ({"cash_flows": {"period": "year", "costs": [1, 2], "benefits": [1]}}, "cash_flows.benefits"),
        ({"cash_flows": [1, 2]}, "cash_flows"),
    ],
)
def test_it_rejects_bad_input_naming_the_field(inputs: dict[str, object], field: str) -> None:
    with pytest.raises(EngineInputError) as caught:
        METHODS["investment_roi"].run(inputs, figures())
    assert field in caught.value.errors


amounts = st.decimals(min_value=0, max_value=10**7, places=2)


@given(
    upfront=amounts,
    cost=amounts,
    benefit=amounts,
    extra=st.decimals(min_value=0, max_value=10**6, places=2),
    months=st.integers(1, 120),
    rate=st.decimals(min_value=0, max_value=1, places=3),
)
def test_roi_and_npv_rise_with_benefit(
    upfront: Decimal, cost: Decimal, benefit: Decimal, extra: Decimal, months: int, rate: Decimal
) -> None:
    low = investment_roi(
        upfront_cost=upfront, monthly_cost=cost, monthly_benefit=benefit, months=months, annual_discount_rate=rate
    )
    high = investment_roi(
        upfront_cost=upfront,
        monthly_cost=cost,
        monthly_benefit=benefit + extra,
        months=months,
        annual_discount_rate=rate,
    )
    assert high.npv >= low.npv
    assert high.total_benefits >= low.total_benefits
    if low.roi_percent is not None and high.roi_percent is not None:
        assert high.roi_percent >= low.roi_percent


@given(upfront=amounts, cost=amounts, benefit=amounts, months=st.integers(1, 60))
def test_npv_is_pv_benefits_minus_pv_costs(upfront: Decimal, cost: Decimal, benefit: Decimal, months: int) -> None:
    result = investment_roi(upfront_cost=upfront, monthly_cost=cost, monthly_benefit=benefit, months=months)
    assert abs(result.npv - (result.pv_benefits - result.pv_costs)) <= D("0.01")
    assert abs(result.total_costs - (upfront + cost * months)) <= D("0.005")
