"""Event tables without two indexes: the single-column tenant one and the ledger-record one.

Every other index and the unique (tenant, external_id) key lead with the tenant, and
nothing looks events up by their ledger record (records are never deleted), while every
insert pays for each index a table has. The foreign keys stay.
"""

import django.db.models.deletion
from django.db import migrations, models

EVENT_MODELS = ("automationrun", "deployment", "incident", "investment", "performancesample")


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0009_ledger_lz4"),
        ("roi", "0006_change_proposals"),
    ]

    operations = [
        operation
        for model in EVENT_MODELS
        for operation in (
            migrations.AlterField(
                model_name=model,
                name="ledger_record",
                field=models.ForeignKey(
                    blank=True,
                    db_index=False,
                    null=True,
                    on_delete=django.db.models.deletion.PROTECT,
                    related_name="+",
                    to="governance.ledgerrecord",
                ),
            ),
            migrations.AlterField(
                model_name=model,
                name="tenant",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.PROTECT,
                    related_name="+",
                    to="governance.tenant",
                ),
            ),
        )
    ]
