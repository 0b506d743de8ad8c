"""business_value_index: one 0-100 score from the three value streams against their targets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .figures import FinancialFigures, weighting_errors
from .inputs import InputReader
from .money import DAYS_PER_MONTH, HUNDRED, ONE, ZERO, EngineInputError, EngineResult, exact, round_rate

METHOD = "business_value_index"
METHOD_VERSION = 1

STREAMS = ("incident_prevention", "automation_roi", "performance_improvement")
INPUTS = tuple(f"{stream}_value" for stream in STREAMS) + tuple(
    f"{stream}_{setting}" for stream in STREAMS for setting in ("target", "weighting", "time_window")
)


@dataclass(frozen=True, slots=True)
class StreamInput:
    """One stream's value over its window, with its target, weighting and window."""

    value: Decimal
    target: Decimal
    weighting: Decimal
    time_window: int


@dataclass(frozen=True, slots=True)
class BusinessValueIndex(EngineResult):
    """The index and each stream's weighted contribution to it (all 0-100)."""

    business_value_index: Decimal
    incident_prevention_score: Decimal
    automation_roi_score: Decimal
    performance_improvement_score: Decimal


def _score(stream: StreamInput) -> Decimal:
    monthly = stream.value * DAYS_PER_MONTH / Decimal(stream.time_window)
    # Clamped below too: a stream that lost value adds nothing, it cannot cancel others.
    attainment = min(max(monthly / stream.target, ZERO), ONE)
    return stream.weighting * attainment * HUNDRED


@exact
def business_value_index(
    *,
    incident_prevention: StreamInput,
    automation_roi: StreamInput,
    performance_improvement: StreamInput,
) -> BusinessValueIndex:
    """Weighted attainment of each stream's monthly target, capped at 100 %.

    A window's value is scaled to a month of 365/12 days so streams with different
    windows (30 and 90 days by default) are compared like for like.
    """
    errors = weighting_errors(
        incident_prevention_weighting=incident_prevention.weighting,
        automation_roi_weighting=automation_roi.weighting,
        performance_improvement_weighting=performance_improvement.weighting,
    )
    for name, stream in zip(STREAMS, (incident_prevention, automation_roi, performance_improvement), strict=True):
        if stream.target <= 0:
            errors.setdefault(f"{name}_target", []).append("must be greater than 0")
        if stream.time_window < 1:
            errors.setdefault(f"{name}_time_window", []).append("must be at least 1 day")
    if errors:
        raise EngineInputError(errors=errors)
    scores = [_score(s) for s in (incident_prevention, automation_roi, performance_improvement)]
    return BusinessValueIndex(
        business_value_index=round_rate(sum(scores, ZERO)),
        incident_prevention_score=round_rate(scores[0]),
        automation_roi_score=round_rate(scores[1]),
        performance_improvement_score=round_rate(scores[2]),
    )


def run(inputs: Mapping[str, Any], figures: FinancialFigures) -> BusinessValueIndex:
    """Parse stream values (targets, weightings and windows default to the KPI settings)."""
    reader = InputReader(inputs, allowed=INPUTS)
    streams: dict[str, StreamInput] = {}
    for stream in STREAMS:
        streams[stream] = StreamInput(
            value=reader.decimal(f"{stream}_value", required=True, allow_negative=True),
            target=reader.decimal(f"{stream}_target", default=getattr(figures, f"{stream}_target")),
            weighting=reader.share(f"{stream}_weighting", default=getattr(figures, f"{stream}_weighting")),
            time_window=reader.integer(
                f"{stream}_time_window",
                default=getattr(figures, f"{stream}_time_window"),
                minimum=1,
                maximum=3660,
            ),
        )
    reader.finish()
    return business_value_index(**streams)
