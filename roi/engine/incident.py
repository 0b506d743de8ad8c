"""incident_cost: what one incident costs, and what preventing it is worth."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from .figures import HOURS_PER_WEEK, SEVERITIES, FinancialFigures
from .inputs import InputReader
from .money import ONE, ZERO, EngineInputError, EngineResult, exact, round_money

METHOD = "incident_cost"
METHOD_VERSION = 1

MINUTES_PER_HOUR = Decimal(60)
MINUTES_PER_WEEK = HOURS_PER_WEEK * 60
INPUTS = (
    "downtime_minutes",
    "affected_revenue_share",
    "affected_customers",
    "public",
    "severity",
    "recovery_cost",
    "reputational_damage",
    "prevention_confidence",
    "started_at",
)


@dataclass(frozen=True, slots=True)
class IncidentCost(EngineResult):
    """Components of an incident's cost; ``prevention_value`` is what avoiding it is worth."""

    revenue_impact: Decimal
    recovery_cost: Decimal
    customer_impact: Decimal
    reputational_damage: Decimal
    total_impact: Decimal
    prevention_value: Decimal
    revenue_profile_applied: bool


def profile_weighted_minutes(*, started_at: datetime, downtime_minutes: Decimal, figures: FinancialFigures) -> Decimal:
    """Downtime minutes, each weighted by its hour-of-week revenue weight.

    Walks the outage hour by hour in the tenant's zone, so a peak-hour outage costs
    more than the same minutes at 3 a.m.; with a flat profile it equals the downtime.
    """
    profile = figures.revenue_profile
    if profile is None:
        return downtime_minutes
    zone = figures.zone()
    weighted = ZERO
    remaining = downtime_minutes
    full_weeks = int(remaining // MINUTES_PER_WEEK)
    if full_weeks:
        # A whole week touches every hour-of-week once, whatever the start.
        weighted += full_weeks * MINUTES_PER_HOUR * sum(profile, ZERO)
        remaining -= full_weeks * MINUTES_PER_WEEK
    instant = started_at
    try:
        while remaining > 0:
            # Converting to the zone can overflow too: 9999-12-31 23:30 UTC is already
            # year 10000 in Tokyo, and 0001-01-01 00:30+05:00 is year 0 in UTC.
            local = instant.astimezone(zone)
            hour_of_week = local.weekday() * 24 + local.hour
            into_hour = Decimal(local.minute) + Decimal(local.second) / 60 + Decimal(local.microsecond) / 60_000_000
            segment = min(remaining, MINUTES_PER_HOUR - into_hour)
            weighted += profile[hour_of_week] * segment
            remaining -= segment
            instant += timedelta(microseconds=int(segment * 60_000_000))
    except OverflowError:
        raise EngineInputError("started_at", "is outside the supported calendar") from None
    return weighted


@exact
def incident_cost(
    *,
    figures: FinancialFigures,
    downtime_minutes: Decimal,
    affected_revenue_share: Decimal = ONE,
    affected_customers: Decimal = ZERO,
    public: bool = False,
    severity: str | None = None,
    recovery_cost: Decimal | None = None,
    reputational_damage: Decimal = ZERO,
    prevention_confidence: Decimal = ONE,
    started_at: datetime | None = None,
) -> IncidentCost:
    """Cost of one incident under one financial model version.

    Every component present is counted in the total (the brief left customer impact out
    of its own total); intermediates stay unrounded and are rounded once on the way out.
    """
    if recovery_cost is None and severity is None:
        raise EngineInputError("severity", "is required when recovery_cost is not given")
    profiled = started_at is not None and figures.revenue_profile is not None
    minutes = (
        profile_weighted_minutes(started_at=started_at, downtime_minutes=downtime_minutes, figures=figures)
        if profiled and started_at is not None
        else downtime_minutes
    )
    revenue_impact = minutes * figures.revenue_per_minute * affected_revenue_share
    if recovery_cost is None:
        assert severity is not None
        responders = figures.severity_responders.for_severity(severity)
        hours = max(downtime_minutes / MINUTES_PER_HOUR, ONE)
        recovery = responders * hours * figures.engineer_hourly_rate + figures.customer_support_cost_per_incident
    else:
        recovery = recovery_cost
    brand = figures.brand_impact_factor if public else ONE
    customer_impact = (
        affected_customers * figures.customer_lifetime_value * figures.customer_churn_rate_per_incident * brand
    )
    total = revenue_impact + recovery + customer_impact + reputational_damage
    return IncidentCost(
        revenue_impact=round_money(revenue_impact),
        recovery_cost=round_money(recovery),
        customer_impact=round_money(customer_impact),
        reputational_damage=round_money(reputational_damage),
        total_impact=round_money(total),
        prevention_value=round_money(total * prevention_confidence),
        revenue_profile_applied=profiled,
    )


def run(inputs: Mapping[str, Any], figures: FinancialFigures) -> IncidentCost:
    """Parse flat inputs (names as in calculations.md) and run ``incident_cost``."""
    reader = InputReader(inputs, allowed=INPUTS)
    reader.declare_alternatives(("severity",), ("recovery_cost",), exclusive=False)
    downtime = reader.decimal("downtime_minutes", required=True)
    share = reader.share("affected_revenue_share", default=ONE)
    customers = reader.decimal("affected_customers", default=ZERO)
    public = reader.boolean("public", default=False)
    severity = reader.choice("severity", SEVERITIES, required=False)
    recovery = reader.optional_decimal("recovery_cost")
    if recovery is None and severity is None and "severity" not in reader.errors:
        reader.add_error("severity", "is required when recovery_cost is not given")
    reputational = reader.decimal("reputational_damage", default=ZERO)
    confidence = reader.share("prevention_confidence", default=ONE)
    started_at = reader.datetime("started_at")
    reader.finish()
    return incident_cost(
        figures=figures,
        downtime_minutes=downtime,
        affected_revenue_share=share,
        affected_customers=customers,
        public=public,
        severity=severity,
        recovery_cost=recovery,
        reputational_damage=reputational,
        prevention_confidence=confidence,
        started_at=started_at,
    )
