"""Operational events as integrations send them, each valued by the engine on arrival.

Every event carries the client's `external_id` (re-sending it updates the event), the
time it occurred (which picks the financial model version that values it), free
`department` and `product` labels, and its valuation with the ledger record that holds it.
"""

from __future__ import annotations

from typing import TypedDict

from django.db import models
from django.utils import timezone

from governance.models import LedgerRecord
from governance.tenancy import TenantOwned
from roi.event_fields import MONEY_PLACES, QUANTITY_PLACES


class DecimalSize(TypedDict):
    """The size of a DecimalField, spread into its declaration (`DecimalField(**MONEY)`).

    Typed so that mypy checks each spread argument against DecimalField's signature.
    """

    max_digits: int
    decimal_places: int


MONEY = DecimalSize(max_digits=20, decimal_places=MONEY_PLACES)
QUANTITY = DecimalSize(max_digits=24, decimal_places=QUANTITY_PLACES)


class EventKind(models.TextChoices):
    INCIDENT = "incidents", "Incident"
    AUTOMATION_RUN = "automation-runs", "Automation run"
    PERFORMANCE_SAMPLE = "performance-samples", "Performance sample"
    DEPLOYMENT = "deployments", "Deployment"
    INVESTMENT = "investments", "Investment"


class Event(TenantOwned):
    # No index of its own: the unique (tenant, external_id) index and the three below all
    # lead with the tenant, and every event insert pays for each index the table has.
    # No database constraint either, as for `ledger_record` below: PostgreSQL checks a foreign
    # key row by row (two checks per event, a tenth of a batch's cost). Events are written
    # only by ingestion, inside a tenant scope and pointing at the record it appends in the
    # same transaction; tenants and ledger records are never deleted (PROTECT still guards
    # them in the ORM); and `verify_ledger` reports a valued event whose ledger record does
    # not exist.
    tenant = models.ForeignKey(
        "governance.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    external_id = models.CharField(max_length=200)
    occurred_at = models.DateTimeField()
    department = models.CharField(max_length=100, blank=True, default="")
    product = models.CharField(max_length=100, blank=True, default="")
    # The valuation: value counted in a value stream, the engine's full result, the
    # model version used, and the ledger record (and item) that proves it.
    value = models.DecimalField(**MONEY, null=True, blank=True)
    valuation = models.JSONField(null=True, blank=True)
    model_version = models.PositiveIntegerField(null=True, blank=True)
    # Not indexed: events are found by tenant, time and labels, never by their record (a
    # batch record lists its events' external ids), and records are never deleted.
    ledger_record = models.ForeignKey(
        LedgerRecord,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    ledger_item = models.PositiveIntegerField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["-occurred_at"]


def event_constraints(name: str) -> list[models.BaseConstraint]:
    return [models.UniqueConstraint(fields=["tenant", "external_id"], name=f"{name}_unique_external_id")]


def event_indexes(name: str) -> list[models.Index]:
    return [
        models.Index(fields=["tenant", "occurred_at"], name=f"{name}_tenant_time"),
        models.Index(fields=["tenant", "department", "occurred_at"], name=f"{name}_tenant_dept"),
        models.Index(fields=["tenant", "product", "occurred_at"], name=f"{name}_tenant_product"),
    ]


class Severity(models.TextChoices):
    SEV1 = "sev1"
    SEV2 = "sev2"
    SEV3 = "sev3"
    SEV4 = "sev4"


class Incident(Event):
    """A real outage (its cost is downtime cost) or a prevented one (its value is prevention)."""

    title = models.CharField(max_length=300)
    severity = models.CharField(max_length=4, choices=Severity.choices)
    started_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    downtime_minutes = models.DecimalField(**QUANTITY, null=True, blank=True)
    affected_services = models.JSONField(default=list, blank=True)
    affected_customers = models.PositiveIntegerField(default=0)
    affected_revenue_share = models.DecimalField(max_digits=7, decimal_places=6, default=1)
    public = models.BooleanField(default=False)
    prevented = models.BooleanField(default=False)
    estimated_downtime_minutes = models.DecimalField(**QUANTITY, null=True, blank=True)
    prevention_confidence = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)
    downtime_cost = models.DecimalField(**MONEY, null=True, blank=True)

    class Meta(Event.Meta):
        constraints = event_constraints("incident")
        indexes = event_indexes("incident")


class AutomationRun(Event):
    process = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    execution_time = models.DecimalField(**QUANTITY)
    manual_time_equivalent = models.DecimalField(**QUANTITY)
    runs = models.PositiveIntegerField(default=1)
    errors_avoided = models.PositiveIntegerField(default=0)
    compliance_checks = models.PositiveIntegerField(default=0)
    hours_saved = models.DecimalField(**QUANTITY, null=True, blank=True)

    class Meta(Event.Meta):
        constraints = event_constraints("autorun")
        indexes = event_indexes("autorun")


class PerformanceSample(Event):
    """One measurement; valued per service and month (see the performance stream)."""

    service = models.CharField(max_length=200)
    measured_at = models.DateTimeField()
    response_time_ms = models.DecimalField(**QUANTITY)
    availability_percent = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    conversion_rate = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta(Event.Meta):
        constraints = event_constraints("perfsample")
        indexes = event_indexes("perfsample")


class Deployment(Event):
    """A deployment, for the DORA keys; not valued in money by itself."""

    service = models.CharField(max_length=200)
    deployed_at = models.DateTimeField()
    committed_at = models.DateTimeField(null=True, blank=True)
    failed = models.BooleanField(default=False)
    restored_at = models.DateTimeField(null=True, blank=True)

    class Meta(Event.Meta):
        constraints = event_constraints("deployment")
        indexes = event_indexes("deployment")


class Investment(Event):
    """An initiative's business case: what it costs up front and each month, what it should return."""

    name = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    upfront_cost = models.DecimalField(**MONEY)
    monthly_cost = models.DecimalField(**MONEY, default=0)
    expected_monthly_benefit = models.DecimalField(**MONEY, default=0)
    months = models.PositiveIntegerField(default=36)

    class Meta(Event.Meta):
        constraints = event_constraints("investment")
        indexes = event_indexes("investment")
