"""KPI alerts: the rules, their evaluation, and the acknowledge/resolve lifecycle.

Rules read the same monthly rollups as the dashboard plus one bounded count of incidents
by week. An alert is one breach of one rule in one period; the database allows a single
unresolved alert per rule and period, so however many evaluations run, and in whatever
order, a breach fires (and is delivered) once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from dashboards import escalations, selectors
from dashboards.models import UNRESOLVED, Alert, AlertRule, AlertStatus, Escalation
from governance import sql
from governance.fiscal import add_months, fiscal_year_of, fiscal_year_start
from governance.ledger import Actor
from roi.engine.finance import roi_percent, spread
from roi.engine.money import money_text
from roi.models import Incident, Stream

EVALUATOR = Actor.system("alert-evaluation")
AUDIENCE = {Escalation.NOTIFY_CFO: "CFO", Escalation.BOARD_REVIEW: "Board", Escalation.EXECUTIVE_ALERT: "Executives"}

# The incident surge rule (docs/dashboard-guide.md): this ISO week's real incidents exceed
# the trailing weeks' mean by more than SURGE_SIGMAS standard deviations, and by at least
# SURGE_MIN_EXCESS incidents, so a quiet history does not turn two incidents into a surge.
SURGE_TRAILING_WEEKS = 8
SURGE_SIGMAS = Decimal(3)
SURGE_MIN_EXCESS = Decimal(3)
FOUR_PLACES = Decimal("0.0001")

# The ROI decline rule (docs/dashboard-guide.md) compares the ROI of the three complete
# months to last month with that of the three complete months to the month before. Three
# months, not the fiscal year to date: a year-to-date figure restarts each fiscal year (one
# month against twelve) and, late in the year, dilutes a bad month twelvefold; the running
# month is left out because its value is still arriving while its cost is booked whole.
DECLINE_WINDOW_MONTHS = 3
# Months of rollups the evaluation reads: the decline rule's two windows end last month.
EVALUATION_MONTHS_BACK = DECLINE_WINDOW_MONTHS + 1


@dataclass(frozen=True)
class Finding:
    """What one rule says about one period: breached or met, with the figures that decided it."""

    rule: AlertRule
    period: str
    breached: bool
    measured: Decimal
    threshold: Decimal
    unit: str
    message: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Evaluation:
    opened: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def _money_finding(rule: AlertRule, month: date, measured: Decimal, target: Decimal, what: str) -> Finding:
    return Finding(
        rule=rule,
        period=f"{month:%Y-%m}",
        breached=measured < target,
        measured=measured,
        threshold=target,
        unit="money",
        message=f"{what} in {month:%Y-%m} is below the monthly target.",
    )


def weekly_incident_counts(*, week_start: date, zone: ZoneInfo) -> list[int]:
    """Real incidents per local week, oldest first, ending with the week starting `week_start`.

    One query over the (tenant, occurred_at) index: a filtered count per week, however
    many incidents there are.
    """
    starts = [week_start - timedelta(weeks=n) for n in range(SURGE_TRAILING_WEEKS, -1, -1)]
    bounds = [datetime.combine(day, time(), tzinfo=zone) for day in [*starts, week_start + timedelta(weeks=1)]]
    counts = Incident.objects.filter(prevented=False, occurred_at__gte=bounds[0], occurred_at__lt=bounds[-1]).aggregate(
        **{
            f"w{n}": Count("pk", filter=Q(occurred_at__gte=bounds[n], occurred_at__lt=bounds[n + 1]))
            for n in range(len(starts))
        }
    )
    return [counts[f"w{n}"] for n in range(len(starts))]


def surge_finding(*, today: date, zone: ZoneInfo) -> Finding:
    """This ISO week against the eight before it (mean + 3 population standard deviations)."""
    week_start = today - timedelta(days=today.weekday())
    *trailing, current = weekly_incident_counts(week_start=week_start, zone=zone)
    usual = spread(trailing)
    mean, sigma = usual.mean, usual.sigma
    threshold = mean + SURGE_SIGMAS * sigma
    breached = current > threshold and current - mean >= SURGE_MIN_EXCESS
    iso_year, iso_week, _ = week_start.isocalendar()
    return Finding(
        rule=AlertRule.INCIDENT_SURGE,
        period=f"{iso_year}-W{iso_week:02d}",
        breached=breached,
        measured=Decimal(current),
        threshold=threshold.quantize(FOUR_PLACES),
        unit="count",
        message=(
            f"{current} incidents in week {iso_year}-W{iso_week:02d}, against a mean of "
            f"{mean.quantize(Decimal('0.1'))} a week over the {len(trailing)} weeks before."
        ),
        detail={
            "weekly_counts": trailing,
            "mean": str(mean.quantize(FOUR_PLACES)),
            "standard_deviation": str(sigma.quantize(FOUR_PLACES)),
            "minimum_excess": str(SURGE_MIN_EXCESS),
        },
    )


def trailing_roi(data: selectors.TenantFigures, last: date) -> tuple[Decimal | None, date]:
    """ROI, in percent, of the DECLINE_WINDOW_MONTHS months ending `last`, and the window's first month."""
    first = add_months(last, 1 - DECLINE_WINDOW_MONTHS)
    cost = data.cost_between(first, last)
    return roi_percent(data.value_between(first, last), cost), first


