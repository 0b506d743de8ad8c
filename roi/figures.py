"""Between the API's nested configuration and the engine's flat `FinancialFigures`.

The API speaks in the brief's groups (`revenue_model.annual_recurring_revenue`,
`kpis.availability.target`, `attribution_rules.automation_roi.weighting`); the engine
takes one flat mapping. This module owns that translation in both directions, including
turning the engine's flat error names back into the paths the caller sent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from roi.engine import EngineInputError, FinancialFigures
from roi.engine.money import to_decimal

MODEL_GROUPS: dict[str, tuple[str, ...]] = {
    "revenue_model": (
        "annual_recurring_revenue",
        "average_transaction_value",
        "transactions_per_minute",
        "revenue_per_minute_override",
        "override_reason",
    ),
    "cost_model": (
        "it_staff_hourly_rate",
        "engineer_hourly_rate",
        "infrastructure_cost_per_hour",
        "customer_support_cost_per_incident",
        "cost_per_error",
        "compliance_value_per_check",
        "development_value_per_day",
    ),
    "impact_model": (
        "customer_count",
        "customer_churn_rate_per_incident",
        "new_customer_acquisition_cost",
        "customer_lifetime_value",
        "brand_impact_factor",
    ),
}
# Derived figures a caller may send; checked against the primary inputs, never stored.
DERIVED_REVENUE = ("monthly_recurring_revenue", "revenue_per_minute")

# KPI paths -> the engine figure they set (None: kept for the dashboard and alerts, or
# informational). Two settings of the brief's KPI YAML restate a financial-model figure in
# other units; the versioned financial model stays the one source the engine values with, so
# a ledger record's figures never depend on which of two places was edited last:
# - `kpis.automation.manual_process_cost_per_hour`: automation hours are valued at
#   `cost_model.it_staff_hourly_rate`; this KPI is informational (shown beside that rate).
# - `kpis.automation.compliance_value_per_year`: compliance value is counted per check
#   (`cost_model.compliance_value_per_check` x checks run); this KPI is informational.
INFORMATIONAL_KPIS: dict[tuple[str, ...], str] = {
    ("kpis", "automation", "manual_process_cost_per_hour"): "cost_model.it_staff_hourly_rate",
    ("kpis", "automation", "compliance_value_per_year"): "cost_model.compliance_value_per_check",
}
KPI_FIELDS: dict[tuple[str, ...], str | None] = {
    ("kpis", "availability", "target"): "availability_target",
    ("kpis", "availability", "cost_per_9"): "cost_per_9",
    ("kpis", "performance", "target_response_time"): None,
    ("kpis", "performance", "baseline_response_time"): None,
    ("kpis", "performance", "revenue_impact_per_100ms"): "revenue_impact_per_100ms",
    ("kpis", "performance", "monthly_value_target"): "performance_improvement_target",
    ("kpis", "automation", "monthly_savings_target"): "automation_roi_target",
    ("kpis", "automation", "error_rate_reduction_target"): None,
    **dict.fromkeys(INFORMATIONAL_KPIS),
    ("kpis", "customer_experience", "satisfaction_per_100ms"): "satisfaction_per_100ms",
    ("kpis", "customer_experience", "satisfaction_per_availability_point"): "satisfaction_per_availability_point",
    ("kpis", "customer_experience", "churn_reduction_per_satisfaction_point"): "churn_reduction_per_satisfaction_point",
    ("alerts", "monthly_value_target"): None,
    ("alerts", "roi_target"): None,
    ("alerts", "roi_decline_points"): None,
    ("alerts", "incident_prevention_target"): "incident_prevention_target",
    **{
        ("attribution_rules", stream, rule): f"{stream}_{rule}"
        for stream in ("incident_prevention", "automation_roi", "performance_improvement")
        for rule in ("weighting", "time_window")
    },
}
KPI_DEFAULTS: dict[tuple[str, ...], str] = {
    ("kpis", "performance", "target_response_time"): "200",
    ("alerts", "monthly_value_target"): "100000",
    ("alerts", "roi_target"): "300",
    ("alerts", "roi_decline_points"): "10",
    ("kpis", "automation", "error_rate_reduction_target"): "0.8",
}
KPI_SECTIONS = ("kpis", "alerts", "attribution_rules")


def _figure_to_path() -> dict[str, str]:
    paths = {name: f"{group}.{name}" for group, names in MODEL_GROUPS.items() for name in names}
    paths.update({name: f"revenue_model.{name}" for name in DERIVED_REVENUE})
    paths.update({figure: ".".join(path) for path, figure in KPI_FIELDS.items() if figure})
    return paths


FIGURE_PATHS = _figure_to_path()


def nest_errors(errors: Mapping[str, list[str]], prefix: str = "") -> dict[str, list[str]]:
    """Engine errors (flat figure names) renamed to the paths the caller used."""
    named: dict[str, list[str]] = {}
    for name, messages in errors.items():
        head, dot, rest = name.partition(".")
        path = FIGURE_PATHS.get(name) or (FIGURE_PATHS.get(head, head) + dot + rest if dot else name)
        named.setdefault(prefix + path, []).extend(messages)
    return named


def model_flat(groups: Mapping[str, Any]) -> dict[str, Any]:
    """The financial model's groups as the engine's flat mapping; unknown keys are errors."""
    errors: dict[str, list[str]] = {}
    flat: dict[str, Any] = {}
    for group, names in MODEL_GROUPS.items():
        values = groups.get(group) or {}
        if not isinstance(values, Mapping):
            errors[group] = ["must be an object"]
            continue
        allowed = set(names) | (set(DERIVED_REVENUE) if group == "revenue_model" else set())
        for key, value in values.items():
            if key not in allowed:
                errors.setdefault(f"{group}.{key}", []).append("is not a field of this group")
            elif value is not None:
                flat[key] = value
    for key in ("severity_responders", "revenue_profile"):
        if groups.get(key) is not None:
            flat[key] = groups[key]
    if errors:
        raise EngineInputError(errors=errors)
    return flat


def kpis_flat(sections: Mapping[str, Any]) -> tuple[dict[str, Any], dict[tuple[str, ...], Decimal]]:
    """KPI sections as flat engine figures, plus the KPI-only values (validated here)."""
    errors: dict[str, list[str]] = {}
    flat: dict[str, Any] = {}
    extra: dict[tuple[str, ...], Decimal] = {}
    known = set(KPI_FIELDS)

    def walk(value: Any, path: tuple[str, ...]) -> None:
        if path in known:
            figure = KPI_FIELDS[path]
            if figure is not None:
                flat[figure] = value
            else:
                try:
                    number = to_decimal(value, ".".join(path))
                    if path[-1] == "error_rate_reduction_target" and number > 1:
                        raise EngineInputError(".".join(path), "must be between 0 and 1")
                    if path[-1] == "roi_decline_points" and number <= 0:
                        raise EngineInputError(".".join(path), "must be more than 0 percentage points")
                    extra[path] = number
                except EngineInputError as error:
                    for name, messages in error.errors.items():
                        errors.setdefault(name, []).extend(messages)
            return
        if not isinstance(value, Mapping) or not any(k[: len(path)] == path for k in known):
            errors.setdefault(".".join(path), []).append("is not a KPI setting")
            return
        for key, item in value.items():
            walk(item, (*path, str(key)))

    for section in KPI_SECTIONS:
        if sections.get(section) is not None:
            walk(sections[section], (section,))
    for key in sections:
        if key not in KPI_SECTIONS:
            errors.setdefault(str(key), []).append("is not a KPI section")
    if errors:
        raise EngineInputError(errors=errors)
    return flat, extra


def model_groups(figures: FinancialFigures) -> dict[str, Any]:
    """The financial model in force, by group, for storage and display (no derived figures)."""
    data = figures.as_dict(include_derived=False)
    groups: dict[str, Any] = {group: {name: data[name] for name in names} for group, names in MODEL_GROUPS.items()}
    groups["severity_responders"] = data["severity_responders"]
    groups["revenue_profile"] = data["revenue_profile"]
    return groups


def kpi_sections(figures: FinancialFigures, extra: Mapping[tuple[str, ...], Decimal]) -> dict[str, Any]:
    """The KPIs in force, by section, for storage and display."""
    data = figures.as_dict(include_derived=False)
    sections: dict[str, Any] = {section: {} for section in KPI_SECTIONS}
    for path, figure in KPI_FIELDS.items():
        if figure is not None:
            value: Any = data[figure]
        else:
            value = str(extra[path]) if path in extra else KPI_DEFAULTS.get(path)
        if value is None:
            continue
        node = sections
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return sections


# The JSON columns of a stored financial model version, as `model_flat` reads them.
STORED_MODEL_GROUPS = ("revenue_model", "cost_model", "impact_model", "severity_responders", "revenue_profile")


def stored_model_groups(model: Any) -> dict[str, Any]:
    """A stored financial model version's groups (its JSON columns), as `model_flat` reads them."""
    return {group: getattr(model, group) for group in STORED_MODEL_GROUPS}


