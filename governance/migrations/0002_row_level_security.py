"""Row-level security on the tenant tables, and the application role's grants (PostgreSQL only)."""

from django.db import migrations

from governance.auth import RLS_KEY_HASH_SETTING
from governance.rls import EnableTenantRLS, grant_application_role


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_initial")]

    operations = [
        # Before the tenant is known, a request may see the one key whose hash it presents.
        EnableTenantRLS("apikey", extra_read_condition=f"key_hash = current_setting('{RLS_KEY_HASH_SETTING}', true)"),
        EnableTenantRLS("historicalapikey"),
        migrations.RunPython(grant_application_role, migrations.RunPython.noop, elidable=False),
    ]
