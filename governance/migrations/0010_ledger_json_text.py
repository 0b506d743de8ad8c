"""Ledger JSON columns as `json` (the text as written) instead of `jsonb`, on PostgreSQL.

See `HashedJSONField`. Changing a column's type resets its compression, so LZ4 is set
again after the change (both ways), as 0009 set it. Existing records keep their content (jsonb's own text
of it); they verify as before, since verification hashes the parsed values.
"""

import importlib

from django.db import migrations

import governance.models

lz4 = importlib.import_module("governance.migrations.0009_ledger_lz4")


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0009_ledger_lz4"),
    ]

    operations = [
        # Undone last: back on jsonb, the columns get LZ4 again, as 0009 left them.
        migrations.RunPython(migrations.RunPython.noop, lz4.forward, elidable=False),
        *(
            migrations.AlterField(model_name="ledgerrecord", name=name, field=governance.models.HashedJSONField())
            for name in ("figures", "inputs", "result")
        ),
        migrations.RunPython(lz4.forward, migrations.RunPython.noop, elidable=False),
    ]
