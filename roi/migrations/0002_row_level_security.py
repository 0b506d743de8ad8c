from django.db import migrations

from governance.rls import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("roi", "0001_initial")]

    operations = [
        EnableTenantRLS(name)
        for name in ("financialmodel", "historicalfinancialmodel", "businesskpis", "historicalbusinesskpis")
    ]
