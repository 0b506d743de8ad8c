"""The financial model and KPI settings one calculation runs under.

A ``FinancialFigures`` is the resolved snapshot of one tenant's model version (after any
what-if ``assumptions``); a ledger record stores it so the record recomputes from itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .inputs import InputReader
from .money import (
    MINUTES_PER_YEAR,
    MONTHS_PER_YEAR,
    ONE,
    ZERO,
    EngineInputError,
    engine_context,
    round_money,
    to_decimal,
    to_int,
)

SEVERITIES = ("sev1", "sev2", "sev3", "sev4")
HOURS_PER_WEEK = 168
CONSISTENCY_TOLERANCE = Decimal("0.005")  # 0.5 %
# Derived figures are usually shown rounded to the cent; half a cent is never a disagreement.
CONSISTENCY_ABSOLUTE_SLACK = Decimal("0.005")
PROFILE_MEAN_TOLERANCE = Decimal("0.001")
WEIGHTING_TOLERANCE = Decimal("0.001")
MAX_RESPONDERS = 1000


@dataclass(frozen=True, slots=True)
class SeverityResponders:
    """How many people respond to an incident of each severity."""

    sev1: int = 5
    sev2: int = 3
    sev3: int = 2
    sev4: int = 1

    def for_severity(self, severity: str) -> int:
        """Responders for ``severity`` (one of ``SEVERITIES``)."""
        if severity not in SEVERITIES:
            raise EngineInputError("severity", f"must be one of {', '.join(SEVERITIES)}")
        return int(getattr(self, severity))


@dataclass(frozen=True, slots=True, kw_only=True)
class FinancialFigures:
    """Primary inputs of a financial model version plus the KPI settings the engine uses.

    Cost and impact figures a tenant has not set count as zero (they then add nothing),
    while severity responders and KPI settings carry the defaults the spec names.
    """

    # revenue
    annual_recurring_revenue: Decimal
    average_transaction_value: Decimal | None = None
    transactions_per_minute: Decimal | None = None
    revenue_per_minute_override: Decimal | None = None
    override_reason: str | None = None
    # cost
    it_staff_hourly_rate: Decimal = ZERO
    engineer_hourly_rate: Decimal = ZERO
    infrastructure_cost_per_hour: Decimal = ZERO
    customer_support_cost_per_incident: Decimal = ZERO
    cost_per_error: Decimal = ZERO
    compliance_value_per_check: Decimal = ZERO
    development_value_per_day: Decimal = ZERO
    # impact
    customer_count: Decimal = ZERO
    customer_churn_rate_per_incident: Decimal = ZERO
    new_customer_acquisition_cost: Decimal = ZERO
    customer_lifetime_value: Decimal = ZERO
    brand_impact_factor: Decimal = ONE
    # severity and revenue profile
    severity_responders: SeverityResponders = field(default_factory=SeverityResponders)
    revenue_profile: tuple[Decimal, ...] | None = None
    time_zone: str = "UTC"
    # KPI settings
    availability_target: Decimal = Decimal("99.9")
    cost_per_9: Decimal = Decimal(100000)
    revenue_impact_per_100ms: Decimal = Decimal(50000)
    satisfaction_per_100ms: Decimal = Decimal("-2.5")
    satisfaction_per_availability_point: Decimal = Decimal(10)
    churn_reduction_per_satisfaction_point: Decimal = Decimal("0.001")
    incident_prevention_weighting: Decimal = Decimal("0.40")
    incident_prevention_time_window: int = 30
    automation_roi_weighting: Decimal = Decimal("0.35")
    automation_roi_time_window: int = 30
    performance_improvement_weighting: Decimal = Decimal("0.25")
    performance_improvement_time_window: int = 90
    incident_prevention_target: Decimal = Decimal(50000)
    automation_roi_target: Decimal = Decimal(35000)
    performance_improvement_target: Decimal = Decimal(25000)

    @property
    def monthly_recurring_revenue(self) -> Decimal:
        """ARR / 12, unrounded."""
        with engine_context():
            return self.annual_recurring_revenue / MONTHS_PER_YEAR

    @property
    def revenue_per_minute(self) -> Decimal:
        """The override, else ATV * TPM when both are given, else ARR / 525,600; unrounded."""
        with engine_context():
            if self.revenue_per_minute_override is not None:
                return self.revenue_per_minute_override
            if self.average_transaction_value is not None and self.transactions_per_minute is not None:
                return self.average_transaction_value * self.transactions_per_minute
            return self.annual_recurring_revenue / MINUTES_PER_YEAR

    def zone(self) -> ZoneInfo:
        """The tenant's time zone, in which the revenue profile's hours are counted."""
        return ZoneInfo(self.time_zone)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> FinancialFigures:
        """Build figures from a flat mapping (as stored in a ledger record), validating all.

        Carried derived figures (``monthly_recurring_revenue``, ``revenue_per_minute``) are
        checked against the primary inputs with the 0.5 % consistency rule, then dropped.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        reader = InputReader(data, allowed=names | {"monthly_recurring_revenue", "revenue_per_minute"})
        values: dict[str, Any] = {}
        defaults = cls(annual_recurring_revenue=ZERO)
        for f in dataclasses.fields(cls):
            name = f.name
            if name in {"severity_responders", "revenue_profile", "override_reason", "time_zone"}:
                continue
            if name.endswith("_time_window"):
                values[name] = reader.integer(name, default=getattr(defaults, name), minimum=1, maximum=3660)
            elif name in {
                "satisfaction_per_100ms",
                "satisfaction_per_availability_point",
                "churn_reduction_per_satisfaction_point",
            }:
                values[name] = reader.decimal(name, default=getattr(defaults, name), allow_negative=True)
            elif name.endswith("_weighting") or name == "customer_churn_rate_per_incident":
                values[name] = reader.share(name, default=getattr(defaults, name))
            elif name == "availability_target":
                values[name] = reader.decimal(name, default=defaults.availability_target, maximum=Decimal(100))
            elif name in {"average_transaction_value", "transactions_per_minute", "revenue_per_minute_override"}:
                values[name] = reader.optional_decimal(name)
            elif name == "annual_recurring_revenue":
                values[name] = reader.decimal(name, required=True)
            else:
                values[name] = reader.decimal(name, default=getattr(defaults, name))
        values["override_reason"] = reader.text("override_reason", max_length=2000)
        values["time_zone"] = reader.text("time_zone", max_length=64) or "UTC"
        values["severity_responders"] = _read_responders(reader, data.get("severity_responders"))
        values["revenue_profile"] = _read_profile(reader, data.get("revenue_profile"))
        carried_mrr = reader.optional_decimal("monthly_recurring_revenue")
        carried_rpm = reader.optional_decimal("revenue_per_minute")
        reader.finish()
        figures = cls(**values)
        errors = figures.validation_errors()
        for name, messages in revenue_consistency_errors(
            annual_recurring_revenue=figures.annual_recurring_revenue,
            average_transaction_value=figures.average_transaction_value,
            transactions_per_minute=figures.transactions_per_minute,
            revenue_per_minute_override=figures.revenue_per_minute_override,
            monthly_recurring_revenue=carried_mrr,
            revenue_per_minute=carried_rpm,
        ).items():
            errors.setdefault(name, []).extend(messages)
        if errors:
            raise EngineInputError(errors=errors)
        return figures

    def with_assumptions(self, assumptions: Mapping[str, Any]) -> FinancialFigures:
        """Figures with some fields replaced for one what-if calculation, re-validated."""
        return FinancialFigures.from_mapping({**self.as_dict(include_derived=False), **dict(assumptions)})

    def validation_errors(self) -> dict[str, list[str]]:
        """Cross-field rules: override reason, profile shape and mean, weightings sum, zone."""
        errors: dict[str, list[str]] = {}
        if self.revenue_per_minute_override is not None and not (self.override_reason or "").strip():
            errors.setdefault("override_reason", []).append("is required when revenue_per_minute_override is set")
        if (self.average_transaction_value is None) != (self.transactions_per_minute is None):
            missing = (
                "average_transaction_value" if self.average_transaction_value is None else "transactions_per_minute"
            )
            errors.setdefault(missing, []).append("is required when the other transaction input is given")
        if self.revenue_profile is not None:
            for name, messages in revenue_profile_errors(self.revenue_profile).items():
                errors.setdefault(name, []).extend(messages)
        for name, messages in weighting_errors(
            incident_prevention_weighting=self.incident_prevention_weighting,
            automation_roi_weighting=self.automation_roi_weighting,
            performance_improvement_weighting=self.performance_improvement_weighting,
        ).items():
            errors.setdefault(name, []).extend(messages)
        try:
            self.zone()
        except (ZoneInfoNotFoundError, ValueError):
            errors.setdefault("time_zone", []).append("is not a known IANA time zone")
        return errors

    def as_dict(self, *, include_derived: bool = True) -> dict[str, Any]:
        """JSON-ready values (Decimals as strings); derived figures rounded to the cent."""
        data: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Decimal):
                data[f.name] = str(value)
            elif isinstance(value, SeverityResponders):
                data[f.name] = {name: getattr(value, name) for name in SEVERITIES}
            elif isinstance(value, tuple):
                data[f.name] = [str(weight) for weight in value]
            else:
                data[f.name] = value
        if include_derived:
            data["monthly_recurring_revenue"] = str(round_money(self.monthly_recurring_revenue))
            data["revenue_per_minute"] = str(round_money(self.revenue_per_minute))
        return data


