"""value_at_risk: Monte Carlo over an investment case with triangular input ranges.

numpy does the sampling (100,000 trials take milliseconds); its float results are
converted back to Decimal through ``repr`` before the one rounding, so money still
leaves the engine as Decimal. The same inputs and seed always give the same result.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from .figures import FinancialFigures
from .inputs import InputReader, number_schema
from .investment import (
    DEFAULT_ANNUAL_DISCOUNT_RATE,
    MAX_MONTHS,
    monthly_rate,
    present_value,
    read_common,
    read_months,
)
from .money import ONE, ZERO, EngineInputError, EngineResult, exact, round_money, round_rate, to_decimal

METHOD = "value_at_risk"
METHOD_VERSION = 1

DEFAULT_TRIALS = 10_000
MIN_TRIALS = 1_000
MAX_TRIALS = 1_000_000
# Seeds stay below 1e15: within the engine's number limit and exact in JavaScript.
MAX_SEED = 10**15
INPUTS = (
    "upfront_cost",
    "monthly_cost",
    "monthly_benefit",
    "benefits",
    "months",
    "annual_discount_rate",
    "benefit_risk_adjustment",
    "cost_risk_adjustment",
    "trials",
    "seed",
)


@dataclass(frozen=True, slots=True)
class Triangular:
    """A three-point estimate: lowest, most likely and highest value."""

    low: Decimal
    mode: Decimal
    high: Decimal


Estimate = Decimal | Triangular


@dataclass(frozen=True, slots=True)
class ValueAtRisk(EngineResult):
    """Distribution of NPV across trials; ``value_at_risk_95 = mean_npv - p5_npv``."""

    mean_npv: Decimal
    p5_npv: Decimal
    p50_npv: Decimal
    p95_npv: Decimal
    probability_of_loss: Decimal
    value_at_risk_95: Decimal
    trials: int
    seed: int


def _sample(rng: np.random.Generator, estimate: Estimate, trials: int) -> npt.NDArray[np.float64] | float:
    if isinstance(estimate, Decimal):
        return float(estimate)
    if estimate.low == estimate.high:
        # numpy refuses a zero-width triangle; it is simply a fixed value.
        return float(estimate.low)
    return rng.triangular(float(estimate.low), float(estimate.mode), float(estimate.high), trials)


def _to_decimal(value: float) -> Decimal:
    return Decimal(repr(float(value)))


@exact
def value_at_risk(
    *,
    upfront_cost: Estimate,
    monthly_cost: Estimate,
    months: int,
    seed: int,
    monthly_benefit: Estimate | None = None,
    benefits: Sequence[Decimal] | None = None,
    annual_discount_rate: Decimal = DEFAULT_ANNUAL_DISCOUNT_RATE,
    benefit_risk_adjustment: Decimal = ZERO,
    cost_risk_adjustment: Decimal = ZERO,
    trials: int = DEFAULT_TRIALS,
) -> ValueAtRisk:
    """Monte Carlo NPV distribution of an investment case, reproducible from ``seed``.

    NPV is linear in the three ranged inputs, so each trial is one multiply-add on
    Decimal-computed annuity factors: fast, and identical to ``investment_roi`` at the mode.
    """
    if (monthly_benefit is None) == (benefits is None):
        raise EngineInputError("monthly_benefit", "give either monthly_benefit or benefits")
    if benefits is not None and len(benefits) != months:
        raise EngineInputError("benefits", f"must have one value per month ({months})")
    rate = monthly_rate(annual_discount_rate)
    annuity = present_value([ZERO] + [ONE] * months, rate)
    fixed_pv_benefits = present_value([ZERO, *benefits], rate) if benefits is not None else ZERO
    benefit_factor = float(ONE - benefit_risk_adjustment)
    cost_factor = float(ONE + cost_risk_adjustment)
    rng = np.random.default_rng(seed)
    # Draw order is fixed (upfront, monthly cost, monthly benefit) so a seed means one thing.
    upfront = _sample(rng, upfront_cost, trials)
    cost = _sample(rng, monthly_cost, trials)
    benefit = _sample(rng, monthly_benefit, trials) if monthly_benefit is not None else 0.0
    npv = (np.asarray(benefit, dtype=np.float64) * float(annuity) + float(fixed_pv_benefits)) * benefit_factor - (
        np.asarray(upfront, dtype=np.float64) + np.asarray(cost, dtype=np.float64) * float(annuity)
    ) * cost_factor
    npv = np.broadcast_to(npv, (trials,))
    p5, p50, p95 = np.percentile(npv, [5, 50, 95])
    mean = _to_decimal(float(np.mean(npv)))
    p5_decimal = _to_decimal(p5)
    return ValueAtRisk(
        mean_npv=round_money(mean),
        p5_npv=round_money(p5_decimal),
        p50_npv=round_money(_to_decimal(p50)),
        p95_npv=round_money(_to_decimal(p95)),
        probability_of_loss=round_rate(Decimal(int(np.count_nonzero(npv < 0))) / Decimal(trials)),
        value_at_risk_95=round_money(mean - p5_decimal),
        trials=trials,
        seed=seed,
    )


def prepare_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs with a fresh random ``seed`` added when none was given.

    The caller stores the prepared inputs, so the ledger can re-run the same trials.
    """
    prepared = dict(inputs)
    if prepared.get("seed") is None:
        prepared["seed"] = secrets.randbelow(MAX_SEED + 1)
    return prepared


