"""Incidents: a real outage costs its downtime; a prevented one is worth the downtime it avoided."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from roi.demo.events import SERVICES, TEAMS, Span, between, iso
from roi.event_fields import QUANTITY_PLACES, SEVERITIES, FieldReader, to_places
from roi.kinds.contributions import contribution, counted, summed, when
from roi.kinds.fields import Choice, Flag, Integer, Moment, Number, Share, Strings, Text
from roi.kinds.spec import Event, KindSpec, ledger_number
from roi.models import EventKind, Incident, Stream

# Read after the others (see `check`): the downtime defaults to the time between the two
# times, and the estimate and confidence apply only to prevented incidents.
DOWNTIME = Number("downtime_minutes", deferred=True)
ESTIMATED_DOWNTIME = Number("estimated_downtime_minutes", required=True, deferred=True)
PREVENTION_CONFIDENCE = Share("prevention_confidence", default=Decimal(1), deferred=True)


def _minutes_between(start: datetime, end: datetime) -> Decimal:
    return to_places(Decimal((end - start).total_seconds()) / Decimal(60), QUANTITY_PLACES)


def check(reader: FieldReader, event: Event) -> None:
    downtime = DOWNTIME.read(reader)
    if event["resolved_at"] and event["started_at"]:
        if event["resolved_at"] < event["started_at"]:
            reader.fail("resolved_at", "must not be before started_at")
        elif downtime is None:
            downtime = _minutes_between(event["started_at"], event["resolved_at"])
    event["downtime_minutes"] = downtime
    if event["prevented"]:
        event["estimated_downtime_minutes"] = ESTIMATED_DOWNTIME.read(reader)
        event["prevention_confidence"] = PREVENTION_CONFIDENCE.read(reader)
    else:
        for name in (ESTIMATED_DOWNTIME.name, PREVENTION_CONFIDENCE.name):
            if reader.present(name):
                reader.fail(name, "applies only to prevented incidents (prevented: true)")
        event["estimated_downtime_minutes"] = None
        event["prevention_confidence"] = None


def valuation(event: Event) -> tuple[str, dict[str, Any]] | None:
    downtime = event["estimated_downtime_minutes"] if event["prevented"] else event["downtime_minutes"]
    if downtime is None:
        return None  # still open: valued when it is resolved
    inputs = {
        "downtime_minutes": ledger_number(downtime),
        "severity": event["severity"],
        "affected_revenue_share": ledger_number(event["affected_revenue_share"]),
        "affected_customers": event["affected_customers"],
        "public": event["public"],
        "started_at": event["started_at"].isoformat(),
    }
    if event["prevented"]:
        inputs["prevention_confidence"] = ledger_number(event["prevention_confidence"])
    return "incident_cost", inputs


def apply(event: Event, result: dict[str, Any] | None) -> None:
    if result is None:
        event["value"] = event["downtime_cost"] = None
    elif event["prevented"]:
        event["value"], event["downtime_cost"] = Decimal(result["prevention_value"]), None
    else:
        event["value"], event["downtime_cost"] = None, Decimal(result["total_impact"])


# --- Demo data ---------------------------------------------------------------------------

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
            started = between(rng, first, last)
            downtime = rng.randint(low, high)
            events.append(
                {
                    "title": f"{severity.upper()} degradation",
                    "severity": severity,
                    "started_at": iso(started),
                    "resolved_at": iso(started + timedelta(minutes=downtime)),
                    "affected_revenue_share": str(round(rng.uniform(share_low, share_high), 2)),
                    "affected_customers": rng.randint(0, 40),
                    "department": rng.choice(TEAMS),
                    "product": rng.choice(list(SERVICES.values())),
                }
            )
        if index in bad_months:
            for _ in range(rng.randint(1, 2)):
                started = between(rng, first, last)
                downtime = rng.randint(90, 300)
                events.append(
                    {
                        "title": "SEV1 outage: checkout unavailable",
                        "severity": "sev1",
                        "started_at": iso(started),
                        "resolved_at": iso(started + timedelta(minutes=downtime)),
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
                    "started_at": iso(between(rng, first, last)),
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


SPEC = KindSpec(
    kind=EventKind.INCIDENT,
    model=Incident,
    own_fields=(
        Text("title", max_length=300),
        Choice("severity", required=True, choices=SEVERITIES),
        Moment("started_at", required=True),
        Moment("resolved_at"),
        DOWNTIME,
        Strings("affected_services"),
        Integer("affected_customers", default=0),
        Share("affected_revenue_share", default=Decimal(1)),
        Flag("public"),
        Flag("prevented"),
        ESTIMATED_DOWNTIME,
        PREVENTION_CONFIDENCE,
    ),
    occurred_at="started_at",
    rollup=(
        contribution(Stream.INCIDENT_PREVENTION, when(prevented=True), value=summed("value"), event_count=counted()),
        contribution(
            Stream.DOWNTIME,
            when(prevented=False),
            value=summed("downtime_cost"),
            event_count=counted(),
            downtime_minutes=summed("downtime_minutes"),
        ),
    ),
    valuation=valuation,
    apply=apply,
    check=check,
    outputs=("downtime_cost",),
    demo=demo_incidents,
)
