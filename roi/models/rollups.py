"""Monthly rollups: what dashboards read instead of raw events."""

from __future__ import annotations

from django.db import models

from governance.tenancy import TenantOwned
from roi.models.events import MONEY, QUANTITY


class Stream(models.TextChoices):
    INCIDENT_PREVENTION = "incident_prevention", "Incident prevention"
    AUTOMATION = "automation", "Automation"
    PERFORMANCE = "performance", "Performance"
    DOWNTIME = "downtime", "Downtime cost"  # real incidents: a cost shown beside value
    DEPLOYMENTS = "deployments", "Deployments"
    INVESTMENT = "investment", "Investment"


class MonthlyRollup(TenantOwned):
    """One cell per tenant, month, stream, department and product, kept current by ingestion.

    `value` is money counted in the stream; the other columns are the operational totals
    the dashboards show beside it. Performance keeps sums so means stay exact, and so do
    deployments: lead time (deployed_at - committed_at, over deployments that have a commit
    time) and time to restore (restored_at - deployed_at, over failed deployments that were
    restored) as sums of seconds beside how many deployments each sum is over.
    """

    month = models.DateField()
    stream = models.CharField(max_length=32, choices=Stream.choices)
    department = models.CharField(max_length=100, default="")
    product = models.CharField(max_length=100, default="")
    value = models.DecimalField(**MONEY, default=0)
    event_count = models.BigIntegerField(default=0)
    downtime_minutes = models.DecimalField(**QUANTITY, default=0)
    hours_saved = models.DecimalField(**QUANTITY, default=0)
    response_time_ms_sum = models.DecimalField(**QUANTITY, default=0)
    failures = models.BigIntegerField(default=0)
    lead_time_seconds_sum = models.DecimalField(**QUANTITY, default=0)
    lead_time_count = models.BigIntegerField(default=0)
    restore_seconds_sum = models.DecimalField(**QUANTITY, default=0)
    restore_count = models.BigIntegerField(default=0)
    # Performance samples may omit availability or conversion: each sum is over the samples
    # that carry the field, beside how many they are, so monthly means stay exact.
    availability_percent_sum = models.DecimalField(**QUANTITY, default=0)
    availability_count = models.BigIntegerField(default=0)
    conversion_rate_sum = models.DecimalField(**QUANTITY, default=0)
    conversion_rate_count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "month", "stream", "department", "product"], name="rollup_unique_cell"
            )
        ]
        indexes = [models.Index(fields=["tenant", "stream", "month"], name="rollup_tenant_stream_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.stream} {self.department}/{self.product}"


# PerformanceMonth's sums and counts, from which its means are derived (labels and value apart).
PERFORMANCE_SUM_COLUMNS = (
    "samples",
    "response_time_ms_sum",
    "availability_percent_sum",
    "availability_count",
    "conversion_rate_sum",
    "conversion_rate_count",
)


class PerformanceMonth(TenantOwned):
    """One service's month: its mean response time, availability and conversion rate, and the
    performance value it is worth.

    Means are kept as sums beside counts: response time over every sample (`samples`),
    availability and conversion rate over the samples that carry them.

    Valued with `performance_impact` on the improvement against the baseline (the KPI, or
    the service's first month); the ledger record and item prove the figure.
    """

    service = models.CharField(max_length=200)
    month = models.DateField()
    department = models.CharField(max_length=100, default="")
    product = models.CharField(max_length=100, default="")
    samples = models.BigIntegerField(default=0)
    response_time_ms_sum = models.DecimalField(**QUANTITY, default=0)
    availability_percent_sum = models.DecimalField(**QUANTITY, default=0)
    availability_count = models.BigIntegerField(default=0)
    conversion_rate_sum = models.DecimalField(**QUANTITY, default=0)
    conversion_rate_count = models.BigIntegerField(default=0)
    value = models.DecimalField(**MONEY, null=True, blank=True)
    ledger_record = models.ForeignKey(
        "governance.LedgerRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ledger_item = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "service", "month"], name="perfmonth_unique")]

    def __str__(self) -> str:
        return f"{self.service} {self.month:%Y-%m}"
