"""The calculator forms: one per engine method, with the tenant's figures as editable what-ifs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from roi.engine import EngineInputError

# Engine error names carry a list index (`benefits[3]`, `cash_flows.costs[0]`).
_INDEXED = re.compile(r"^(?P<path>[\w.]+)\[(?P<index>\d+)\]$")


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    example: str = ""
    kind: str = "number"  # number, choice, flag, lines (a textarea, one amount a line)
    choices: tuple[str, ...] = ()
    # Where the value goes in the API body, dotted for nesting (`cash_flows.costs`,
    # `upfront_cost.low`); blank: the field's own name.
    source: str = ""
    # The input modes the field belongs to; blank: every mode.
    modes: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        return self.source or self.name


@dataclass(frozen=True)
class Calculator:
    method: str
    title: str
    fields: tuple[Field, ...]
    # Alternative input forms (key, label), the first the default; only the chosen one's
    # fields go into the body, as the API takes one form or the other.
    modes: tuple[tuple[str, str], ...] = ()

    def fields_for(self, mode: str) -> tuple[Field, ...]:
        return tuple(field for field in self.fields if not field.modes or mode in field.modes)


MONTHLY, BENEFIT_LIST, CASH_FLOWS = "monthly", "benefits", "cash_flows"


CALCULATORS: dict[str, Calculator] = {
    c.method: c
    for c in (
        Calculator(
            "incident_cost",
            "Cost of an incident, and the value of preventing it",
            (
                Field("downtime_minutes", "Downtime (minutes)", "45"),
                Field("severity", "Severity", "sev1", "choice", ("sev1", "sev2", "sev3", "sev4")),
                Field("affected_revenue_share", "Share of revenue affected (0 to 1)", "1"),
                Field("affected_customers", "Customers affected", "0"),
                Field("public", "Publicly visible", "", "flag"),
                Field("recovery_cost", "Recovery cost (blank: from responders)"),
                Field("reputational_damage", "Reputational damage", "0"),
                Field("prevention_confidence", "Prevention confidence (0 to 1)", "1"),
            ),
        ),
        Calculator(
            "automation_value",
            "Value of an automation",
            (
                Field("manual_time_equivalent", "Manual time per run (seconds)", "3600"),
                Field("execution_time", "Automated time per run (seconds)", "60"),
                Field("runs", "Runs", "40"),
                Field("errors_avoided", "Errors avoided", "0"),
                Field("compliance_checks", "Compliance checks", "0"),
            ),
        ),
        Calculator(
            "performance_impact",
            "Revenue impact of a faster service",
            (
                Field("response_time_improvement_ms", "Response time improvement (ms)", "200"),
                Field("conversion_rate_lift", "Conversion rate lift (percent, optional)"),
            ),
        ),
        Calculator(
            "customer_experience",
            "Customer experience and churn",
            (
                Field("response_time_change_ms", "Response time change (ms, positive is slower)", "-200"),
                Field("availability_change", "Availability change (percentage points)", "0.05"),
            ),
        ),
        Calculator(
            "competitive_advantage",
            "Delivery performance and DORA tiers",
            (
                Field("deployment_frequency", "Deployments a month", "20"),
                Field("lead_time", "Lead time (days)", "2"),
                Field("recovery_time", "Time to restore (hours)", "1"),
                Field("change_failure_rate", "Change failure rate (percent, optional)"),
            ),
        ),
        Calculator(
            "investment_roi",
            "Return on an investment",
            (
                Field("upfront_cost", "Upfront cost", "100000", modes=(MONTHLY, BENEFIT_LIST)),
                Field("monthly_cost", "Monthly cost", "5000", modes=(MONTHLY, BENEFIT_LIST)),
                Field("monthly_benefit", "Monthly benefit", "25000", modes=(MONTHLY,)),
                Field("months", "Months", "36", modes=(MONTHLY,)),
                Field(
                    "benefits",
                    "Benefit of each month, one amount a line (first line: month 1)",
                    kind="lines",
                    modes=(BENEFIT_LIST,),
                ),
                Field(
                    "cash_flow_period",
                    "Each line is a",
                    "year",
                    "choice",
                    ("year", "month"),
                    source="cash_flows.period",
                    modes=(CASH_FLOWS,),
                ),
                Field(
                    "cash_flow_costs",
                    "Costs, one amount a line (first line: the initial period, not discounted)",
                    "10000\n5000\n5000\n5000",
                    "lines",
                    source="cash_flows.costs",
                    modes=(CASH_FLOWS,),
                ),
                Field(
                    "cash_flow_benefits",
                    "Benefits, one amount a line, as many lines as costs",
                    "0\n12000\n14000\n16000",
                    "lines",
                    source="cash_flows.benefits",
                    modes=(CASH_FLOWS,),
                ),
                Field("annual_discount_rate", "Annual discount rate", "0.10"),
                Field("benefit_risk_adjustment", "Benefit risk adjustment (0 to 1)", "0"),
                Field("cost_risk_adjustment", "Cost risk adjustment (0 to 1)", "0"),
            ),
            (
                (MONTHLY, "Monthly: upfront cost, then the same cost and benefit every month"),
                (BENEFIT_LIST, "Monthly, with a different benefit each month"),
                (CASH_FLOWS, "Cash flows per year or per month, as a business case is written"),
            ),
        ),
        Calculator(
            "value_at_risk",
            "Value at risk of an investment (Monte Carlo)",
            (
                Field("upfront_cost_low", "Upfront cost, low (blank: no range)", source="upfront_cost.low"),
                Field("upfront_cost", "Upfront cost, most likely", "100000", source="upfront_cost.mode"),
                Field("upfront_cost_high", "Upfront cost, high (blank: no range)", source="upfront_cost.high"),
                Field("monthly_cost_low", "Monthly cost, low (blank: no range)", source="monthly_cost.low"),
                Field("monthly_cost", "Monthly cost, most likely", "5000", source="monthly_cost.mode"),
                Field("monthly_cost_high", "Monthly cost, high (blank: no range)", source="monthly_cost.high"),
                Field("monthly_benefit_low", "Monthly benefit, low", "10000", source="monthly_benefit.low"),
                Field("monthly_benefit_mode", "Monthly benefit, most likely", "25000", source="monthly_benefit.mode"),
                Field("monthly_benefit_high", "Monthly benefit, high", "30000", source="monthly_benefit.high"),
                Field("months", "Months", "36"),
                Field("trials", "Trials", "10000"),
                Field("seed", "Seed (blank: chosen and recorded)"),
            ),
        ),
        Calculator(
            "availability_economics",
            "Is the next nine of availability worth it?",
            (Field("current_target", "Availability target (percent)", "99.9"), Field("cost_per_9", "Cost per nine")),
        ),
    )
}


def chosen_mode(calculator: Calculator, form: Mapping[str, str]) -> str:
    """The input form chosen (`mode`), the calculator's first when none is given; "" without modes."""
    if not calculator.modes:
        return ""
    keys = [key for key, _ in calculator.modes]
    mode = (form.get("mode") or keys[0]).strip()
    if mode not in keys:
        raise EngineInputError("mode", f"must be one of {', '.join(keys)}")
    return mode


