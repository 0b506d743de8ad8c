"""The BizValue value engine: pure Decimal calculations, one module per method family.

No Django here: an auditor can re-run any ledger record with this package alone. The
registry below is the one door the Django side uses::

    spec = METHODS["incident_cost"]
    result = spec.run(inputs, figures)          # raises EngineInputError -> 400
    record = {"method": spec.name, "method_version": spec.version,
              "result": result.as_dict()}

and ``method_for(name, version)`` finds the version a ledger record was made with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import (
    automation,
    availability,
    competitive,
    forecast,
    incident,
    index,
    investment,
    performance,
    risk,
)
from .figures import FinancialFigures, SeverityResponders, revenue_consistency_errors
from .money import EngineInputError, EngineResult, round_money, round_rate, to_decimal

__all__ = [
    "METHODS",
    "EngineInputError",
    "EngineResult",
    "FinancialFigures",
    "MethodSpec",
    "SeverityResponders",
    "method_for",
    "revenue_consistency_errors",
    "round_money",
    "round_rate",
    "to_decimal",
]

Runner = Callable[[Mapping[str, Any], FinancialFigures], EngineResult]
Preparer = Callable[[Mapping[str, Any]], dict[str, Any]]
# Many inputs under one figures: each one's ``run(...).as_dict()``, or the error it raises.
ManyRunner = Callable[[Sequence[Mapping[str, Any]], FinancialFigures], list["dict[str, Any] | EngineInputError"]]


def _as_is(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return dict(inputs)


@dataclass(frozen=True, slots=True)
class MethodSpec:
    """A named, versioned method: ``run`` parses flat inputs and returns a result.

    ``prepare`` fills inputs the server must choose before storing them (the Monte
    Carlo seed), so that a ledger re-run sees exactly what the first run saw.
    ``many``, where a method has one, values a list of inputs under the same figures in
    one call (``run_many``), with exactly the results ``run`` gives one by one.
    """

    name: str
    version: int
    run: Runner
    prepare: Preparer = _as_is
    many: ManyRunner | None = None

    def run_many(
        self, inputs: Sequence[Mapping[str, Any]], figures: FinancialFigures
    ) -> list[dict[str, Any] | EngineInputError]:
        """For each of ``inputs`` in order: ``run(item, figures).as_dict()``, or the
        ``EngineInputError`` that call raises (returned, not raised, so one bad item
        does not hide the others' results or errors)."""
        if self.many is not None:
            return self.many(inputs, figures)
        results: list[dict[str, Any] | EngineInputError] = []
        for item in inputs:
            try:
                results.append(self.run(item, figures).as_dict())
            except EngineInputError as error:
                results.append(error)
        return results


_ALL: tuple[MethodSpec, ...] = (
    MethodSpec(incident.METHOD, incident.METHOD_VERSION, incident.run),
    MethodSpec(automation.METHOD, automation.METHOD_VERSION, automation.run, many=automation.run_many),
    MethodSpec(performance.METHOD, performance.METHOD_VERSION, performance.run),
    MethodSpec(
        performance.CUSTOMER_EXPERIENCE_METHOD,
        performance.CUSTOMER_EXPERIENCE_METHOD_VERSION,
        performance.run_customer_experience,
    ),
    MethodSpec(competitive.METHOD, competitive.METHOD_VERSION, competitive.run),
    # Superseded versions first: METHODS keeps the last spec of each name.
    MethodSpec(investment.METHOD, 1, investment.run_v1),
    MethodSpec(investment.METHOD, investment.METHOD_VERSION, investment.run),
    MethodSpec(risk.METHOD, risk.METHOD_VERSION, risk.run, risk.prepare_inputs),
    MethodSpec(availability.METHOD, availability.METHOD_VERSION, availability.run),
    MethodSpec(index.METHOD, index.METHOD_VERSION, index.run),
    MethodSpec(forecast.METHOD, forecast.METHOD_VERSION, forecast.run),
)

# Current version of each method, by name.
METHODS: dict[str, MethodSpec] = {spec.name: spec for spec in _ALL}

# Every version still able to recompute; a v2 goes here beside v1, never instead of it.
_VERSIONS: dict[tuple[str, int], MethodSpec] = {(spec.name, spec.version): spec for spec in _ALL}


def method_for(name: str, version: int | None = None) -> MethodSpec:
    """The spec for ``name`` at ``version`` (default: current); unknown is an input error."""
    spec = METHODS.get(name) if version is None else _VERSIONS.get((name, version))
    if spec is None:
        label = name if version is None else f"{name} v{version}"
        raise EngineInputError("method", f"unknown method {label}")
    return spec