def decline_finding(*, data: selectors.TenantFigures) -> Finding | None:
    """Last month's trailing ROI against the month before's; None when either had no cost."""
    last_month = add_months(data.this_month, -1)
    month_before = add_months(last_month, -1)
    roi, first = trailing_roi(data, last_month)
    previous, previous_first = trailing_roi(data, month_before)
    if roi is None or previous is None:
        return None
    points = data.alerts["roi_decline_points"]
    fall = previous - roi
    return Finding(
        rule=AlertRule.ROI_DECLINE,
        period=f"{last_month:%Y-%m}",
        breached=fall > points,
        measured=roi,
        # The level the ROI had to stay at or above: the previous figure less the allowed fall.
        threshold=previous - points,
        unit="percent",
        message=(
            f"ROI over the {DECLINE_WINDOW_MONTHS} months to {last_month:%Y-%m} fell from "
            f"{previous.quantize(Decimal('0.1'))}% to {roi.quantize(Decimal('0.1'))}%, "
            f"more than {points.normalize():f} points."
        ),
        detail={
            "window": f"{first:%Y-%m}..{last_month:%Y-%m}",
            "previous_window": f"{previous_first:%Y-%m}..{month_before:%Y-%m}",
            "previous": str(previous.quantize(FOUR_PLACES)),
            "decline_points": str(points),
            "fall": str(fall.quantize(FOUR_PLACES)),
        },
    )


def rule_findings(*, data: selectors.TenantFigures) -> list[Finding]:
    """Every rule that can be judged now: months need some data, ROI needs some cost."""
    last_month = add_months(data.this_month, -1)
    start_month = data.tenant.fiscal_year_start_month
    fy_start = fiscal_year_start(data.today, start_month)
    # No events this fiscal year or in the two months before this one: nothing to judge, not
    # "below target". (The decline rule reads further back; that must not widen this.)
    recent = min(add_months(data.this_month, -2), fy_start)
    findings = []
    if any(month >= recent for month in data.months):
        findings.append(
            _money_finding(
                AlertRule.VALUE_BELOW_TARGET,
                last_month,
                data.month(last_month).total,
                data.alerts["monthly_value_target"],
                "Value created",
            )
        )
        findings.append(
            _money_finding(
                AlertRule.PREVENTION_BELOW_TARGET,
                last_month,
                data.month(last_month).value[Stream.INCIDENT_PREVENTION],
                data.alerts["incident_prevention_target"],
                "Incident prevention",
            )
        )
    cost = data.cost_between(fy_start, data.this_month)
    roi = roi_percent(data.value_between(fy_start, data.this_month), cost)
    if roi is not None:
        findings.append(
            Finding(
                rule=AlertRule.ROI_BELOW_TARGET,
                period=f"FY{fiscal_year_of(data.this_month, start_month)}",
                breached=roi < data.alerts["roi_target"],
                measured=roi,
                threshold=data.alerts["roi_target"],
                unit="percent",
                message="Fiscal year-to-date ROI is below the target.",
            )
        )
    decline = decline_finding(data=data)
    if decline is not None:
        findings.append(decline)
    findings.append(surge_finding(today=data.today, zone=ZoneInfo(data.tenant.time_zone)))
    return findings


def _open(finding: Finding, escalation: str) -> Alert | None:
    """Insert the alert, or None when a concurrent evaluation inserted it first."""
    alert = Alert(
        rule=finding.rule,
        period=finding.period,
        escalation=escalation,
        unit=finding.unit,
        measured=finding.measured.quantize(FOUR_PLACES),
        threshold=finding.threshold.quantize(FOUR_PLACES),
        message=finding.message,
        detail=finding.detail,
    )
    try:
        with transaction.atomic():  # a savepoint: losing the race leaves the outer work intact
            alert.save(force_insert=True)
    except IntegrityError:
        return None
    return alert


