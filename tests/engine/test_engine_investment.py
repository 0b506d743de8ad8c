"""investment_roi: the spec's monthly and cash-flow examples, payback, IRR and monotonicity."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roi.engine import METHODS, FinancialFigures, method_for
from roi.engine.cash_flows import internal_rate, monthly_rate, payback
from roi.engine.investment import CashFlowRoi, InvestmentRoi, cash_flow_roi, investment_roi
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
    assert internal_rate([D(-100), D(110)]).quantize(D("1e-12")) == D("0.1").quantize(D("1e-12"))


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


# --- Figures other than the spec's, worked by hand ---------------------------------------


def test_a_textbook_yearly_case_gives_the_textbook_npv_irr_and_payback() -> None:
    # -1,000 then 500, 400, 300, 100 at 10 %: NPV 78.82, IRR 14.49 %, paid back 1/3 into year 3.
    result = METHODS["investment_roi"].run(
        {"cash_flows": {"period": "year", "costs": [1000, 0, 0, 0, 0], "benefits": [0, 500, 400, 300, 100]}},
        figures(),
    )
    assert isinstance(result, CashFlowRoi)
    assert (result.npv, result.pv_benefits, result.pv_costs) == (D("78.82"), D("1078.82"), D("1000.00"))
    assert result.roi_percent == D("30.0000")  # 300 / 1,000
    assert result.roi_percent_discounted == D("7.8820")  # 78.82 / 1,000 unrounded
    assert result.payback_periods == D("2.3333")  # -1,000, -500, -100, +200: 100/300 into year 3
    assert result.irr_annual == D("0.1449")  # yearly periods: the IRR is already annual


def test_at_a_zero_rate_npv_is_the_plain_sum_and_payback_a_whole_year() -> None:
    # 12,000 up front, 1,000 a month for 24 months.
    result = spec_case(
        upfront_cost="12000", monthly_cost="0", monthly_benefit="1000", months="24", annual_discount_rate=0
    )
    assert (result.total_benefits, result.total_costs, result.npv) == (D("24000.00"), D("12000.00"), D("12000.00"))
    assert result.roi_percent == result.roi_percent_discounted == D("100.0000")
    assert result.payback_months == D("12.0000")
    # monthly IRR 6.4914 % solves 1,000 * annuity(24) = 12,000; (1.064914)^12 - 1 = 1.1270
    assert result.irr_annual == D("1.1270")


def test_twelve_percent_discounts_each_month_by_the_compounded_monthly_rate() -> None:
    # m = 1.12^(1/12) - 1 = 0.0094888; 1,000 * (1 - 1.12^-2) / m = 21,373.23
    result = spec_case(upfront_cost=12000, monthly_cost=0, monthly_benefit=1000, months=24, annual_discount_rate="0.12")
    assert (result.pv_benefits, result.npv) == (D("21373.23"), D("9373.23"))
    assert result.roi_percent_discounted == D("78.1102")


def test_risk_adjustments_apply_to_every_cost_and_benefit_including_the_upfront_cost() -> None:
    # benefits 3,000 * 0.9 * 12 = 32,400; costs (10,000 + 12 * 1,000) * 1.2 = 26,400
    result = spec_case(
        upfront_cost="10000",
        monthly_cost="1000",
        monthly_benefit="3000",
        months="12",
        annual_discount_rate="0",
        benefit_risk_adjustment="0.1",
        cost_risk_adjustment="0.2",
    )
    assert (result.total_benefits, result.total_costs, result.npv) == (D("32400.00"), D("26400.00"), D("6000.00"))
    assert result.roi_percent == D("22.7273")
    assert result.payback_months == D("8.0000")  # 12,000 risk-adjusted up front, 1,500 net a month


def test_uneven_benefits_pay_back_when_the_cumulative_net_first_reaches_zero() -> None:
    # net -8,000, -500, -500, +4,500, +4,500, +4,500: cumulative -8,000 -8,500 -9,000 -4,500 0
    result = spec_case(
        upfront_cost=8000, monthly_cost=500, monthly_benefit=None, months=None, benefits=[0, 0, 5000, 5000, 5000]
    )
    assert result.payback_months == D("4.0000")
    assert (result.npv, result.irr_annual) == (D("4089.96"), D("2.5854"))


def test_the_largest_accepted_figures_compute_without_error() -> None:
    result = spec_case(upfront_cost="1e15", monthly_cost="1e15", monthly_benefit="1e15", months=600)
    assert result.total_costs == D("601000000000000000.00")
    assert result.npv == D("-1000000000000000.00")  # benefits and running costs cancel month by month
    assert result.payback_months is None


# --- Properties ------------------------------------------------------------------------

flows_strategy = st.lists(st.decimals(min_value=-(10**6), max_value=10**6, places=2), min_size=2, max_size=40)


@given(
    upfront=amounts,
    cost=amounts,
    benefits=st.lists(st.decimals(min_value=0, max_value=10**7, places=2), min_size=1, max_size=60),
)
def test_at_rate_zero_npv_is_the_sum_of_the_flows(upfront: Decimal, cost: Decimal, benefits: list[Decimal]) -> None:
    result = investment_roi(
        upfront_cost=upfront, monthly_cost=cost, benefits=benefits, months=len(benefits), annual_discount_rate=D(0)
    )
    assert result.npv == result.total_benefits - result.total_costs
    assert result.pv_benefits == result.total_benefits
    assert result.pv_costs == result.total_costs


@given(flows=flows_strategy)
def test_irr_makes_npv_zero(flows: list[Decimal]) -> None:
    from roi.engine.cash_flows import present_value

    rate = internal_rate(flows)
    if rate is None:
        # Null only when the flows never change sign (or no rate zeroes their NPV).
        assert not (any(flow > 0 for flow in flows) and any(flow < 0 for flow in flows)) or not _npv_changes_sign(flows)
        return
    # NPV in units of the discounted flows' size (near -100 % a period they are huge).
    scale = present_value([abs(flow) for flow in flows], rate)
    assert abs(present_value(flows, rate)) <= scale * D("1e-12")


def _npv_changes_sign(flows: list[Decimal]) -> bool:
    from roi.engine.cash_flows import IRR_BEYOND_ABOVE, IRR_BEYOND_BELOW, IRR_GRID, present_value

    signs = {present_value(flows, rate) > 0 for rate in (*IRR_BEYOND_BELOW, *IRR_GRID, *IRR_BEYOND_ABOVE)}
    return len(signs) > 1


@given(
    upfront=st.decimals(min_value=1, max_value=10**7, places=2),
    net=st.decimals(min_value=1, max_value=10**6, places=2),
    months=st.integers(1, 120),
)
def test_a_conventional_case_always_has_an_irr_and_npv_falls_as_the_rate_rises(
    upfront: Decimal, net: Decimal, months: int
) -> None:
    # One outflow, then inflows: exactly one sign change, so exactly one IRR (Descartes).
    assume_rates = [D("0"), D("0.05"), D("0.25"), D("1")]
    npvs = [
        investment_roi(
            upfront_cost=upfront, monthly_cost=D(0), monthly_benefit=net, months=months, annual_discount_rate=rate
        ).npv
        for rate in assume_rates
    ]
    assert npvs == sorted(npvs, reverse=True)
    assert internal_rate([-upfront] + [net] * months) is not None


@given(flows=flows_strategy)
def test_payback_agrees_with_the_cumulative_flows(flows: list[Decimal]) -> None:
    result = payback(flows)
    cumulative = [sum(flows[: t + 1], D(0)) for t in range(len(flows))]
    if all(value >= 0 for value in cumulative):
        assert result == 0
        return
    first_negative = next(t for t, value in enumerate(cumulative) if value < 0)
    recovered = [t for t in range(first_negative + 1, len(flows)) if cumulative[t] >= 0]
    if not recovered:
        assert result is None
        return
    assert result is not None
    t = recovered[0]
    # Inside period t, between the last shortfall and the first surplus...
    assert t - 1 < result <= t
    # ...at the point a straight line through the period's flow reaches zero.
    assert abs(cumulative[t - 1] + (result - (t - 1)) * flows[t]) <= D("1e-20")


# --- Version 2: an IRR beyond the v1 grid is found, not reported as null ---------------


@pytest.mark.parametrize(
    ("inputs", "irr_annual"),
    [
        # 10,000.01 out, 1 back a month later: -99.99 % a month, just below v1's grid.
        ({"upfront_cost": "10000.01", "monthly_benefit": 1, "months": 1}, D("-1.0000")),
        # 1,000,000 out, 1 back: -99.9999 % a month.
        ({"upfront_cost": 1000000, "monthly_benefit": 1, "months": 1}, D("-1.0000")),
        # 100 out, 1e9 a month back: about 1e7 a month, above v1's grid (1e6).
        ({"upfront_cost": 100, "monthly_benefit": "1e9", "months": 12}, None),
    ],
)
def test_v2_finds_an_irr_wherever_the_flows_change_sign(inputs: dict[str, object], irr_annual: Decimal | None) -> None:
    v1 = method_for("investment_roi", 1).run(inputs, figures())
    v2 = METHODS["investment_roi"].run(inputs, figures())
    assert isinstance(v1, InvestmentRoi) and isinstance(v2, InvestmentRoi)
    assert v1.irr_annual is None  # what version 1 records hold, and keep recomputing to
    assert v2.irr_annual is not None
    if irr_annual is not None:
        assert v2.irr_annual == irr_annual
    else:
        # (1 + ~1e7)^12 - 1: astronomically large but defined.
        assert v2.irr_annual > D("1e80")
    # Everything but the IRR is the same in both versions.
    assert {k: v for k, v in v1.as_dict().items() if k != "irr_annual"} == {
        k: v for k, v in v2.as_dict().items() if k != "irr_annual"
    }


def test_v2_irr_below_the_grid_zeroes_the_npv() -> None:
    from roi.engine.cash_flows import present_value

    flows = [D("-1000000"), D("1")]
    rate = internal_rate(flows)
    assert rate is not None and abs(rate - D("-0.999999")) < D("1e-15")
    assert abs(present_value(flows, rate)) < D("1e-6")
    assert internal_rate(flows, beyond_grid=False) is None


def test_v1_and_v2_agree_whenever_v1_found_an_irr() -> None:
    for inputs in (
        {"upfront_cost": 100000, "monthly_cost": 5000, "monthly_benefit": 25000, "months": 36},
        {"cash_flows": {"period": "year", "costs": [1000, 0, 0, 0, 0], "benefits": [0, 500, 400, 300, 100]}},
        {"upfront_cost": 1000, "monthly_cost": 100, "monthly_benefit": 50, "months": 12},
    ):
        assert method_for("investment_roi", 1).run(inputs, figures()) == METHODS["investment_roi"].run(
            inputs, figures()
        )
