"""Availability and conversion rate in the rollups, so service levels read rollups.

Sums and counts (over the samples that carry each field; a sample may omit either) on the
performance cells of the monthly rollups and on every service-month, then a data step that
fills them for every tenant's existing rows from its samples, grouped by the tenant's local
month as ingestion groups them. Self-contained (historical models only), so later changes
to roi.rollups do not change what it did.
"""

from zoneinfo import ZoneInfo

from django.db import migrations, models
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth


def _month(value):
    return value.date() if hasattr(value, "date") else value


def _sums(samples, zone, *labels):
    return (
        samples.annotate(cell_month=TruncMonth("occurred_at", tzinfo=zone))
        .values("cell_month", *labels)
        .annotate(
            availability=Sum("availability_percent"),
            availabilities=Count("availability_percent"),
            conversion=Sum("conversion_rate"),
            conversions=Count("conversion_rate"),
        )
        .order_by()
    )


def _columns(row):
    return {
        "availability_percent_sum": row["availability"] or 0,
        "availability_count": row["availabilities"],
        "conversion_rate_sum": row["conversion"] or 0,
        "conversion_rate_count": row["conversions"],
    }


def fill_availability_conversion(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL app.all_tenants = 'on'")  # RLS: the owner fills every tenant's rows
    Tenant = apps.get_model("governance", "Tenant")
    PerformanceSample = apps.get_model("roi", "PerformanceSample")
    MonthlyRollup = apps.get_model("roi", "MonthlyRollup")
    PerformanceMonth = apps.get_model("roi", "PerformanceMonth")
    for tenant in Tenant.objects.all():
        zone = ZoneInfo(tenant.time_zone)
        samples = PerformanceSample.objects.filter(tenant=tenant)
        for row in _sums(samples, zone, "department", "product"):
            if not (row["availabilities"] or row["conversions"]):
                continue
            MonthlyRollup.objects.filter(
                tenant=tenant,
                month=_month(row["cell_month"]),
                stream="performance",
                department=row["department"],
                product=row["product"],
            ).update(**_columns(row))
        # A service-month is keyed by service alone (its labels are the latest seen).
        for row in _sums(samples, zone, "service"):
            if not (row["availabilities"] or row["conversions"]):
                continue
            PerformanceMonth.objects.filter(
                tenant=tenant, service=row["service"], month=_month(row["cell_month"])
            ).update(**_columns(row))


class Migration(migrations.Migration):
    dependencies = [
        ("roi", "0010_monthlyrollup_dora_timing"),
    ]

    operations = [
        migrations.AddField(
            model_name="monthlyrollup",
            name="availability_count",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="monthlyrollup",
            name="availability_percent_sum",
            field=models.DecimalField(decimal_places=6, default=0, max_digits=24),
        ),
        migrations.AddField(
            model_name="monthlyrollup",
            name="conversion_rate_count",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="monthlyrollup",
            name="conversion_rate_sum",
            field=models.DecimalField(decimal_places=6, default=0, max_digits=24),
        ),
        migrations.AddField(
            model_name="performancemonth",
            name="availability_count",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="performancemonth",
            name="availability_percent_sum",
            field=models.DecimalField(decimal_places=6, default=0, max_digits=24),
        ),
        migrations.AddField(
            model_name="performancemonth",
            name="conversion_rate_count",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="performancemonth",
            name="conversion_rate_sum",
            field=models.DecimalField(decimal_places=6, default=0, max_digits=24),
        ),
        migrations.RunPython(fill_availability_conversion, migrations.RunPython.noop, elidable=False),
    ]
