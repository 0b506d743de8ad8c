from django.db import migrations

from governance.rls import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("roi", "0003_events_and_rollups")]

    operations = [
        EnableTenantRLS(name)
        for name in (
            "incident",
            "automationrun",
            "performancesample",
            "deployment",
            "investment",
            "monthlyrollup",
            "performancemonth",
        )
    ]
