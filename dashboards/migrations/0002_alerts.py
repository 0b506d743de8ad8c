"""Alerts (one unresolved per rule and period) and per-tenant escalation settings, with history and RLS."""

import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.db import migrations, models

from governance.append_only import AppendOnly
from governance.rls import EnableTenantRLS

class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0001_reports"),
        ("governance", "0006_sox_controls"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="HistoricalAlert",
            fields=[
                ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                (
                    "rule",
                    models.CharField(
                        choices=[
                            ("value_below_target", "Monthly value below target"),
                            ("roi_below_target", "ROI below target"),
                            ("prevention_below_target", "Incident prevention below target"),
                            ("incident_surge", "Incident surge"),
                        ],
                        max_length=32,
                    ),
                ),
                (
                    "period",
                    models.CharField(
                        help_text="2026-10 (month), FY2026 (fiscal year) or 2026-W47 (ISO week).", max_length=16
                    ),
                ),
                (
                    "escalation",
                    models.CharField(
                        choices=[
                            ("notify_cfo", "Notify the CFO"),
                            ("board_review", "Board review"),
                            ("executive_alert", "Executive alert"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[("open", "Open"), ("acknowledged", "Acknowledged"), ("resolved", "Resolved")],
                        default="open",
                        max_length=16,
                    ),
                ),
                ("unit", models.CharField(help_text="money, percent or count", max_length=8)),
                ("measured", models.DecimalField(decimal_places=4, max_digits=24)),
                ("threshold", models.DecimalField(decimal_places=4, max_digits=24)),
                ("message", models.CharField(max_length=300)),
                ("detail", models.JSONField(blank=True, default=dict)),
                ("opened_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("acknowledged_at", models.DateTimeField(blank=True, null=True)),
                ("acknowledged_by_actor", models.CharField(blank=True, max_length=200)),
                ("resolved_at", models.DateTimeField(blank=True, null=True)),
                ("resolved_by_actor", models.CharField(blank=True, max_length=200)),
                ("emailed_at", models.DateTimeField(blank=True, null=True)),
                ("email_attempts", models.PositiveSmallIntegerField(default=0)),
                ("webhook_delivered_at", models.DateTimeField(blank=True, null=True)),
                ("webhook_attempts", models.PositiveSmallIntegerField(default=0)),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1),
                ),
                (
                    "acknowledged_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "resolved_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "tenant",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="governance.tenant",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical alert",
                "verbose_name_plural": "historical alerts",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="HistoricalEscalationSettings",
            fields=[
                ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                ("recipients", models.JSONField(blank=True, default=dict)),
                ("webhook_url", models.URLField(blank=True, max_length=500)),
                ("webhook_secret_key_id", models.CharField(blank=True, editable=False, max_length=32)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_by_actor", models.CharField(blank=True, max_length=200)),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "tenant",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="governance.tenant",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical escalation settings",
                "verbose_name_plural": "historical escalation settings",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="Alert",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "rule",
                    models.CharField(
                        choices=[
                            ("value_below_target", "Monthly value below target"),
                            ("roi_below_target", "ROI below target"),
                            ("prevention_below_target", "Incident prevention below target"),
                            ("incident_surge", "Incident surge"),
                        ],
                        max_length=32,
                    ),
                ),
                (
                    "period",
                    models.CharField(
                        help_text="2026-10 (month), FY2026 (fiscal year) or 2026-W47 (ISO week).", max_length=16
                    ),
                ),
                (
                    "escalation",
                    models.CharField(
                        choices=[
                            ("notify_cfo", "Notify the CFO"),
                            ("board_review", "Board review"),
                            ("executive_alert", "Executive alert"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[("open", "Open"), ("acknowledged", "Acknowledged"), ("resolved", "Resolved")],
                        default="open",
                        max_length=16,
                    ),
                ),
                ("unit", models.CharField(help_text="money, percent or count", max_length=8)),
                ("measured", models.DecimalField(decimal_places=4, max_digits=24)),
                ("threshold", models.DecimalField(decimal_places=4, max_digits=24)),
                ("message", models.CharField(max_length=300)),
                ("detail", models.JSONField(blank=True, default=dict)),
                ("opened_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("acknowledged_at", models.DateTimeField(blank=True, null=True)),
                ("acknowledged_by_actor", models.CharField(blank=True, max_length=200)),
                ("resolved_at", models.DateTimeField(blank=True, null=True)),
                ("resolved_by_actor", models.CharField(blank=True, max_length=200)),
                ("emailed_at", models.DateTimeField(blank=True, null=True)),
                ("email_attempts", models.PositiveSmallIntegerField(default=0)),
                ("webhook_delivered_at", models.DateTimeField(blank=True, null=True)),
                ("webhook_attempts", models.PositiveSmallIntegerField(default=0)),
                (
                    "acknowledged_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "resolved_by",
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
                "ordering": ["-opened_at", "-pk"],
                "indexes": [
                    models.Index(fields=["tenant", "status", "opened_at"], name="dashboards__tenant__e14a94_idx")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "resolved"), _negated=True),
                        fields=("tenant", "rule", "period"),
                        name="alert_one_unresolved_per_rule_period",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="EscalationSettings",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("recipients", models.JSONField(blank=True, default=dict)),
                ("webhook_url", models.URLField(blank=True, max_length=500)),
                ("webhook_secret_ciphertext", models.TextField(blank=True, editable=False)),
                ("webhook_secret_key_id", models.CharField(blank=True, editable=False, max_length=32)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_by_actor", models.CharField(blank=True, max_length=200)),
                (
                    "tenant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="governance.tenant"
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "escalation settings",
                "constraints": [models.UniqueConstraint(fields=("tenant",), name="one_escalation_settings_per_tenant")],
            },
        ),
        EnableTenantRLS("alert"),
        EnableTenantRLS("historicalalert"),
        EnableTenantRLS("escalationsettings"),
        EnableTenantRLS("historicalescalationsettings"),
        # Alert and escalation history is audit evidence: append-only like the other histories.
        AppendOnly(["dashboards_historicalalert", "dashboards_historicalescalationsettings"]),
    ]
