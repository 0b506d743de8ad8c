"""The calculator forms: one per engine method, with the tenant's figures as editable what-ifs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    example: str = ""
    kind: str = "number"  # number, choice, flag
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Calculator:
    method: str
    title: str
    fields: tuple[Field, ...]


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
                Field("upfront_cost", "Upfront cost", "100000"),
                Field("monthly_cost", "Monthly cost", "5000"),
                Field("monthly_benefit", "Monthly benefit", "25000"),
                Field("months", "Months", "36"),
                Field("annual_discount_rate", "Annual discount rate", "0.10"),
                Field("benefit_risk_adjustment", "Benefit risk adjustment (0 to 1)", "0"),
                Field("cost_risk_adjustment", "Cost risk adjustment (0 to 1)", "0"),
            ),
        ),
        Calculator(
            "value_at_risk",
            "Value at risk of an investment (Monte Carlo)",
            (
                Field("upfront_cost", "Upfront cost", "100000"),
                Field("monthly_cost", "Monthly cost", "5000"),
                Field("monthly_benefit_low", "Monthly benefit, low", "10000"),
                Field("monthly_benefit_mode", "Monthly benefit, most likely", "25000"),
                Field("monthly_benefit_high", "Monthly benefit, high", "30000"),
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


def calculation_body(calculator: Calculator, form: Mapping[str, str], figures: Mapping[str, Any]) -> dict[str, Any]:
    """The API body for a submitted form: filled inputs, plus the figures the user changed."""
    body: dict[str, Any] = {}
    for field in calculator.fields:
        if field.kind == "flag":
            body[field.name] = form.get(field.name) == "on"
            continue
        raw = (form.get(field.name) or "").strip()
        if raw:
            body[field.name] = raw
    if calculator.method == "value_at_risk":
        parts = {key: body.pop(f"monthly_benefit_{key}", None) for key in ("low", "mode", "high")}
        if any(parts.values()):
            body["monthly_benefit"] = parts
    assumptions = {}
    for name, current in figures.items():
        raw = (form.get(f"assume_{name}") or "").strip()
        if raw and raw != str(current):
            assumptions[name] = raw
    if assumptions:
        body["assumptions"] = assumptions
    return body


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
