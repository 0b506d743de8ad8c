"""forecast: monthly value projections with 80 % and 95 % intervals and a backtest error.

Holt's additive trend (ETS(A,A,N)) once there is a year of history, an ordinary
least-squares line below that; numpy does the arithmetic and every figure is converted
back to Decimal before rounding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from governance.months import parse_month

from .figures import FinancialFigures
from .inputs import InputReader
from .money import EngineInputError, EngineResult, exact, round_money, round_rate_or_none

METHOD = "forecast"
METHOD_VERSION = 1

HOLT = "holt"
LINEAR = "linear"
MIN_POINTS = 3
HOLT_MIN_POINTS = 12
BACKTEST_POINTS = 3
MAX_POINTS = 600
DEFAULT_HORIZON = 6
MAX_HORIZON = 36
SMOOTHING_GRID = np.round(np.arange(0.05, 1.0, 0.05), 2)
Z_80 = 1.2815515655446004
Z_95 = 1.959963984540054
# Student t quantiles (0.90, 0.975) by degrees of freedom: short linear fits need wide
# intervals, and hard-coding ten rows saves a scipy dependency.
T_QUANTILES = {
    1: (3.078, 12.706),
    2: (1.886, 4.303),
    3: (1.638, 3.182),
    4: (1.533, 2.776),
    5: (1.476, 2.571),
    6: (1.440, 2.447),
    7: (1.415, 2.365),
    8: (1.397, 2.306),
    9: (1.383, 2.262),
    10: (1.372, 2.228),
}
INPUTS = ("series", "horizon", "last_month")

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ForecastPoint(EngineResult):
    """One projected month: point value and its 80 % and 95 % intervals."""

    step: int
    month: str | None
    value: Decimal
    low_80: Decimal
    high_80: Decimal
    low_95: Decimal
    high_95: Decimal


@dataclass(frozen=True, slots=True)
class Forecast(EngineResult):
    """Projected points, the method used and its backtest MAPE (percent; None if unknown)."""

    method: str
    mape: Decimal | None
    points: tuple[ForecastPoint, ...]


@dataclass(frozen=True, slots=True)
class _Fit:
    values: FloatArray  # point forecasts, steps 1..h
    spread_80: FloatArray  # half-widths
    spread_95: FloatArray


def _holt(series: FloatArray, horizon: int) -> _Fit:
    # Every (alpha, beta) pair on the grid is filtered at once, one column per pair.
    alphas, betas = np.meshgrid(SMOOTHING_GRID, SMOOTHING_GRID, indexing="ij")
    alpha, beta = alphas.ravel(), betas.ravel()
    level = np.full(alpha.shape, series[0])
    trend = np.full(alpha.shape, series[1] - series[0])
    sse = np.zeros(alpha.shape)
    for observed in series[1:]:
        predicted = level + trend
        error = observed - predicted
        sse += error * error
        new_level = predicted + alpha * error
        trend = beta * (new_level - level) + (1 - beta) * trend
        level = new_level
    best = int(np.argmin(sse))
    a, b = float(alpha[best]), float(beta[best])
    steps = np.arange(1, horizon + 1, dtype=np.float64)
    values = level[best] + steps * trend[best]
    sigma2 = float(sse[best]) / max(len(series) - 4, 1)  # alpha, beta, level0, trend0
    b_ets = a * b  # the error-correction form's trend coefficient
    variance = sigma2 * (1 + (steps - 1) * (a * a + a * b_ets * steps + b_ets * b_ets * steps * (2 * steps - 1) / 6))
    sd = np.sqrt(variance)
    return _Fit(values=values, spread_80=Z_80 * sd, spread_95=Z_95 * sd)


def _linear(series: FloatArray, horizon: int) -> _Fit:
    n = len(series)
    x = np.arange(n, dtype=np.float64)
    slope, intercept = np.polyfit(x, series, 1)
    future = np.arange(n, n + horizon, dtype=np.float64)
    values = intercept + slope * future
    df = n - 2
    if df < 1:
        zero = np.zeros(horizon)
        return _Fit(values=values, spread_80=zero, spread_95=zero)
    residuals = series - (intercept + slope * x)
    s = math.sqrt(float(residuals @ residuals) / df)
    sxx = float(((x - x.mean()) ** 2).sum())
    se = s * np.sqrt(1 + 1 / n + (future - x.mean()) ** 2 / sxx)
    t80, t95 = T_QUANTILES.get(df, (Z_80, Z_95))
    return _Fit(values=values, spread_80=t80 * se, spread_95=t95 * se)


def _fit(series: FloatArray, horizon: int, method: str) -> _Fit:
    return _holt(series, horizon) if method == HOLT else _linear(series, horizon)


def _backtest_mape(series: FloatArray, method: str) -> float | None:
    train, test = series[:-BACKTEST_POINTS], series[-BACKTEST_POINTS:]
    if len(train) < MIN_POINTS:
        return None
    predicted = _fit(train, BACKTEST_POINTS, method).values
    mask = test != 0
    if not mask.any():
        return None
    return float(np.mean(np.abs((test[mask] - predicted[mask]) / test[mask])) * 100)


def _dec(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def _month_label(last_month: str | None, step: int) -> str | None:
    if last_month is None:
        return None
    year, month = (int(part) for part in last_month.split("-"))
    index = year * 12 + (month - 1) + step
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@exact
def forecast(*, series: Sequence[Decimal], horizon: int = DEFAULT_HORIZON, last_month: str | None = None) -> Forecast:
    """Project a monthly series ``horizon`` months ahead, naming the method and its MAPE.

    The backtest refits the same method without the last three months and scores it on
    them, so a reader can judge how far to trust the projection.
    """
    if len(series) < MIN_POINTS:
        raise EngineInputError("series", f"needs at least {MIN_POINTS} monthly values to forecast")
    values = np.array([float(value) for value in series], dtype=np.float64)
    method = HOLT if len(series) >= HOLT_MIN_POINTS else LINEAR
    fit = _fit(values, horizon, method)
    mape = _backtest_mape(values, method)
    points = tuple(
        ForecastPoint(
            step=step,
            month=_month_label(last_month, step),
            value=round_money(_dec(fit.values[step - 1])),
            low_80=round_money(_dec(fit.values[step - 1] - fit.spread_80[step - 1])),
            high_80=round_money(_dec(fit.values[step - 1] + fit.spread_80[step - 1])),
            low_95=round_money(_dec(fit.values[step - 1] - fit.spread_95[step - 1])),
            high_95=round_money(_dec(fit.values[step - 1] + fit.spread_95[step - 1])),
        )
        for step in range(1, horizon + 1)
    )
    return Forecast(
        method=method,
        mape=round_rate_or_none(None if mape is None else _dec(mape)),
        points=points,
    )


def run(inputs: Mapping[str, Any], figures: FinancialFigures) -> Forecast:
    """Parse ``series`` (oldest first), ``horizon`` and optional ``last_month`` (YYYY-MM)."""
    reader = InputReader(inputs, allowed=INPUTS)
    series = reader.decimal_list("series", min_length=MIN_POINTS, max_length=MAX_POINTS, allow_negative=True)
    horizon = reader.integer("horizon", default=DEFAULT_HORIZON, minimum=1, maximum=MAX_HORIZON)
    last_month = reader.text("last_month", max_length=7)
    if last_month is not None and not _is_month(last_month):
        reader.add_error("last_month", "must be a month as YYYY-MM")
    reader.finish()
    assert series is not None
    return forecast(series=series, horizon=horizon, last_month=last_month)


def _is_month(text: str) -> bool:
    try:
        parse_month(text)
    except ValueError:
        return False
    return True
