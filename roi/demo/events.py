"""The demo tenant's story: two years of operations, generated deterministically.

Plain functions return event dicts exactly as an integration would send them (ISO times,
numbers as strings), so they go through the same validation, valuation, ledger and
rollups as real data, and tests can check them without a database. `roi.demo.seed`
feeds them to `events_ingest` once.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from roi.engine.money import money_text
from roi.models import EventKind

DEMO_SEED = 20_250_101
DEMO_MONTHS = 24

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


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _money(value: float) -> str:
    return money_text(Decimal(str(value)))


def _between(rng: random.Random, first: datetime, last: datetime) -> datetime:
    seconds = max(int((last - first).total_seconds()) - 1, 0)
    return first + timedelta(seconds=rng.randint(0, seconds))


# --- Incidents ------------------------------------------------------------------------

REAL_SEVERITIES = (
    ("sev2", 0.2, (20, 90), (0.3, 0.8)),
    ("sev3", 0.45, (5, 40), (0.05, 0.3)),
    ("sev4", 0.35, (1, 15), (0.01, 0.1)),
)
PREVENTED_SEVERITIES = (("sev1", 0.15, (60, 240)), ("sev2", 0.4, (20, 120)), ("sev3", 0.45, (5, 45)))


def demo_incidents(rng: random.Random, span: Span) -> list[dict[str, Any]]:
    """Real outages each month (sev1s in a few bad months) and prevented ones, growing as monitoring matures."""
    bad_months = set(rng.sample(range(span.months), k=min(3, span.months)))
    events: list[dict[str, Any]] = []
    for index, first, last in span.month_starts():
        share = index / max(span.months - 1, 1)
        real = [
            rng.choices(REAL_SEVERITIES, weights=[s[1] for s in REAL_SEVERITIES])[0] for _ in range(rng.randint(2, 5))
        ]
        for severity, _, (low, high), (share_low, share_high) in real:
            started = _between(rng, first, last)
            downtime = rng.randint(low, high)
            events.append(
                {
                    "title": f"{severity.upper()} degradation",
                    "severity": severity,
                    "started_at": _iso(started),
                    "resolved_at": _iso(started + timedelta(minutes=downtime)),
                    "affected_revenue_share": str(round(rng.uniform(share_low, share_high), 2)),
                    "affected_customers": rng.randint(0, 40),
                    "department": rng.choice(TEAMS),
                    "product": rng.choice(list(SERVICES.values())),
                }
            )
        if index in bad_months:
            for _ in range(rng.randint(1, 2)):
                started = _between(rng, first, last)
                downtime = rng.randint(90, 300)
                events.append(
                    {
                        "title": "SEV1 outage: checkout unavailable",
                        "severity": "sev1",
                        "started_at": _iso(started),
                        "resolved_at": _iso(started + timedelta(minutes=downtime)),
                        "affected_revenue_share": str(round(rng.uniform(0.6, 1.0), 2)),
                        "affected_customers": rng.randint(100, 400),
                        "public": True,
                        "affected_services": ["checkout-api", "storefront"],
                        "department": "payments",
                        "product": "checkout",
                    }
                )
        for _ in range(3 + round(6 * share) + rng.randint(0, 2)):
            severity, _, (low, high) = rng.choices(PREVENTED_SEVERITIES, weights=[s[1] for s in PREVENTED_SEVERITIES])[
                0
            ]
            events.append(
                {
                    "title": f"Prevented {severity} (early warning)",
                    "severity": severity,
                    "started_at": _iso(_between(rng, first, last)),
                    "prevented": True,
                    "estimated_downtime_minutes": rng.randint(low, high),
                    "prevention_confidence": str(round(rng.uniform(0.5, 0.95), 2)),
                    "affected_revenue_share": str(round(rng.uniform(0.2, 1.0), 2)),
                    "department": rng.choice(TEAMS),
                    "product": rng.choice(list(SERVICES.values())),
                }
            )
    events.sort(key=lambda e: e["started_at"])
    for number, event in enumerate(events, start=1):
        event["external_id"] = f"DEMO-INC-{number:05d}"
    return events


# --- Automation runs ------------------------------------------------------------------


@dataclass(frozen=True)
class Process:
    name: str
    department: str
    product: str
    manual_seconds: int
    execution_seconds: int
    runs_per_day: tuple[int, int]
    weekdays_only: bool = False
    error_rate: float = 0.0  # errors a run avoids, on average
    compliance_checks: int = 0
    live_from: float = 0.0  # share of the span before it goes live


PROCESSES = (
    Process("invoice-matching", "finance", "erp", 900, 45, (30, 60), weekdays_only=True, error_rate=0.02),
    Process("user-provisioning", "it", "identity", 1800, 120, (3, 12), weekdays_only=True, error_rate=0.05),
    Process("patch-compliance-scan", "security", "platform", 14_400, 600, (1, 1), compliance_checks=1),
    Process("backup-verification", "operations", "platform", 2700, 300, (1, 2)),
    # The automation the demo story turns on half-way through.
    Process("incident-auto-remediation", "operations", "checkout", 3600, 90, (0, 6), error_rate=0.3, live_from=0.5),
)


def demo_automation_runs(rng: random.Random, span: Span) -> list[dict[str, Any]]:
    """One daily summary per process (`runs` that day); one process goes live mid-way."""
    events: list[dict[str, Any]] = []
    for share, day in span.days():
        for process in PROCESSES:
            if share < process.live_from or (process.weekdays_only and day.weekday() >= 5):
                continue
            runs = rng.randint(*process.runs_per_day)
            if runs == 0:
                continue
            started = day + timedelta(hours=rng.randint(0, 5), minutes=rng.randint(0, 59))
            if started >= span.end:
                continue
            errors = sum(1 for _ in range(runs) if rng.random() < process.error_rate)
            events.append(
                {
                    "external_id": f"DEMO-RUN-{process.name}-{day:%Y%m%d}",
                    "process": process.name,
                    "started_at": _iso(started),
                    "execution_time": str(
                        process.execution_seconds + rng.randint(-10, 10) * process.execution_seconds // 100
                    ),
                    "manual_time_equivalent": str(process.manual_seconds),
                    "runs": runs,
                    "errors_avoided": errors,
                    "compliance_checks": process.compliance_checks * runs,
                    "department": process.department,
                    "product": process.product,
                }
            )
    return events


# --- Performance samples --------------------------------------------------------------

# Mean response time (ms), how much it improves after the improvement date, and its noise.
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
                    "measured_at": _iso(measured),
                    "response_time_ms": f"{max(response, 20.0):.1f}",
                    "availability_percent": f"{min(100.0, 99.95 + rng.gauss(0, 0.03)):.3f}",
                    "conversion_rate": f"{max(0.5, 2.6 - (response - 200) / 1000 + rng.gauss(0, 0.1)):.3f}",
                    "department": "engineering",
                    "product": SERVICES[service],
                }
            )
    return events


# --- Deployments ----------------------------------------------------------------------


def demo_deployments(rng: random.Random, span: Span) -> list[dict[str, Any]]:
    """Deployments getting more frequent, faster to ship and less often failed."""
    events: list[dict[str, Any]] = []
    for index, first, last in span.month_starts():
        share = index / max(span.months - 1, 1)
        for _ in range(round(6 + 34 * share) + rng.randint(-2, 2)):
            service = rng.choice(list(SERVICES))
            deployed = _between(rng, first, last)
            lead_hours = max(1.0, rng.lognormvariate(math.log(72 - 60 * share), 0.5))
            event: dict[str, Any] = {
                "service": service,
                "deployed_at": _iso(deployed),
                "committed_at": _iso(deployed - timedelta(hours=lead_hours)),
                "department": "engineering",
                "product": SERVICES[service],
            }
            if rng.random() < 0.18 - 0.12 * share:
                event["failed"] = True
                restored = deployed + timedelta(minutes=rng.randint(20, 240))
                if restored < span.end:
                    event["restored_at"] = _iso(restored)
            events.append(event)
    events.sort(key=lambda e: e["deployed_at"])
    for number, event in enumerate(events, start=1):
        event["external_id"] = f"DEMO-DEP-{number:05d}"
    return events


# --- Investments ----------------------------------------------------------------------

INVESTMENTS = (
    ("Observability platform", 0.04, 250_000, 8_000, 45_000, 36, "operations", "platform"),
    ("Automation platform", 0.42, 150_000, 5_000, 30_000, 36, "operations", "platform"),
    ("CDN and edge caching", 0.55, 80_000, 6_000, 25_000, 24, "platform", "web"),
    ("SRE on-call tooling", 0.75, 40_000, 2_000, 9_000, 24, "operations", "checkout"),
)


def demo_investments(rng: random.Random, span: Span) -> list[dict[str, Any]]:
    """The initiatives behind the story, each started where its effect begins."""
    events = []
    for number, (name, share, upfront, monthly, benefit, months, department, product) in enumerate(INVESTMENTS, 1):
        started = span.at(share) + timedelta(hours=9)
        if started >= span.end:
            continue
        events.append(
            {
                "external_id": f"DEMO-INV-{number:02d}",
                "name": name,
                "started_at": _iso(started),
                "upfront_cost": _money(upfront * rng.uniform(0.95, 1.05)),
                "monthly_cost": _money(monthly),
                "expected_monthly_benefit": _money(benefit),
                "months": months,
                "department": department,
                "product": product,
            }
        )
    return events


GENERATORS = {
    EventKind.INVESTMENT.value: demo_investments,
    EventKind.INCIDENT.value: demo_incidents,
    EventKind.AUTOMATION_RUN.value: demo_automation_runs,
    EventKind.DEPLOYMENT.value: demo_deployments,
    EventKind.PERFORMANCE_SAMPLE.value: demo_performance_samples,
}


def demo_events(*, end: datetime, months: int = DEMO_MONTHS, seed: int = DEMO_SEED) -> dict[str, list[dict[str, Any]]]:
    """Every kind's events over `months` months ending at `end`, the same for the same arguments.

    Each kind draws from its own generator seeded from `seed`, so changing one kind's
    story leaves the others as they were.
    """
    span = demo_span(end=end, months=months)
    return {kind: generate(random.Random(f"{seed}:{kind}"), span) for kind, generate in GENERATORS.items()}