def _read_responders(reader: InputReader, raw: object) -> SeverityResponders:
    if raw is None:
        return SeverityResponders()
    if not isinstance(raw, Mapping):
        reader.add_error("severity_responders", "must be an object keyed sev1..sev4")
        return SeverityResponders()
    counts: dict[str, int] = {}
    for name, value in raw.items():
        if name not in SEVERITIES:
            reader.add_error(f"severity_responders.{name}", "is not a severity")
            continue
        try:
            counts[name] = to_int(value, f"severity_responders.{name}", minimum=0, maximum=MAX_RESPONDERS)
        except EngineInputError as error:
            for field_name, messages in error.errors.items():
                for message in messages:
                    reader.add_error(field_name, message)
    return SeverityResponders(**counts)


def _read_profile(reader: InputReader, raw: object) -> tuple[Decimal, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list | tuple) or len(raw) != HOURS_PER_WEEK:
        reader.add_error("revenue_profile", f"must be a list of {HOURS_PER_WEEK} weights")
        return None
    weights: list[Decimal] = []
    for index, value in enumerate(raw):
        try:
            weights.append(to_decimal(value, f"revenue_profile[{index}]"))
        except EngineInputError as error:
            for field_name, messages in error.errors.items():
                for message in messages:
                    reader.add_error(field_name, message)
            weights.append(ZERO)
    return tuple(weights)


