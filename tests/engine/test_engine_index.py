"""business_value_index: weighted attainment of each stream's monthly target."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from roi.engine import METHODS, FinancialFigures
from roi.engine.index import BusinessValueIndex, StreamInput, business_value_index
from roi.engine.money import EngineInputError

D = Decimal


def run_business_value_index(inputs: Mapping[str, Any], figures: FinancialFigures) -> BusinessValueIndex:
    """The registry's business_value_index, its result read as the method's own type."""
    result = METHODS["business_value_index"].run(inputs, figures)
    assert isinstance(result, BusinessValueIndex)
    return result


def figures() -> FinancialFigures:
    return FinancialFigures(annual_recurring_revenue=D(56000000))


def stream(value: str, target: str = "100", weighting: str = "0.5", window: int = 30) -> StreamInput:
    return StreamInput(value=D(value), target=D(target), weighting=D(weighting), time_window=window)


def test_every_stream_on_target_scores_100() -> None:
    # 90-day window: a month's worth is value * (365/12) / 90.
    inputs = {"incident_prevention_value": 10**6, "automation_roi_value": 10**6, "performance_improvement_value": 10**6}
    assert run_business_value_index(inputs, figures()).business_value_index == D(100)


def test_it_scales_each_window_to_a_month_and_caps_at_the_target() -> None:
    result = business_value_index(
        incident_prevention=stream("30", weighting="0.5", window=30),  # 30 * 30.4167/30 of 100
        automation_roi=stream("500", weighting="0.3"),  # over target: capped
        performance_improvement=stream("-50", weighting="0.2"),  # lost value: zero, not negative
    )
    assert result.incident_prevention_score == D("15.2083")
    assert result.automation_roi_score == D(30)
    assert result.performance_improvement_score == D(0)
    assert result.business_value_index == D("45.2083")


@pytest.mark.parametrize("weighting", ["0.2", "0.6"])
def test_weightings_must_sum_to_one(weighting: str) -> None:
    with pytest.raises(EngineInputError) as caught:
        run_business_value_index(
            {
                "incident_prevention_value": 1,
                "automation_roi_value": 1,
                "performance_improvement_value": 1,
                "incident_prevention_weighting": weighting,
            },
            figures(),
        )
    assert "incident_prevention_weighting" in caught.value.errors


def test_weightings_within_the_tolerance_pass() -> None:
    result = business_value_index(
        incident_prevention=stream("0", weighting="0.4005"),
        automation_roi=stream("0", weighting="0.35"),
        performance_improvement=stream("0", weighting="0.25"),
    )
    assert result.business_value_index == 0


def test_a_zero_target_is_rejected() -> None:
    with pytest.raises(EngineInputError) as caught:
        business_value_index(
            incident_prevention=stream("1", target="0", weighting="0.4"),
            automation_roi=stream("1", weighting="0.35"),
            performance_improvement=stream("1", weighting="0.25"),
        )
    assert "incident_prevention_target" in caught.value.errors


def test_default_weightings_windows_and_targets_on_other_figures() -> None:
    # 0.40 / 30 days / 50,000; 0.35 / 30 / 35,000; 0.25 / 90 / 25,000; a month is 365/12 days
    result = run_business_value_index(
        {"incident_prevention_value": 25000, "automation_roi_value": 35000, "performance_improvement_value": 25000},
        figures(),
    )
    assert result.incident_prevention_score == D("20.2778")  # 0.40 * (25,000 * 30.4167/30) / 50,000 * 100
    assert result.automation_roi_score == D("35.0000")  # 101 % of target, capped at 100 %
    assert result.performance_improvement_score == D("8.4491")  # 0.25 * (25,000 * 30.4167/90) / 25,000 * 100
    assert result.business_value_index == D("63.7269")  # the sum, unrounded parts


def test_a_stream_that_lost_value_adds_nothing() -> None:
    result = run_business_value_index(
        {"incident_prevention_value": -5000, "automation_roi_value": 0, "performance_improvement_value": 0},
        figures(),
    )
    assert result.business_value_index == D("0.0000")
