"""The demo tenant's story: two years of operations, generated deterministically.

Each kind's generator (its spec's `demo`, in `roi.kinds`) returns event dicts exactly as
an integration would send them (ISO times, numbers as strings), so they go through the
same validation, valuation, ledger and rollups as real data, and tests can check them
without a database. The story's span, services and teams are here; `demo_data_seed`
feeds the events to `events_ingest` once.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from governance.ledger import Actor

DEMO_SEED = 20_250_101
DEMO_MONTHS = 24
INGEST_BATCH = 1000

# The brief's figures made consistent: its derived revenue figures (933.33 a minute,
# 31.25 transactions x 250) contradict its ARR, so only the ARR is given and the rest
# is derived from it (106.54 a minute). Figures the brief leaves out are stated here.
DEMO_MODEL: dict[str, Any] = {
    "revenue_model": {"annual_recurring_revenue": "56000000"},
    "cost_model": {
        "it_staff_hourly_rate": "75",
        "engineer_hourly_rate": "120",
        "infrastructure_cost_per_hour": "50",
        "customer_support_cost_per_incident": "150",
        "cost_per_error": "200",
        # The brief's 50,000 a year of compliance value, for one check a day.
        "compliance_value_per_check": "137",
        "development_value_per_day": "2000",
    },
    "impact_model": {
        "customer_count": "2000",
        "customer_churn_rate_per_incident": "0.02",
        "new_customer_acquisition_cost": "5000",
        "customer_lifetime_value": "10000",
        "brand_impact_factor": "1.5",
    },
}
DEMO_KPIS: dict[str, Any] = {
    "kpis": {
        "availability": {"target": "99.9", "cost_per_9": "100000"},
        "performance": {"target_response_time": "200", "revenue_impact_per_100ms": "50000"},
        "automation": {"error_rate_reduction_target": "0.8"},
    },
    "alerts": {"monthly_value_target": "100000", "roi_target": "300", "incident_prevention_target": "50000"},
    "attribution_rules": {
        "incident_prevention": {"weighting": "0.40", "time_window": 30},
        "automation_roi": {"weighting": "0.35", "time_window": 30},
        "performance_improvement": {"weighting": "0.25", "time_window": 90},
    },
}

SERVICES = {"storefront": "web", "checkout-api": "checkout", "search": "discovery"}
TEAMS = ("platform", "payments", "operations")


@dataclass(frozen=True)
class Span:
    """The demo's time range: whole months from `start`, up to `end` (now)."""

    start: datetime
    end: datetime
    months: int

    def month_starts(self) -> Iterator[tuple[int, datetime, datetime]]:
        """(index, first moment, end of the month or of the span) for each month."""
        for index in range(self.months):
            first = _add_months(self.start, index)
            last = min(_add_months(self.start, index + 1), self.end)
            if first < last:
                yield index, first, last

    def days(self) -> Iterator[tuple[float, datetime]]:
        """(share of the span gone, midnight) for each day of the span."""
        total = (self.end - self.start).total_seconds()
        day = self.start
        while day < self.end:
            yield (day - self.start).total_seconds() / total, day
            day += timedelta(days=1)

    def at(self, share: float) -> datetime:
        """The moment `share` of the way through the span, at midnight."""
        moment = self.start + (self.end - self.start) * share
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _add_months(moment: datetime, months: int) -> datetime:
    year, month = divmod(moment.month - 1 + months, 12)
    return moment.replace(year=moment.year + year, month=month + 1, day=1)


def demo_span(*, end: datetime, months: int = DEMO_MONTHS) -> Span:
    """`months` whole calendar months (UTC) ending with the month of `end`."""
    end = end.astimezone(UTC)
    start = _add_months(datetime(end.year, end.month, 1, tzinfo=UTC), -(months - 1))
    return Span(start=start, end=end, months=months)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def money(value: float) -> str:
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def between(rng: random.Random, first: datetime, last: datetime) -> datetime:
    seconds = max(int((last - first).total_seconds()) - 1, 0)
    return first + timedelta(seconds=rng.randint(0, seconds))


def demo_events(*, end: datetime, months: int = DEMO_MONTHS, seed: int = DEMO_SEED) -> dict[str, list[dict[str, Any]]]:
    """Every kind's events over `months` months ending at `end`, the same for the same arguments.

    Each kind draws from its own generator (its spec's `demo`, in `roi.kinds`) seeded from
    `seed`, so changing one kind's story leaves the others as they were.
    """
    from roi.kinds import KINDS  # the kinds' generators use this module's span and helpers

    span = demo_span(end=end, months=months)
    return {kind: spec.demo(random.Random(f"{seed}:{kind}"), span) for kind, spec in KINDS.items() if spec.demo}


# --- Seeding --------------------------------------------------------------------------


@dataclass
class DemoSeed:
    span: Span
    events: dict[str, int] = field(default_factory=dict)
    ledger_records: int = 0


def demo_has_events() -> bool:
    """Whether the scope tenant already has events of any kind (then the demo leaves it alone)."""
    from roi.kinds import KINDS

    return any(spec.model.objects.exists() for spec in KINDS.values())


def demo_data_seed(*, actor: Actor, end: datetime | None = None, months: int = DEMO_MONTHS) -> DemoSeed | None:
    """Fill the scope tenant with the demo's model, KPIs and events, unless it has events already.

    The model and KPIs take effect at the start of the span, so every event is valued
    with them; events go in through `events_ingest`, like any integration's.
    """
    from roi import selectors
    from roi.ingestion import events_ingest
    from roi.services import business_kpis_update, financial_model_update

    if demo_has_events():
        return None
    span = demo_span(end=end or timezone.now(), months=months)
    if selectors.financial_model_current() is None:
        financial_model_update(
            actor=actor, groups=DEMO_MODEL, change_reason="Demo: the brief's figures", effective_from=span.start
        )
    if selectors.business_kpis_current() is None:
        business_kpis_update(
            actor=actor, sections=DEMO_KPIS, change_reason="Demo: the brief's KPIs", effective_from=span.start
        )
    seeded = DemoSeed(span=span)
    for kind, events in demo_events(end=span.end, months=months).items():
        for start in range(0, len(events), INGEST_BATCH):
            outcome = events_ingest(actor=actor, kind=kind, payload=events[start : start + INGEST_BATCH])
            seeded.ledger_records += outcome.ledger_record is not None
        seeded.events[kind] = len(events)
    return seeded
