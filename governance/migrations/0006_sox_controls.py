"""SOX controls: the audit log, and history and audit tables that refuse UPDATE and DELETE.

django-simple-history writes history from Python, so raw SQL could otherwise rewrite or
erase it; the same trigger pattern as the ledger (0004) closes that gap.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from governance.append_only import REFUSE_FUNCTION_SQL, AppendOnly
from governance.rls import EnableTenantRLS

APPEND_ONLY_TABLES = (
    "governance_historicalapikey",
    "roi_historicalfinancialmodel",
    "roi_historicalbusinesskpis",
    "governance_auditevent",
)


def refuse_function(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REFUSE_FUNCTION_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0005_integration_secrets"),
        ("roi", "0005_costs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("login", "Login"),
                            ("login_failed", "Failed login"),
                            ("role_changed", "Role changed"),
                            ("key_created", "API key created"),
                            ("key_revoked", "API key revoked"),
                            ("secret_changed", "Secret changed"),
                            ("export", "Export"),
                            ("ledger_verified", "Ledger verified"),
                            ("period_closed", "Period closed"),
                        ],
                        max_length=32,
                    ),
                ),
                ("occurred_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("actor", models.CharField(max_length=200)),
                ("detail", models.JSONField(blank=True, default=dict)),
                ("ip_address", models.GenericIPAddressField(blank=True, null=True)),
                (
                    "tenant",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="governance.tenant",
                    ),
                ),
            ],
            options={
                "ordering": ["-occurred_at", "-id"],
                "indexes": [
                    models.Index(fields=["tenant", "occurred_at"], name="governance__tenant__96092a_idx"),
                    models.Index(fields=["tenant", "kind", "occurred_at"], name="governance__tenant__54b922_idx"),
                ],
            },
        ),
        EnableTenantRLS("auditevent"),
        migrations.CreateModel(
            name="ClosedPeriod",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.DateField(help_text="First day of the closed month, in the tenant's time zone.")),
                ("closed_by_actor", models.CharField(max_length=200)),
                ("closed_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "closed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "tenant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="governance.tenant"
                    ),
                ),
            ],
            options={
                "ordering": ["tenant", "-month"],
                "constraints": [models.UniqueConstraint(fields=("tenant", "month"), name="closed_period_unique_month")],
            },
        ),
        EnableTenantRLS("closedperiod"),
        migrations.CreateModel(
            name="IdempotencyRecord",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=255)),
                ("request_hash", models.CharField(max_length=64)),
                ("status", models.PositiveSmallIntegerField()),
                ("response_body", models.JSONField(null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "tenant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="governance.tenant"
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["tenant", "created_at"], name="governance__tenant__fbe08b_idx")],
                "constraints": [models.UniqueConstraint(fields=("tenant", "key"), name="idempotency_unique_key")],
            },
        ),
        EnableTenantRLS("idempotencyrecord"),
        migrations.RunPython(refuse_function, migrations.RunPython.noop),
        AppendOnly(APPEND_ONLY_TABLES),
    ]
