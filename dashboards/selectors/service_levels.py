"""Service levels: measured availability and response time against the tenant's KPI targets.

Monthly means over every service come from the performance cells of the monthly rollups;
the per-service view of the last complete month from its service-months. Each mean is a
sum over a count kept beside it (a sample may omit availability or conversion), so it is
exact, and it is compared with the target before it is rounded for display.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Sum
from django.utils import timezone

from dashboards.selectors.trends import MONTHS_DEFAULT
from governance.fiscal import add_months, months_between
from governance.tenancy import current_tenant
from roi.engine.availability import downtime_minutes_allowed
from roi.engine.finance import mean_of_sum
from roi.engine.money import MINUTES_PER_MONTH, decimal_or_none
from roi.figures import KPI_DEFAULTS
from roi.models import MonthlyRollup, PerformanceMonth, Stream
from roi.models.rollups import PERFORMANCE_SUM_COLUMNS
from roi.selectors import business_kpis_current

# The engine's default availability target (FinancialFigures.availability_target).
AVAILABILITY_TARGET_DEFAULT = Decimal("99.9")
RESPONSE_TIME_TARGET_DEFAULT = Decimal(KPI_DEFAULTS[("kpis", "performance", "target_response_time")])
PERCENT_PLACES, MS_PLACES, MINUTE_PLACES = Decimal("0.001"), Decimal("0.1"), Decimal("0.1")
SUMS = PERFORMANCE_SUM_COLUMNS


@dataclass(frozen=True, slots=True)
class ServiceLevelTargets:
    availability_percent: Decimal
    response_time_ms: Decimal

    @property
    def allowed_downtime_minutes(self) -> Decimal:
        """The minutes a month may be down and still meet the availability target."""
        return downtime_minutes_allowed(self.availability_percent)


def service_level_targets() -> ServiceLevelTargets:
    """The availability and response-time targets in the KPIs in force, or their defaults."""
    kpis = business_kpis_current()
    sections = (kpis.kpis if kpis is not None else None) or {}
    availability = (sections.get("availability") or {}).get("target")
    response = (sections.get("performance") or {}).get("target_response_time")
    availability_target, response_target = decimal_or_none(availability), decimal_or_none(response)
    return ServiceLevelTargets(
        availability_percent=AVAILABILITY_TARGET_DEFAULT if availability_target is None else availability_target,
        response_time_ms=RESPONSE_TIME_TARGET_DEFAULT if response_target is None else response_target,
    )


def _shown(value: Decimal | None, places: Decimal) -> str | None:
    return None if value is None else str(value.quantize(places))


def _levels(sums: Mapping[str, Any], targets: ServiceLevelTargets) -> dict[str, Any]:
    """One row of the service-level tables: the means, each marked met or missed (None: no samples)."""
    availability = mean_of_sum(sums["availability_percent_sum"], sums["availability_count"])
    response = mean_of_sum(sums["response_time_ms_sum"], sums["samples"])
    conversion = mean_of_sum(sums["conversion_rate_sum"], sums["conversion_rate_count"])
    unavailable = None if availability is None else downtime_minutes_allowed(availability)
    return {
        "samples": int(sums["samples"] or 0),
        "availability_samples": int(sums["availability_count"] or 0),
        "availability_percent": _shown(availability, PERCENT_PLACES),
        "availability_met": None if availability is None else availability >= targets.availability_percent,
        "unavailable_minutes": _shown(unavailable, MINUTE_PLACES),
        "response_time_ms": _shown(response, MS_PLACES),
        "response_time_met": None if response is None else response <= targets.response_time_ms,
        "conversion_rate_percent": _shown(conversion, PERCENT_PLACES),
    }


def service_levels(*, months: int = MONTHS_DEFAULT) -> dict[str, Any]:
    """Availability and response time per month (all services) and per service for the last
    complete month, against the KPI targets.

    Three statements whatever the data size: the KPIs, the performance rollups of the
    window grouped by month, and the service-months of the last complete month.
    """
    tenant = current_tenant()
    this_month = timezone.localdate(timezone=ZoneInfo(tenant.time_zone)).replace(day=1)
    window = months_between(add_months(this_month, -(months - 1)), this_month)
    last_complete = add_months(this_month, -1)
    targets = service_level_targets()
    rollups = {
        row["month"]: row
        for row in MonthlyRollup.objects.filter(stream=Stream.PERFORMANCE, month__gte=window[0], month__lte=window[-1])
        .values("month")
        .annotate(
            samples=Sum("event_count"),
            **{column: Sum(column) for column in SUMS if column != "samples"},
        )
        .order_by()
    }
    empty = dict.fromkeys(SUMS)
    series = [
        {"month": f"{month:%Y-%m}", "complete": month < this_month, **_levels(rollups.get(month, empty), targets)}
        for month in window
    ]
    services = [
        {"service": row["service"], **_levels(row, targets)}
        for row in PerformanceMonth.objects.filter(month=last_complete).order_by("service").values("service", *SUMS)
    ]
    return {
        "targets": {
            "availability_percent": str(targets.availability_percent),
            "allowed_downtime_minutes": _shown(targets.allowed_downtime_minutes, MINUTE_PLACES),
            "response_time_ms": str(targets.response_time_ms),
        },
        "minutes_per_month": str(MINUTES_PER_MONTH),
        "months": series,
        "services_month": f"{last_complete:%Y-%m}",
        "services": services,
    }


def service_month_means(service_month: PerformanceMonth) -> dict[str, Any]:
    """A service-month's mean availability and conversion rate (None where no sample carried
    them), over the samples that did, rounded as the service-level page shows them."""
    availability = mean_of_sum(service_month.availability_percent_sum, service_month.availability_count)
    conversion = mean_of_sum(service_month.conversion_rate_sum, service_month.conversion_rate_count)
    return {
        "availability_percent": _shown(availability, PERCENT_PLACES),
        "availability_samples": service_month.availability_count,
        "conversion_rate_percent": _shown(conversion, PERCENT_PLACES),
        "conversion_rate_samples": service_month.conversion_rate_count,
    }
