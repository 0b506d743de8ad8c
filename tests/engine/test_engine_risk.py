"""value_at_risk: reproducible from its seed, fast, and consistent with investment_roi."""

import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from roi.engine import METHODS, FinancialFigures
from roi.engine.investment import investment_roi
from roi.engine.money import EngineInputError
from roi.engine.risk import Triangular, ValueAtRisk, value_at_risk

D = Decimal
RANGED = {
    "upfront_cost": {"low": 80000, "mode": 100000, "high": 160000},
    "monthly_cost": {"low": 4000, "mode": 5000, "high": 8000},
    "monthly_benefit": {"low": 5000, "mode": 25000, "high": 30000},
    "months": 36,
    "trials": 10000,
    "seed": 20240101,
}


def run_value_at_risk(inputs: Mapping[str, Any], figures: FinancialFigures) -> ValueAtRisk:
    """The registry's value_at_risk, its result read as the method's own type."""
    result = METHODS["value_at_risk"].run(inputs, figures)
    assert isinstance(result, ValueAtRisk)
    return result


def figures() -> FinancialFigures:
    return FinancialFigures(annual_recurring_revenue=D(56000000))


def test_same_inputs_and_seed_give_the_same_result() -> None:
    first = run_value_at_risk(RANGED, figures())
    second = run_value_at_risk(dict(RANGED), figures())
    assert first == second
    assert first.as_dict() == second.as_dict()


def test_another_seed_gives_another_sample() -> None:
    first = run_value_at_risk(RANGED, figures())
    other = run_value_at_risk({**RANGED, "seed": 7}, figures())
    assert first.mean_npv != other.mean_npv


def test_results_are_ordered_and_consistent() -> None:
    result = run_value_at_risk(RANGED, figures())
    assert result.p5_npv <= result.p50_npv <= result.p95_npv
    assert result.value_at_risk_95 == result.mean_npv - result.p5_npv
    assert D(0) <= result.probability_of_loss <= D(1)
    assert isinstance(result.mean_npv, Decimal)


def test_fixed_inputs_give_the_investment_roi_npv() -> None:
    result = value_at_risk(
        upfront_cost=D(100000), monthly_cost=D(5000), monthly_benefit=D(25000), months=36, seed=1, trials=1000
    )
    assert result.mean_npv == result.p5_npv == D("523729.17")
    assert result.probability_of_loss == 0


def test_a_zero_width_range_is_a_fixed_value() -> None:
    result = value_at_risk(
        upfront_cost=Triangular(D(100000), D(100000), D(100000)),
        monthly_cost=D(5000),
        monthly_benefit=D(25000),
        months=36,
        seed=1,
        trials=1000,
    )
    assert result.p50_npv == D("523729.17")


def test_a_benefits_list_is_discounted_like_investment_roi() -> None:
    benefits = [D(1000 * month) for month in range(1, 13)]
    expected = investment_roi(upfront_cost=D(20000), monthly_cost=D(1000), benefits=benefits, months=12).npv
    result = value_at_risk(
        upfront_cost=D(20000), monthly_cost=D(1000), benefits=benefits, months=12, seed=3, trials=1000
    )
    assert result.mean_npv == expected


def test_100000_trials_run_well_under_a_second() -> None:
    started = time.perf_counter()
    result = run_value_at_risk({**RANGED, "trials": 100000}, figures())
    assert time.perf_counter() - started < 1.0
    assert result.trials == 100000


def test_prepare_adds_a_seed_only_when_missing() -> None:
    spec = METHODS["value_at_risk"]
    assert spec.prepare(RANGED)["seed"] == RANGED["seed"]
    prepared = spec.prepare({k: v for k, v in RANGED.items() if k != "seed"})
    assert isinstance(prepared["seed"], int)
    assert spec.run(prepared, figures()) == spec.run(prepared, figures())


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"seed": None}, "seed"),
        ({"trials": 999}, "trials"),
        ({"trials": 1000001}, "trials"),
        ({"upfront_cost": {"low": 3, "mode": 2, "high": 4}}, "upfront_cost"),
        ({"monthly_cost": {"low": 1, "mode": 2}}, "monthly_cost"),
        ({"monthly_benefit": {"low": "NaN", "mode": 2, "high": 3}}, "monthly_benefit.low"),
    ],
)
def test_it_rejects_bad_input_naming_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(EngineInputError) as caught:
        run_value_at_risk({**RANGED, **change}, figures())
    assert field in caught.value.errors


def test_the_mean_npv_is_the_npv_at_the_triangles_means() -> None:
    # NPV is linear in the ranged inputs, so its mean is the NPV at each triangle's mean,
    # (low + mode + high) / 3: benefit 20,000 and monthly cost 5,666.67 here.
    result = run_value_at_risk({**RANGED, "upfront_cost": 100000, "trials": 200000}, figures())
    expected = investment_roi(
        upfront_cost=D(100000),
        monthly_cost=D(17000) / 3,
        monthly_benefit=D(60000) / 3,
        months=36,
    ).npv
    assert abs(result.mean_npv - expected) <= abs(expected) * D("0.005")


def test_a_case_that_cannot_pay_back_always_loses() -> None:
    result = run_value_at_risk(
        {
            "upfront_cost": {"low": 50000, "mode": 60000, "high": 90000},
            "monthly_cost": 1000,
            "monthly_benefit": {"low": 0, "mode": 1000, "high": 2000},
            "months": 24,
            "seed": 7,
        },
        figures(),
    )
    assert result.probability_of_loss == D(1)
    assert result.p95_npv < 0
    assert result.value_at_risk_95 == result.mean_npv - result.p5_npv >= 0
