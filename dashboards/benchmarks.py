"""Published figures the comparative view sets the tenant's own against, each with its source.

Downtime cost studies publish one all-industry figure in US dollars; they are shown as
published (not converted), beside the tenant's own cost per minute of real downtime.
Delivery performance is rated with the DORA tiers of the engine's `competitive_advantage`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class DowntimeBenchmark:
    source: str
    year: int
    cost_per_minute_usd: Decimal
    note: str


DOWNTIME_BENCHMARKS = (
    DowntimeBenchmark(
        "Gartner, 'The Cost of Downtime' (A. Lerner)",
        2014,
        Decimal(5600),
        "Average cost of IT downtime across industries.",
    ),
    DowntimeBenchmark(
        "Ponemon Institute, 'Cost of Data Center Outages'",
        2016,
        Decimal(8851),
        "Average cost per minute of an unplanned data centre outage (63 US data centres).",
    ),
    DowntimeBenchmark(
        "ITIC, 'Hourly Cost of Downtime' survey",
        2024,
        Decimal(5000),
        "Over 90 % of mid-size and large enterprises put one hour above $300,000 (a floor, per minute).",
    ),
)