def revenue_profile_errors(profile: tuple[Decimal, ...]) -> dict[str, list[str]]:
    """168 non-negative hour-of-week weights whose mean is 1 (± 0.001)."""
    if len(profile) != HOURS_PER_WEEK:
        return {"revenue_profile": [f"must have {HOURS_PER_WEEK} weights, got {len(profile)}"]}
    if any(weight < 0 for weight in profile):
        return {"revenue_profile": ["weights must not be negative"]}
    with engine_context():
        mean = sum(profile, ZERO) / HOURS_PER_WEEK
    if abs(mean - ONE) > PROFILE_MEAN_TOLERANCE:
        return {"revenue_profile": [f"weights must average 1, they average {mean:.4f}"]}
    return {}


def weighting_errors(
    *,
    incident_prevention_weighting: Decimal,
    automation_roi_weighting: Decimal,
    performance_improvement_weighting: Decimal,
) -> dict[str, list[str]]:
    """Attribution weightings must sum to 1 (± 0.001); the error names all three."""
    total = incident_prevention_weighting + automation_roi_weighting + performance_improvement_weighting
    if abs(total - ONE) <= WEIGHTING_TOLERANCE:
        return {}
    message = f"attribution weightings must sum to 1, they sum to {total}"
    return {
        "incident_prevention_weighting": [message],
        "automation_roi_weighting": [message],
        "performance_improvement_weighting": [message],
    }