def stored_kpi_sections(kpis: Any) -> dict[str, Any]:
    """A stored KPI version's sections (its JSON columns), as `kpis_flat` reads them."""
    return {section: getattr(kpis, section) for section in KPI_SECTIONS}


def stored_flat(model: Mapping[str, Any] | None, kpis: Mapping[str, Any] | None, time_zone: str) -> dict[str, Any]:
    """The flat figures of a stored model version and KPI version (either may be missing)."""
    flat: dict[str, Any] = {"time_zone": time_zone}
    if model is not None:
        flat.update(model_flat(model))
    if kpis is not None:
        flat.update(kpis_flat(kpis)[0])
    return flat


def kpi_rows(sections: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Every KPI setting with its value in force, in KPI_FIELDS order, for display and forms.

    Without a stored KPI version the engine's defaults are in force, and are what is shown.
    `informational` names the financial-model figure the engine uses instead, if any.
    """
    if sections is None:
        sections = kpi_sections(FinancialFigures(annual_recurring_revenue=Decimal(0)), {})
    rows = []
    for path in KPI_FIELDS:
        node: Any = sections
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        rows.append(
            {
                "path": ".".join(path),
                "section": path[0],
                "name": ".".join(path[1:]),
                "value": node,
                "informational": INFORMATIONAL_KPIS.get(path),
            }
        )
    return rows


def kpi_sections_from_form(values: Mapping[str, Any]) -> dict[str, Any]:
    """A form's dotted KPI paths as the nested sections `PUT config/business-kpis` takes.

    Every section is present (a form sends them all, and a section sent replaces the stored
    one whole); a blank field is left out, so the engine's default applies to it.
    """
    sections: dict[str, Any] = {section: {} for section in KPI_SECTIONS}
    for path in KPI_FIELDS:
        raw = values.get(".".join(path))
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        node = sections
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = raw.strip() if isinstance(raw, str) else raw
    return sections


# --- What-if assumptions ----------------------------------------------------------------

# A calculation's `assumptions` may name "any financial model or KPI field" (api.md): by the
# engine's flat name (`it_staff_hourly_rate`, `availability_target`), by its path in the
# configuration (`cost_model.it_staff_hourly_rate`, `kpis.availability.target`), nested as
# the configuration is (`{"kpis": {"availability": {"target": 99.99}}}`), or by a KPI's own
# name where no other KPI shares it (`monthly_savings_target`). KPI settings that no method
# reads (`roi_target`, `target_response_time`) are accepted, checked as numbers, and change
# nothing. What the caller sent is what the ledger stores, so verification reads it again
# through this same translation.
_FIGURE_NAMES = frozenset(f.name for f in dataclasses.fields(FinancialFigures)) | set(DERIVED_REVENUE)
_PATHS: dict[str, str | None] = {
    **{f"{group}.{name}": name for group, names in MODEL_GROUPS.items() for name in names},
    **{f"revenue_model.{name}": name for name in DERIVED_REVENUE},
    **{".".join(path): figure for path, figure in KPI_FIELDS.items()},
}
_KPI_LEAVES = [path[-1] for path in KPI_FIELDS]
_UNIQUE_KPI_NAMES: dict[str, str | None] = {
    path[-1]: figure
    for path, figure in KPI_FIELDS.items()
    if _KPI_LEAVES.count(path[-1]) == 1 and path[-1] not in _FIGURE_NAMES and path[-1] != "target"
}
_NOT_A_FIGURE = object()


def _assumed_figure(name: str) -> Any:
    """The engine figure a what-if name sets, None for a KPI no method reads, or _NOT_A_FIGURE."""
    if name in _FIGURE_NAMES:
        return name
    if name in _PATHS:
        return _PATHS[name]
    return _UNIQUE_KPI_NAMES.get(name, _NOT_A_FIGURE)


def assumptions_flat(assumptions: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """What-if assumptions as flat engine figures, and each figure's name as the caller wrote it.

    A name that is no field at all is passed through, so the engine names it in its error.
    """
    flat: dict[str, Any] = {}
    written: dict[str, str] = {}
    errors: dict[str, list[str]] = {}

    def walk(prefix: str, values: Mapping[str, Any]) -> None:
        for key, value in values.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            figure = _assumed_figure(name)
            if figure is _NOT_A_FIGURE and isinstance(value, Mapping) and any(p.startswith(f"{name}.") for p in _PATHS):
                walk(name, value)
            elif figure is None:
                try:
                    to_decimal(value, name)
                except EngineInputError as error:
                    for messages in error.errors.values():
                        errors.setdefault(f"assumptions.{name}", []).extend(messages)
            else:
                figure = name if figure is _NOT_A_FIGURE else figure
                flat[figure] = value
                written[figure] = name

    walk("", assumptions)
    if errors:
        raise EngineInputError(errors=errors)
    return flat, written
