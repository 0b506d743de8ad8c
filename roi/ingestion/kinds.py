"""Per event kind (`KINDS`): its model and parser, what to value, how the result lands on the event, and what
it adds up to in the rollups.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from governance.ledger import canonical_numbers
from roi import event_fields
from roi.models import AutomationRun, Deployment, EventKind, Incident, Investment, PerformanceSample, Stream

ZERO = Decimal(0)


@dataclass(frozen=True)
class KindSpec:
    kind: EventKind
    model: type[Any]
    parse: event_fields.Parser
    # Engine method and its inputs for one parsed event (None: not valued one by one).
    valuation: Callable[[dict[str, Any]], tuple[str, dict[str, Any]] | None]
    apply: Callable[[dict[str, Any], dict[str, Any] | None], None]
    contributions: Callable[[dict[str, Any]], list[tuple[str, dict[str, Decimal]]]]


def _s(value: Decimal | None) -> str | None:
    # The canonical text the ledger records numbers in ("1000", not "1E+3" as str() writes it).
    return None if value is None else canonical_numbers(value)


# --- Per kind: what to value, how the result lands on the event, what it adds up to ----


def _incident_valuation(event: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    downtime = event["estimated_downtime_minutes"] if event["prevented"] else event["downtime_minutes"]
    if downtime is None:
        return None  # still open: valued when it is resolved
    inputs = {
        "downtime_minutes": _s(downtime),
        "severity": event["severity"],
        "affected_revenue_share": _s(event["affected_revenue_share"]),
        "affected_customers": event["affected_customers"],
        "public": event["public"],
        "started_at": event["started_at"].isoformat(),
    }
    if event["prevented"]:
        inputs["prevention_confidence"] = _s(event["prevention_confidence"])
    return "incident_cost", inputs


def _incident_apply(event: dict[str, Any], result: dict[str, Any] | None) -> None:
    if result is None:
        event["value"] = event["downtime_cost"] = None
    elif event["prevented"]:
        event["value"], event["downtime_cost"] = Decimal(result["prevention_value"]), None
    else:
        event["value"], event["downtime_cost"] = None, Decimal(result["total_impact"])


def _incident_contributions(event: dict[str, Any]) -> list[tuple[str, dict[str, Decimal]]]:
    if event["prevented"]:
        return [(Stream.INCIDENT_PREVENTION, {"value": event["value"] or ZERO, "event_count": Decimal(1)})]
    return [
        (
            Stream.DOWNTIME,
            {
                "value": event["downtime_cost"] or ZERO,
                "event_count": Decimal(1),
                "downtime_minutes": event["downtime_minutes"] or ZERO,
            },
        )
    ]


def _automation_valuation(event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "automation_value", {
        "manual_time_equivalent": _s(event["manual_time_equivalent"]),
        "execution_time": _s(event["execution_time"]),
        "runs": event["runs"],
        "errors_avoided": event["errors_avoided"],
        "compliance_checks": event["compliance_checks"],
    }


def _automation_apply(event: dict[str, Any], result: dict[str, Any] | None) -> None:
    event["value"] = None if result is None else Decimal(result["total_value"])
    event["hours_saved"] = None if result is None else Decimal(result["time_saved_hours"])


def _automation_contributions(event: dict[str, Any]) -> list[tuple[str, dict[str, Decimal]]]:
    return [
        (
            Stream.AUTOMATION,
            {"value": event["value"] or ZERO, "event_count": Decimal(1), "hours_saved": event["hours_saved"] or ZERO},
        )
    ]


def _investment_valuation(event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "investment_roi", {
        "upfront_cost": _s(event["upfront_cost"]),
        "monthly_cost": _s(event["monthly_cost"]),
        "monthly_benefit": _s(event["expected_monthly_benefit"]),
        "months": event["months"],
    }


def _no_valuation(event: dict[str, Any]) -> None:
    return None


def _keep_result_only(event: dict[str, Any], result: dict[str, Any] | None) -> None:
    event["value"] = None


def _performance_contributions(event: dict[str, Any]) -> list[tuple[str, dict[str, Decimal]]]:
    # Money for performance is set per service and month (see value_performance_months).
    amounts = {"event_count": Decimal(1), "response_time_ms_sum": event["response_time_ms"]}
    # Availability and conversion are optional: counted only by the samples that carry them.
    if event["availability_percent"] is not None:
        amounts["availability_percent_sum"] = event["availability_percent"]
        amounts["availability_count"] = Decimal(1)
    if event["conversion_rate"] is not None:
        amounts["conversion_rate_sum"] = event["conversion_rate"]
        amounts["conversion_rate_count"] = Decimal(1)
    return [(Stream.PERFORMANCE, amounts)]


def seconds(delta: timedelta) -> Decimal:
    """A duration in seconds, exact to the microsecond (no float on the way)."""
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds).scaleb(-6)


def _deployment_contributions(event: dict[str, Any]) -> list[tuple[str, dict[str, Decimal]]]:
    amounts = {"event_count": Decimal(1), "failures": Decimal(1 if event["failed"] else 0)}
    if event["committed_at"] is not None:
        amounts["lead_time_seconds_sum"] = seconds(event["deployed_at"] - event["committed_at"])
        amounts["lead_time_count"] = Decimal(1)
    if event["failed"] and event["restored_at"] is not None:
        amounts["restore_seconds_sum"] = seconds(event["restored_at"] - event["deployed_at"])
        amounts["restore_count"] = Decimal(1)
    return [(Stream.DEPLOYMENTS, amounts)]


def _investment_contributions(event: dict[str, Any]) -> list[tuple[str, dict[str, Decimal]]]:
    return [(Stream.INVESTMENT, {"event_count": Decimal(1), "value": event["upfront_cost"]})]


KINDS: dict[str, KindSpec] = {
    spec.kind.value: spec
    for spec in (
        KindSpec(
            EventKind.INCIDENT,
            Incident,
            event_fields.parse_incident,
            _incident_valuation,
            _incident_apply,
            _incident_contributions,
        ),
        KindSpec(
            EventKind.AUTOMATION_RUN,
            AutomationRun,
            event_fields.parse_automation_run,
            _automation_valuation,
            _automation_apply,
            _automation_contributions,
        ),
        KindSpec(
            EventKind.PERFORMANCE_SAMPLE,
            PerformanceSample,
            event_fields.parse_performance_sample,
            _no_valuation,
            _keep_result_only,
            _performance_contributions,
        ),
        KindSpec(
            EventKind.DEPLOYMENT,
            Deployment,
            event_fields.parse_deployment,
            _no_valuation,
            _keep_result_only,
            _deployment_contributions,
        ),
        KindSpec(
            EventKind.INVESTMENT,
            Investment,
            event_fields.parse_investment,
            _investment_valuation,
            _keep_result_only,
            _investment_contributions,
        ),
    )
}