def _disagrees(given: Decimal, expected: Decimal) -> bool:
    slack = max(abs(expected) * CONSISTENCY_TOLERANCE, CONSISTENCY_ABSOLUTE_SLACK)
    return abs(given - expected) > slack


def _shown(value: Decimal) -> str:
    return f"{round_money(value):,}"


def revenue_consistency_errors(
    *,
    annual_recurring_revenue: Decimal,
    average_transaction_value: Decimal | None = None,
    transactions_per_minute: Decimal | None = None,
    revenue_per_minute_override: Decimal | None = None,
    monthly_recurring_revenue: Decimal | None = None,
    revenue_per_minute: Decimal | None = None,
) -> dict[str, list[str]]:
    """Field errors where revenue figures disagree by more than 0.5 %.

    Checks carried derived figures against what the primary inputs give, and ARR against
    the transaction inputs when both are present; each message names both values so a
    user can see which of their numbers is off.
    """
    errors: dict[str, list[str]] = {}

    def add(fields: tuple[str, ...], message: str) -> None:
        for name in fields:
            errors.setdefault(name, []).append(message)

    with engine_context():
        arr_per_minute = annual_recurring_revenue / MINUTES_PER_YEAR
        transactions = (
            average_transaction_value * transactions_per_minute
            if average_transaction_value is not None and transactions_per_minute is not None
            else None
        )
        if monthly_recurring_revenue is not None:
            expected_mrr = annual_recurring_revenue / MONTHS_PER_YEAR
            if _disagrees(monthly_recurring_revenue, expected_mrr):
                add(
                    ("monthly_recurring_revenue", "annual_recurring_revenue"),
                    f"monthly_recurring_revenue {_shown(monthly_recurring_revenue)} disagrees "
                    f"with annual_recurring_revenue / 12 = {_shown(expected_mrr)} by more than 0.5 %",
                )
        if revenue_per_minute is not None:
            sources: list[tuple[str, Decimal, tuple[str, ...]]]
            if revenue_per_minute_override is not None:
                sources = [
                    ("revenue_per_minute_override", revenue_per_minute_override, ("revenue_per_minute_override",))
                ]
            else:
                sources = [("annual_recurring_revenue / 525,600", arr_per_minute, ("annual_recurring_revenue",))]
                if transactions is not None:
                    sources.append(
                        (
                            "average_transaction_value * transactions_per_minute",
                            transactions,
                            ("average_transaction_value", "transactions_per_minute"),
                        )
                    )
            for label, expected, source_fields in sources:
                if _disagrees(revenue_per_minute, expected):
                    add(
                        ("revenue_per_minute", *source_fields),
                        f"revenue_per_minute {_shown(revenue_per_minute)} disagrees with "
                        f"{label} = {_shown(expected)} by more than 0.5 %",
                    )
        if transactions is not None and _disagrees(transactions, arr_per_minute):
            add(
                ("annual_recurring_revenue", "average_transaction_value", "transactions_per_minute"),
                f"annual_recurring_revenue / 525,600 = {_shown(arr_per_minute)} per minute "
                f"disagrees with average_transaction_value * transactions_per_minute = "
                f"{_shown(transactions)} by more than 0.5 %",
            )
    return errors
