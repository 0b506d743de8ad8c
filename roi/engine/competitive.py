"""competitive_advantage: delivery speed against an industry average, with DORA tiers.

Tiers follow the software delivery performance levels published in the 2023 Accelerate
State of DevOps Report (DORA, Google Cloud). The report describes each level in words
("between once per day and once per week"); the cut points below turn those words into
numbers. Where the report's low level overlaps medium, anything worse than medium's
bound is low.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .figures import FinancialFigures
from .inputs import InputReader
from .money import DAYS_PER_MONTH, HUNDRED, ONE, EngineResult, exact, round_money, round_rate

METHOD = "competitive_advantage"
METHOD_VERSION = 1

DORA_REPORT_YEAR = 2023

INDUSTRY_DEPLOYMENTS_PER_MONTH = ONE  # the brief's industry average
INDUSTRY_LEAD_TIME_DAYS = Decimal(30)
SCORE_PER_SPEED_UNIT = Decimal(10)

ELITE, HIGH, MEDIUM, LOW = "elite", "high", "medium", "low"

# Deployments per month: more than daily is elite; at least weekly high; monthly medium.
DEPLOYS_DAILY = DAYS_PER_MONTH
DEPLOYS_WEEKLY = DAYS_PER_MONTH / Decimal(7)
DEPLOYS_MONTHLY = ONE
# Lead time in days: under a day elite, up to a week high, up to a month medium.
LEAD_TIME_ELITE_DAYS = ONE
LEAD_TIME_HIGH_DAYS = Decimal(7)
LEAD_TIME_MEDIUM_DAYS = DAYS_PER_MONTH
# Failed deployment recovery time in hours: under an hour, under a day, up to a week.
RECOVERY_ELITE_HOURS = ONE
RECOVERY_HIGH_HOURS = Decimal(24)
RECOVERY_MEDIUM_HOURS = Decimal(168)
# Change failure rate in percent: the report's level values (5, 10, 15) used as upper bounds.
CHANGE_FAILURE_ELITE = Decimal(5)
CHANGE_FAILURE_HIGH = Decimal(10)
CHANGE_FAILURE_MEDIUM = Decimal(15)

INPUTS = ("deployment_frequency", "lead_time", "recovery_time", "change_failure_rate")


@dataclass(frozen=True, slots=True)
class CompetitiveAdvantage(EngineResult):
    """Speed and time-to-market figures plus a DORA tier per key (None when not given)."""

    speed_advantage: Decimal
    time_to_market_value: Decimal
    competitive_score: Decimal
    deployment_frequency_tier: str
    lead_time_tier: str
    recovery_time_tier: str
    change_failure_rate_tier: str | None
    dora_report_year: int


def deployment_frequency_tier(per_month: Decimal) -> str:
    """DORA tier for deployments per month (higher is better)."""
    if per_month > DEPLOYS_DAILY:
        return ELITE
    if per_month >= DEPLOYS_WEEKLY:
        return HIGH
    if per_month >= DEPLOYS_MONTHLY:
        return MEDIUM
    return LOW


def lead_time_tier(days: Decimal) -> str:
    """DORA tier for lead time for changes, in days (lower is better)."""
    if days < LEAD_TIME_ELITE_DAYS:
        return ELITE
    if days <= LEAD_TIME_HIGH_DAYS:
        return HIGH
    if days <= LEAD_TIME_MEDIUM_DAYS:
        return MEDIUM
    return LOW


def recovery_time_tier(hours: Decimal) -> str:
    """DORA tier for failed deployment recovery time, in hours (lower is better)."""
    if hours < RECOVERY_ELITE_HOURS:
        return ELITE
    if hours < RECOVERY_HIGH_HOURS:
        return HIGH
    if hours <= RECOVERY_MEDIUM_HOURS:
        return MEDIUM
    return LOW


def change_failure_rate_tier(percent: Decimal) -> str:
    """DORA tier for change failure rate, in percent (lower is better)."""
    if percent <= CHANGE_FAILURE_ELITE:
        return ELITE
    if percent <= CHANGE_FAILURE_HIGH:
        return HIGH
    if percent <= CHANGE_FAILURE_MEDIUM:
        return MEDIUM
    return LOW


@exact
def competitive_advantage(
    *,
    figures: FinancialFigures,
    deployment_frequency: Decimal,
    lead_time: Decimal,
    recovery_time: Decimal,
    change_failure_rate: Decimal | None = None,
) -> CompetitiveAdvantage:
    """The brief's speed advantage and time-to-market value, plus DORA tiers.

    Time-to-market value is negative when lead time is longer than the 30-day average.
    """
    speed = deployment_frequency / INDUSTRY_DEPLOYMENTS_PER_MONTH
    time_to_market = (INDUSTRY_LEAD_TIME_DAYS - lead_time) * figures.development_value_per_day
    score = min(speed * SCORE_PER_SPEED_UNIT, HUNDRED)
    return CompetitiveAdvantage(
        speed_advantage=round_rate(speed),
        time_to_market_value=round_money(time_to_market),
        competitive_score=round_rate(score),
        deployment_frequency_tier=deployment_frequency_tier(deployment_frequency),
        lead_time_tier=lead_time_tier(lead_time),
        recovery_time_tier=recovery_time_tier(recovery_time),
        change_failure_rate_tier=(
            None if change_failure_rate is None else change_failure_rate_tier(change_failure_rate)
        ),
        dora_report_year=DORA_REPORT_YEAR,
    )


def run(inputs: Mapping[str, Any], figures: FinancialFigures) -> CompetitiveAdvantage:
    """Parse flat inputs and run ``competitive_advantage``."""
    reader = InputReader(inputs, allowed=INPUTS)
    frequency = reader.decimal("deployment_frequency", required=True)
    lead = reader.decimal("lead_time", required=True)
    recovery = reader.decimal("recovery_time", required=True)
    failure = reader.optional_decimal("change_failure_rate", maximum=HUNDRED)
    reader.finish()
    return competitive_advantage(
        figures=figures,
        deployment_frequency=frequency,
        lead_time=lead,
        recovery_time=recovery,
        change_failure_rate=failure,
    )
