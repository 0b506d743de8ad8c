"""Row-level security that the application's role cannot switch off.

Every tenant table's policies (history tables included, every app's: this is the app that
comes after governance and roi) are recreated without the `app.all_tenants` clause, which
any session of the application's role could set. Cross-tenant work connects as the platform
role (BYPASSRLS), which this migration grants data access to, creating it where it is missing.
"""

from django.db import migrations

from governance.rls import grant_platform_role, policies_with_all_tenants_setting, policies_without_all_tenants_setting


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0003_alert_roi_decline_and_rule_escalations"),
        ("governance", "0014_idempotency_per_principal_no_secrets"),  # its data steps run under the old policies
        ("roi", "0012_event_foreign_keys_unconstrained"),
    ]

    operations = [
        migrations.RunPython(policies_without_all_tenants_setting, policies_with_all_tenants_setting, elidable=False),
        migrations.RunPython(grant_platform_role, migrations.RunPython.noop, elidable=False),
    ]
