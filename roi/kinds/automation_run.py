"""Automation runs: worth the manual time they save, the errors they avoid and the checks they make."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from roi.demo.events import Span, iso
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


# --- Demo data ---------------------------------------------------------------------------


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
                    "started_at": iso(started),
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
    demo=demo_automation_runs,
)
