"""automation_value: what automated runs are worth in staff time, errors and compliance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .figures import FinancialFigures
from .inputs import InputReader
from .money import ONE, ZERO, EngineResult, exact, round_money, round_rate

METHOD = "automation_value"
METHOD_VERSION = 1

SECONDS_PER_HOUR = Decimal(3600)
INPUTS = ("manual_time_equivalent", "execution_time", "runs", "errors_avoided", "compliance_checks")


@dataclass(frozen=True, slots=True)
class AutomationValue(EngineResult):
    """Value of automation runs; ``time_saved_hours`` is negative when automation is slower."""

    time_saved_hours: Decimal
    cost_savings: Decimal
    error_reduction_value: Decimal
    compliance_value: Decimal
    total_value: Decimal


@exact
def automation_value(
    *,
    figures: FinancialFigures,
    manual_time_equivalent: Decimal,
    execution_time: Decimal,
    runs: Decimal = ONE,
    errors_avoided: Decimal = ZERO,
    compliance_checks: Decimal = ZERO,
) -> AutomationValue:
    """Value of ``runs`` automated executions under one financial model version.

    A slower automation yields negative savings, reported rather than hidden, so a
    dashboard never overstates what automation earns.
    """
    time_saved_hours = runs * (manual_time_equivalent - execution_time) / SECONDS_PER_HOUR
    cost_savings = time_saved_hours * figures.it_staff_hourly_rate
    error_reduction_value = errors_avoided * figures.cost_per_error
    compliance_value = compliance_checks * figures.compliance_value_per_check
    return AutomationValue(
        time_saved_hours=round_rate(time_saved_hours),
        cost_savings=round_money(cost_savings),
        error_reduction_value=round_money(error_reduction_value),
        compliance_value=round_money(compliance_value),
        total_value=round_money(cost_savings + error_reduction_value + compliance_value),
    )


def run(inputs: Mapping[str, Any], figures: FinancialFigures) -> AutomationValue:
    """Parse flat inputs and run ``automation_value``."""
    reader = InputReader(inputs, allowed=INPUTS)
    manual = reader.decimal("manual_time_equivalent", required=True)
    execution = reader.decimal("execution_time", required=True)
    runs = reader.decimal("runs", default=ONE)
    errors_avoided = reader.decimal("errors_avoided", default=ZERO)
    checks = reader.decimal("compliance_checks", default=ZERO)
    reader.finish()
    return automation_value(
        figures=figures,
        manual_time_equivalent=manual,
        execution_time=execution,
        runs=runs,
        errors_avoided=errors_avoided,
        compliance_checks=checks,
    )