def calculation_body(calculator: Calculator, form: Mapping[str, str], figures: Mapping[str, Any]) -> dict[str, Any]:
    """The API body for a submitted form: filled inputs of the chosen mode, plus the figures the user changed.

    Raises `EngineInputError` naming `mode` for an unknown mode; everything else is left to
    the engine, so the page and the API validate alike.
    """
    body: dict[str, Any] = {}
    for field in calculator.fields_for(chosen_mode(calculator, form)):
        if field.kind == "flag":
            value: Any = form.get(field.name) == "on"
        elif field.kind == "lines":
            # Always a list, so an empty box is "needs 1 to N items" beside that box.
            value = [line.strip() for line in (form.get(field.name) or "").splitlines() if line.strip()]
        else:
            value = (form.get(field.name) or "").strip() or None
        if value is not None:
            _put(body, field.path, value)
    for name, value in list(body.items()):
        if isinstance(value, dict) and set(value) == {"mode"}:
            body[name] = value["mode"]
    assumptions = {}
    for name, current in figures.items():
        raw = (form.get(f"assume_{name}") or "").strip()
        if raw and raw != str(current):
            assumptions[name] = raw
    if assumptions:
        body["assumptions"] = assumptions
    return body


def _put(body: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        body = body.setdefault(part, {})
    body[leaf] = value


def field_errors(calculator: Calculator, errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The engine's errors by form field, so each shows beside its field.

    `cash_flows.costs[1]` belongs to the costs textarea and says "line 2"; a range's own
    error (`upfront_cost`: low ≤ mode ≤ high) to its most likely value. Errors that name
    no field of the form (e.g. `assumptions`, `mode`) keep the engine's name.
    """
    by_path = {field.path: field.name for field in calculator.fields}
    by_path.update({field.path.removesuffix(".mode"): field.name for field in calculator.fields})
    shown: dict[str, list[str]] = {}
    for key, messages in errors.items():
        path, prefix = key, ""
        indexed = _INDEXED.match(key)
        if indexed:
            path, prefix = indexed["path"], f"line {int(indexed['index']) + 1}: "
        name = by_path.get(path, key)
        shown.setdefault(name, []).extend(prefix + message for message in messages)
    return shown


EDITABLE_FIGURES = (
    "annual_recurring_revenue",
    "revenue_per_minute_override",
    "override_reason",
    "it_staff_hourly_rate",
    "engineer_hourly_rate",
    "customer_support_cost_per_incident",
    "cost_per_error",
    "compliance_value_per_check",
    "development_value_per_day",
    "customer_count",
    "customer_churn_rate_per_incident",
    "customer_lifetime_value",
    "brand_impact_factor",
    "revenue_impact_per_100ms",
    "cost_per_9",
)
