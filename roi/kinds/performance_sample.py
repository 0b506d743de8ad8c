"""Performance samples: counted one by one, valued per service and month
(`roi.ingestion.valuation.value_performance_months`)."""

from __future__ import annotations

import math
import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from roi.demo.events import SERVICES, Span, iso
from roi.kinds.contributions import contribution, counted, summed, when
from roi.kinds.fields import Moment, Number, Text
from roi.kinds.spec import KindSpec
from roi.models import EventKind, PerformanceSample, Stream

# --- Demo data ---------------------------------------------------------------------------

BASELINES = {"storefront": (420.0, 150.0, 18.0), "checkout-api": (310.0, 40.0, 12.0), "search": (240.0, 0.0, 10.0)}


def demo_performance_samples(rng: random.Random, span: Span) -> list[dict[str, Any]]:
    """Daily samples per service: seasonal load, a slow stretch, then a lasting improvement."""
    slow_from, slow_to, improved_from = span.at(0.30), span.at(0.38), span.at(0.60)
    events: list[dict[str, Any]] = []
    for _, day in span.days():
        # Peak season (November-December) is slower; weekends are lighter.
        season = 1 + 0.05 * math.cos((day.timetuple().tm_yday - 340) / 365 * 2 * math.pi)
        weekend = 0.94 if day.weekday() >= 5 else 1.0
        for service, (mean, improvement, noise) in BASELINES.items():
            response = mean * season * weekend + rng.gauss(0, noise)
            if slow_from <= day < slow_to:
                response *= 1.22  # a regression, fixed a few weeks later
            if day >= improved_from:
                response -= improvement
            measured = day + timedelta(hours=12)
            if measured >= span.end:
                continue
            events.append(
                {
                    "external_id": f"DEMO-PERF-{service}-{day:%Y%m%d}",
                    "service": service,
                    "measured_at": iso(measured),
                    "response_time_ms": f"{max(response, 20.0):.1f}",
                    "availability_percent": f"{min(100.0, 99.95 + rng.gauss(0, 0.03)):.3f}",
                    "conversion_rate": f"{max(0.5, 2.6 - (response - 200) / 1000 + rng.gauss(0, 0.1)):.3f}",
                    "department": "engineering",
                    "product": SERVICES[service],
                }
            )
    return events


SPEC = KindSpec(
    kind=EventKind.PERFORMANCE_SAMPLE,
    model=PerformanceSample,
    own_fields=(
        Text("service", required=True),
        Moment("measured_at", required=True),
        Number("response_time_ms", required=True),
        Number("availability_percent", maximum=Decimal(100)),
        Number("conversion_rate", maximum=Decimal(100)),
    ),
    occurred_at="measured_at",
    # Money for performance is set per service and month, not here. Availability and
    # conversion are optional: each is counted over the samples that carry it.
    rollup=(
        contribution(
            Stream.PERFORMANCE,
            event_count=counted(),
            response_time_ms_sum=summed("response_time_ms"),
            availability_percent_sum=summed("availability_percent"),
            availability_count=counted(only=when(present=("availability_percent",))),
            conversion_rate_sum=summed("conversion_rate"),
            conversion_rate_count=counted(only=when(present=("conversion_rate",))),
        ),
    ),
    demo=demo_performance_samples,
)
