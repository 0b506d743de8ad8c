"""Incidents: a real outage costs its downtime; a prevented one is worth the downtime it avoided."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

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
)