def _resolve(alert: Alert, actor: Actor) -> None:
    alert.status = AlertStatus.RESOLVED
    alert.resolved_at = timezone.now()
    alert.resolved_by = actor.user
    alert.resolved_by_actor = actor.label
    alert.save()


def alerts_evaluate(*, on_open: Callable[[Alert], None] | None = None) -> Evaluation:
    """Judge every rule for the scope tenant: open an alert per new breach, resolve rules met again.

    An alert that a person resolved stays resolved for its period; one the evaluator
    resolved (the target was met) can fire again if the figure falls back. `on_open` is
    called for each alert this evaluation opened (delivery is enqueued there). Each alert
    raises the escalation the tenant maps its rule to (`escalations.rule_escalations`).
    """
    data = selectors.tenant_figures(months_back=EVALUATION_MONTHS_BACK)
    escalation_of = escalations.rule_escalations(escalations.escalation_settings_current())
    evaluation = Evaluation(findings=rule_findings(data=data))
    periods = {finding.period for finding in evaluation.findings}
    known = list(
        Alert.objects.select_for_update().filter(Q(status__in=UNRESOLVED) | Q(period__in=periods, status="resolved"))
    )
    for finding in evaluation.findings:
        same_rule = [alert for alert in known if alert.rule == finding.rule]
        unresolved = [alert for alert in same_rule if alert.status in UNRESOLVED]
        if not finding.breached:
            for alert in unresolved:
                _resolve(alert, EVALUATOR)
                evaluation.resolved.append(alert)
            continue
        this_period = [alert for alert in same_rule if alert.period == finding.period]
        if any(alert.status in UNRESOLVED or alert.resolved_by_a_person for alert in this_period):
            continue
        opened = _open(finding, escalation_of[finding.rule])
        if opened is not None:
            evaluation.opened.append(opened)
            if on_open is not None:
                on_open(opened)
    return evaluation


# --- Lifecycle ------------------------------------------------------------------------


class AlertRefused(ValidationError):
    """A lifecycle step that does not apply to the alert's state (a 400 naming `status`)."""


def alerts_list(*, status: str | None = None) -> Any:
    """The scope tenant's alerts, newest first, optionally of one status."""
    return Alert.objects.filter(status=status) if status else Alert.objects.all()


def alerts_unresolved(*, limit: int = 20) -> list[Alert]:
    """Open and acknowledged alerts, newest first: what the overview shows (one query)."""
    statuses = sorted(str(status) for status in UNRESOLVED)
    # Hand-written: on every overview (bench/dashboard.py), where the ORM's compile cost more than the statement.
    return sql.instances(
        Alert,
        f'"status" IN ({", ".join(["%s"] * len(statuses))})',
        statuses,
        order_by='"opened_at" DESC, "id" DESC',
        limit=limit,
    )


def alert_acknowledge(*, alert_id: int, actor: Actor) -> Alert:
    """Record who acknowledged an open alert, and when; acknowledging twice keeps the first."""
    alert = Alert.objects.select_for_update().get(pk=alert_id)
    if alert.status == AlertStatus.RESOLVED:
        raise AlertRefused({"status": ["This alert is resolved already."]})
    if alert.status == AlertStatus.OPEN:
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = actor.user
        alert.acknowledged_by_actor = actor.label
        alert.save()
    return alert


def alert_resolve(*, alert_id: int, actor: Actor) -> Alert:
    """Close an alert by hand; its rule will not fire again for the same period."""
    alert = Alert.objects.select_for_update().get(pk=alert_id)
    if alert.status != AlertStatus.RESOLVED:
        _resolve(alert, actor)
    return alert


def figure_text(value: Decimal, unit: str) -> str:
    """Money to the cent, ROI as computed (four places), whole counts without decimals."""
    if unit == "percent":
        return str(value.quantize(FOUR_PLACES))
    if unit == "count" and value == value.to_integral_value():
        return str(int(value))
    return money_text(value)


def alert_as_dict(alert: Alert) -> dict[str, Any]:
    """An alert as the overview and the API show it (the overview's historic keys kept)."""
    return {
        "id": alert.pk,
        "kind": alert.rule,
        "rule": alert.rule,
        "period": alert.period,
        "status": alert.status,
        "escalation": alert.escalation,
        "audience": AUDIENCE[Escalation(alert.escalation)],
        "unit": alert.unit,
        "message": alert.message,
        "figure": figure_text(alert.measured, alert.unit),
        "target": figure_text(alert.threshold, alert.unit),
        "opened_at": alert.opened_at.isoformat(),
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
        "acknowledged_by": alert.acknowledged_by_actor or None,
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
        "resolved_by": alert.resolved_by_actor or None,
        "detail": alert.detail,
    }
