from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboards.models import ReportKind
from dashboards.reports import ReportRefused, report_make
from governance.ledger import Actor
from governance.models import Tenant
from governance.tenancy import tenant_scope


class Command(BaseCommand):
    help = "Generate (or find) one tenant's report for a closed period and e-mail it to subscribers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--kind", choices=ReportKind.values, default=ReportKind.MONTHLY)
        parser.add_argument("--period", required=True, help="2026-10, 2026-Q3 or FY2026 (fiscal calendar)")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["slug"]).first()
        if tenant is None:
            raise CommandError(f"No tenant {options['slug']!r}.")
        try:
            with tenant_scope(tenant):
                generated = report_make(
                    actor=Actor.system("make_report"), kind=options["kind"], period=options["period"]
                )
        except ReportRefused as error:
            raise CommandError(str(error)) from None
        report = generated.report
        state = "created" if generated.created else "already existed"
        self.stdout.write(f"{tenant.slug}: report {report.pk} {report.kind} {report.period} {state}")
        self.stdout.write(f"chain head #{report.chain_head_sequence} {report.chain_head_hash or '-'}")
        for name in ("pdf", "xlsx", "csv"):
            self.stdout.write(f"{name}: {report.file_for(name).path}")
