"""Row-level security a session cannot point at another tenant: the tenant setting carries a proof.

`app.tenant_id` becomes "<id>:<HMAC>" (governance.rls.tenant_token), and every tenant table's
policies (every app's: this app's migrations come after governance's and roi's) compare
`tenant_id` with `bizvalue_rls_tenant_id()`, which returns the id only when the proof verifies
against DATABASE_RLS_KEY, kept in a schema only the owner reads. Reversible: going back
restores the bare-id policies and drops the function, the key's table and its schema.
"""

from django.db import migrations

from governance.rls import install_tenant_proof, uninstall_tenant_proof


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0004_rls_policies_without_all_tenants_setting"),
    ]

    operations = [
        migrations.RunPython(install_tenant_proof, uninstall_tenant_proof, elidable=False),
    ]
