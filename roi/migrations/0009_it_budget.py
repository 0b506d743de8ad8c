"""The IT budget per fiscal year: the table, its history, RLS on both, and the history
table append-only at the database like the other audited histories (governance 0006).
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
        ('governance', '0010_ledger_json_text'),
        ('roi', '0008_costmonth_billing_scope'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='HistoricalItBudget',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('version', models.PositiveIntegerField(default=1)),
                ('effective_from', models.DateTimeField(default=django.utils.timezone.now)),
                ('change_reason', models.TextField()),
                ('changed_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('fiscal_year', models.PositiveSmallIntegerField(help_text='The calendar year the fiscal year starts in.')),
                ('annual_amount', models.DecimalField(decimal_places=2, help_text="Spread evenly over the fiscal year's twelve months.", max_digits=20)),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('approved_proposal', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='roi.changeproposal')),
                ('changed_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('changed_by_key', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='governance.apikey')),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('tenant', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='governance.tenant')),
            ],
            options={
                'verbose_name': 'historical IT budget',
                'verbose_name_plural': 'historical IT budgets',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='ItBudget',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version', models.PositiveIntegerField(default=1)),
                ('effective_from', models.DateTimeField(default=django.utils.timezone.now)),
                ('change_reason', models.TextField()),
                ('changed_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('fiscal_year', models.PositiveSmallIntegerField(help_text='The calendar year the fiscal year starts in.')),
                ('annual_amount', models.DecimalField(decimal_places=2, help_text="Spread evenly over the fiscal year's twelve months.", max_digits=20)),
                ('approved_proposal', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='roi.changeproposal')),
                ('changed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('changed_by_key', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='governance.apikey')),
                ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='governance.tenant')),
            ],
            options={
                'verbose_name': 'IT budget',
                'ordering': ['-fiscal_year'],
                'constraints': [models.UniqueConstraint(fields=('tenant', 'fiscal_year'), name='one_it_budget_per_fiscal_year')],
            },
        ),
        EnableTenantRLS("itbudget"),
        EnableTenantRLS("historicalitbudget"),
        AppendOnly(["roi_historicalitbudget"]),
    ]