def _read_estimate(reader: InputReader, field: str, *, required: bool) -> Estimate | None:
    point = number_schema()
    point_schemas = {key: point for key in ("low", "mode", "high")}
    triangular = {
        "type": "object",
        "properties": point_schemas,
        "required": list(point_schemas),
        "additionalProperties": False,
    }
    reader.declare(field, {"anyOf": [point, triangular]}, required=required)
    raw = reader.inputs.get(field)
    if not isinstance(raw, Mapping):
        if required:
            return reader.decimal(field, required=True)
        return reader.optional_decimal(field)
    unknown = set(raw) - {"low", "mode", "high"}
    if unknown or not {"low", "mode", "high"} <= set(raw):
        reader.add_error(field, "a range must have exactly low, mode and high")
        return ZERO
    points: dict[str, Decimal] = {}
    for key in ("low", "mode", "high"):
        try:
            points[key] = to_decimal(raw[key], f"{field}.{key}")
        except EngineInputError as error:
            for name, messages in error.errors.items():
                for message in messages:
                    reader.add_error(name, message)
    if len(points) < 3:
        return ZERO
    if not points["low"] <= points["mode"] <= points["high"]:
        reader.add_error(field, "a range needs low ≤ mode ≤ high")
        return ZERO
    return Triangular(**points)


def run(inputs: Mapping[str, Any], figures: FinancialFigures) -> ValueAtRisk:
    """Parse flat inputs (any of the three amounts may be a range) and run ``value_at_risk``."""
    reader = InputReader(inputs, allowed=INPUTS)
    reader.declare_alternatives(("monthly_benefit", "months"), ("benefits",), exclusive=True)
    upfront = _read_estimate(reader, "upfront_cost", required=True)
    cost = _read_estimate(reader, "monthly_cost", required=False) or ZERO
    benefits = reader.decimal_list("benefits", min_length=1, max_length=MAX_MONTHS, required=False)
    benefit = _read_estimate(reader, "monthly_benefit", required=False)
    if (benefit is None) == (benefits is None) and "benefits" not in reader.errors:
        reader.add_error("monthly_benefit", "give either monthly_benefit or benefits")
    months = read_months(reader, benefits)
    rate, benefit_risk, cost_risk = read_common(reader)
    trials = reader.integer("trials", default=DEFAULT_TRIALS, minimum=MIN_TRIALS, maximum=MAX_TRIALS)
    seed = reader.integer("seed", default=None, minimum=0, maximum=MAX_SEED)
    reader.finish()
    assert upfront is not None
    return value_at_risk(
        upfront_cost=upfront,
        monthly_cost=cost,
        months=months,
        seed=seed,
        monthly_benefit=benefit,
        benefits=benefits,
        annual_discount_rate=rate,
        benefit_risk_adjustment=benefit_risk,
        cost_risk_adjustment=cost_risk,
        trials=trials,
    )
