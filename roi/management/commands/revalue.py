from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_date

from governance.ledger import Actor
from governance.models import Tenant
from governance.tenancy import tenant_scope
from roi.revaluation import events_revalue


class Command(BaseCommand):
    help = (
        "Re-value a tenant's events from DATE on under the financial model versions in force at their "
        "times now; new ledger records, rollups moved by the differences."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--since", required=True, help="YYYY-MM-DD, in the tenant's time zone")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["slug"]).first()
        if tenant is None:
            raise CommandError(f"No tenant {options['slug']!r}.")
        day = parse_date(options["since"])
        if day is None:
            raise CommandError(f"--since {options['since']!r} is not a date (YYYY-MM-DD).")
        since = datetime.combine(day, time.min, tzinfo=ZoneInfo(tenant.time_zone))
        with tenant_scope(tenant):
            report = events_revalue(actor=Actor.system("revalue"), since=since)
        records = ", ".join(f"#{pk}" for pk in report.ledger_record_ids) or "none"
        self.stdout.write(
            f"{tenant.slug}: {report.examined} events since {day} examined, {report.revalued} revalued, "
            f"{report.changed_value} changed value; {report.performance_months_revalued} performance months "
            f"revalued, {report.performance_months_changed_value} changed value; new ledger records: {records}"
        )
