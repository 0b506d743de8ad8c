"""Lead time and time to restore in the monthly rollups, so the DORA benchmarks read rollups.

Four columns on the deployments' cells (sums of seconds and how many deployments each sum
is over), then a data step that fills them for every tenant's existing cells from its
deployments, grouped by the tenant's local month as ingestion groups them. Self-contained
(historical models only), so later changes to roi.rollups do not change what it did.
"""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import migrations, models
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncMonth


def _seconds(delta: timedelta | None) -> Decimal:
    if delta is None:
        return Decimal(0)
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds).scaleb(-6)


def fill_dora_timing(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL app.all_tenants = 'on'")  # RLS: the owner fills every tenant's cells
    Tenant = apps.get_model("governance", "Tenant")
    Deployment = apps.get_model("roi", "Deployment")
    MonthlyRollup = apps.get_model("roi", "MonthlyRollup")
    for tenant in Tenant.objects.all():
        zone = ZoneInfo(tenant.time_zone)
        rows = (
            Deployment.objects.filter(tenant=tenant)
            .annotate(cell_month=TruncMonth("occurred_at", tzinfo=zone))
            .values("cell_month", "department", "product")
            .annotate(
                lead=Sum(
                    ExpressionWrapper(F("deployed_at") - F("committed_at"), output_field=DurationField()),
                    filter=Q(committed_at__isnull=False),
                ),
                leads=Count("id", filter=Q(committed_at__isnull=False)),
                restore=Sum(
                    ExpressionWrapper(F("restored_at") - F("deployed_at"), output_field=DurationField()),
                    filter=Q(failed=True, restored_at__isnull=False),
                ),
                restores=Count("id", filter=Q(failed=True, restored_at__isnull=False)),
            )
            .order_by()
        )
        for row in rows:
            if not (row["leads"] or row["restores"]):
                continue
            month = row["cell_month"]
            MonthlyRollup.objects.filter(
                tenant=tenant,
                month=month.date() if hasattr(month, "date") else month,
                stream="deployments",
                department=row["department"],
                product=row["product"],
            ).update(
                lead_time_seconds_sum=_seconds(row["lead"]),
                lead_time_count=row["leads"],
                restore_seconds_sum=_seconds(row["restore"]),
                restore_count=row["restores"],
            )


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0010_ledger_json_text"),
        ("roi", "0009_it_budget"),
    ]

    operations = [
        migrations.AddField(
            model_name="monthlyrollup",
            name="lead_time_count",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="monthlyrollup",
            name="lead_time_seconds_sum",
            field=models.DecimalField(decimal_places=6, default=0, max_digits=24),
        ),
        migrations.AddField(
            model_name="monthlyrollup",
            name="restore_count",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="monthlyrollup",
            name="restore_seconds_sum",
            field=models.DecimalField(decimal_places=6, default=0, max_digits=24),
        ),
        migrations.RunPython(fill_dora_timing, migrations.RunPython.noop, elidable=False),
    ]
