"""forecast: Holt above a year of history, a line below, a clear error under three points."""

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from roi.engine import METHODS, FinancialFigures
from roi.engine.forecast import Forecast, forecast
from roi.engine.money import EngineInputError

D = Decimal


def run_forecast(inputs: Mapping[str, Any], figures: FinancialFigures) -> Forecast:
    """The registry's forecast, its result read as the method's own type."""
    result = METHODS["forecast"].run(inputs, figures)
    assert isinstance(result, Forecast)
    return result


def figures() -> FinancialFigures:
    return FinancialFigures(annual_recurring_revenue=D(1))


def synthetic(months: int) -> list[Decimal]:
    # Trend of 1,000 a month plus a deterministic wobble of up to 3,000.
    return [D(50000 + 1000 * t) + D(round(3000 * math.sin(t * 1.7), 2)) for t in range(months)]


def test_a_year_or_more_uses_holt() -> None:
    result = run_forecast({"series": [str(v) for v in synthetic(24)], "horizon": 6, "last_month": "2024-11"}, figures())
    assert result.method == "holt"
    assert [p.month for p in result.points] == ["2024-12", "2025-01", "2025-02", "2025-03", "2025-04", "2025-05"]
    assert result.mape is not None and D(0) <= result.mape < D(10)
    first, last = result.points[0], result.points[-1]
    assert D(70000) < first.value < D(80000)
    assert last.value > first.value  # the trend carries on


def test_intervals_nest_and_widen() -> None:
    result = forecast(series=synthetic(24), horizon=6)
    for point in result.points:
        assert point.low_95 <= point.low_80 <= point.value <= point.high_80 <= point.high_95
    widths = [p.high_95 - p.low_95 for p in result.points]
    assert widths == sorted(widths)


def test_short_series_use_a_line() -> None:
    result = forecast(series=[D(100), D(110), D(125), D(130), D(150), D(160)], horizon=2)
    assert result.method == "linear"
    assert result.points[0].value == D("171.67")
    assert result.mape is not None


def test_three_points_forecast_without_a_backtest() -> None:
    result = forecast(series=[D(1), D(2), D(3)], horizon=1)
    assert result.points[0].value == D("4.00")
    assert result.mape is None


def test_an_exact_line_is_forecast_exactly() -> None:
    result = forecast(series=[D(100 + 5 * t) for t in range(14)], horizon=3)
    assert [p.value for p in result.points] == [D(170), D(175), D(180)]
    assert result.mape == 0


@pytest.mark.parametrize("series", [[], [1], [1, 2]])
def test_fewer_than_three_points_is_an_input_error(series: list[int]) -> None:
    with pytest.raises(EngineInputError) as caught:
        run_forecast({"series": series}, figures())
    assert "series" in caught.value.errors


def test_money_comes_back_as_strings() -> None:
    data = forecast(series=synthetic(12), horizon=1).as_dict()
    assert isinstance(data["points"][0]["value"], str)
