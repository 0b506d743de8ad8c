"""Change proposals (segregation of duties): the table, its history, RLS on both, and the
history table append-only at the database like the other audited histories (governance 0006).
"""

import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.db import migrations, models

from governance.append_only import AppendOnly
from governance.rls import EnableTenantRLS

class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0007_dual_approval"),
        ("roi", "0005_costs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ChangeProposal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "target",
                    models.CharField(
                        choices=[
                            ("financial_model", "Financial model"),
                            ("business_kpis", "Business KPIs"),
                            ("revenue_model", "Revenue model"),
                        ],
                        max_length=32,
                    ),
                ),
                ("payload", models.JSONField()),
                ("effective_from", models.DateTimeField(blank=True, null=True)),
                ("change_reason", models.TextField()),
                ("base_version", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("approved", "Approved"),
                            ("rejected", "Rejected"),
                            ("withdrawn", "Withdrawn"),
                            ("superseded", "Superseded"),
                        ],
                        default="pending",
                        max_length=16,
                    ),
                ),
                ("proposed_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("proposed_by_label", models.CharField(max_length=200)),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                ("decided_by_label", models.CharField(blank=True, max_length=200)),
                ("decision_note", models.TextField(blank=True)),
                ("applied_version", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "decided_by_key",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="governance.apikey",
                    ),
                ),
                (
                    "proposed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "proposed_by_key",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="governance.apikey",
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
                "ordering": ["-proposed_at", "-id"],
            },
        ),
        migrations.AddField(
            model_name="businesskpis",
            name="approved_proposal",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="roi.changeproposal",
            ),
        ),
        migrations.AddField(
            model_name="financialmodel",
            name="approved_proposal",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="roi.changeproposal",
            ),
        ),
        migrations.AddField(
            model_name="historicalbusinesskpis",
            name="approved_proposal",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="roi.changeproposal",
            ),
        ),
        migrations.AddField(
            model_name="historicalfinancialmodel",
            name="approved_proposal",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="roi.changeproposal",
            ),
        ),
        migrations.CreateModel(
            name="HistoricalChangeProposal",
            fields=[
                ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                (
                    "target",
                    models.CharField(
                        choices=[
                            ("financial_model", "Financial model"),
                            ("business_kpis", "Business KPIs"),
                            ("revenue_model", "Revenue model"),
                        ],
                        max_length=32,
                    ),
                ),
                ("payload", models.JSONField()),
                ("effective_from", models.DateTimeField(blank=True, null=True)),
                ("change_reason", models.TextField()),
                ("base_version", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("approved", "Approved"),
                            ("rejected", "Rejected"),
                            ("withdrawn", "Withdrawn"),
                            ("superseded", "Superseded"),
                        ],
                        default="pending",
                        max_length=16,
                    ),
                ),
                ("proposed_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("proposed_by_label", models.CharField(max_length=200)),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                ("decided_by_label", models.CharField(blank=True, max_length=200)),
                ("decision_note", models.TextField(blank=True)),
                ("applied_version", models.PositiveIntegerField(blank=True, null=True)),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1),
                ),
                (
                    "decided_by",
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
                    "decided_by_key",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="governance.apikey",
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
                    "proposed_by",
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
                    "proposed_by_key",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="governance.apikey",
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
                "verbose_name": "historical change proposal",
                "verbose_name_plural": "historical change proposals",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.AddIndex(
            model_name="changeproposal",
            index=models.Index(fields=["tenant", "status", "proposed_at"], name="roi_changep_tenant__d21f9a_idx"),
        ),
        EnableTenantRLS("changeproposal"),
        EnableTenantRLS("historicalchangeproposal"),
        AppendOnly(["roi_historicalchangeproposal"]),
    ]
