"""automation_value: what automated runs are worth in staff time, errors and compliance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal, localcontext
from typing import Any

from .figures import FinancialFigures
from .inputs import InputReader
from .money import ENGINE_CONTEXT, ONE, ZERO, EngineInputError, EngineResult, exact, round_money, round_rate, to_decimal

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


_INPUT_NAMES = frozenset(INPUTS)
_RESULT_NAMES = tuple(f.name for f in fields(AutomationValue))
_calculate = automation_value.__wrapped__  # type: ignore[attr-defined]  # the body, without its context switch


def run_many(inputs: Sequence[Mapping[str, Any]], figures: FinancialFigures) -> list[dict[str, Any] | EngineInputError]:
    """``run(item, figures).as_dict()`` for each item (or its ``EngineInputError``), in one call.

    The batch path of ingestion: the same parsing rules (``to_decimal``, as
    ``InputReader.decimal`` applies them) and the same calculation (``automation_value``'s
    own body), run under one engine context for the whole list instead of one per item.
    An item that is not plainly valid (an unknown or missing name, a value ``to_decimal``
    refuses) goes through ``run`` itself, so its errors are exactly the ones ``run``
    reports.
    """
    results: list[dict[str, Any] | EngineInputError] = []
    with localcontext(ENGINE_CONTEXT):
        for item in inputs:
            try:
                if not isinstance(item, Mapping) or not _INPUT_NAMES.issuperset(item):
                    raise EngineInputError("inputs", "not plainly valid")
                runs = item.get("runs")
                errors_avoided = item.get("errors_avoided")
                checks = item.get("compliance_checks")
                value = _calculate(
                    figures=figures,
                    manual_time_equivalent=to_decimal(item.get("manual_time_equivalent"), "manual_time_equivalent"),
                    execution_time=to_decimal(item.get("execution_time"), "execution_time"),
                    runs=ONE if runs is None else to_decimal(runs, "runs"),
                    errors_avoided=ZERO if errors_avoided is None else to_decimal(errors_avoided, "errors_avoided"),
                    compliance_checks=ZERO if checks is None else to_decimal(checks, "compliance_checks"),
                )
            except EngineInputError:
                try:
                    results.append(run(item, figures).as_dict())
                except EngineInputError as error:
                    results.append(error)
                continue
            results.append({name: str(getattr(value, name)) for name in _RESULT_NAMES})
    return results
