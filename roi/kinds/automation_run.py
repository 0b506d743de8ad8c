"""Automation runs: worth the manual time they save, the errors they avoid and the checks they make."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from roi.kinds.contributions import contribution, counted, summed
from roi.kinds.fields import Integer, Moment, Number, Text
from roi.kinds.spec import Event, KindSpec, ledger_number
from roi.models import AutomationRun, EventKind, Stream


def valuation(event: Event) -> tuple[str, dict[str, Any]]:
    return "automation_value", {
        "manual_time_equivalent": ledger_number(event["manual_time_equivalent"]),
        "execution_time": ledger_number(event["execution_time"]),
        "runs": event["runs"],
        "errors_avoided": event["errors_avoided"],
        "compliance_checks": event["compliance_checks"],
    }


def apply(event: Event, result: dict[str, Any] | None) -> None:
    event["value"] = None if result is None else Decimal(result["total_value"])
    event["hours_saved"] = None if result is None else Decimal(result["time_saved_hours"])


SPEC = KindSpec(
    kind=EventKind.AUTOMATION_RUN,
    model=AutomationRun,
    own_fields=(
        Text("process", required=True),
        Moment("started_at", required=True),
        Number("execution_time", required=True),
        Number("manual_time_equivalent", required=True),
        Integer("runs", default=1, minimum=1),
        Integer("errors_avoided", default=0),
        Integer("compliance_checks", default=0),
    ),
    occurred_at="started_at",
    rollup=(
        contribution(
            Stream.AUTOMATION, value=summed("value"), event_count=counted(), hours_saved=summed("hours_saved")
        ),
    ),
    valuation=valuation,
    apply=apply,
    outputs=("hours_saved",),
)
