from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.models import Tenant
from governance.tenancy import tenant_scope
from roi.rollups import rollups_rebuild


class Command(BaseCommand):
    help = "Recompute monthly rollups from raw events and replace them, per tenant; report the cells that changed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", nargs="?", help="one tenant (default: every tenant)")

    def handle(self, *args: Any, **options: Any) -> None:
        tenants = Tenant.objects.order_by("slug")
        if options["slug"]:
            tenants = tenants.filter(slug=options["slug"])
            if not tenants.exists():
                raise CommandError(f"No tenant {options['slug']!r}.")
        for tenant in tenants:
            with tenant_scope(tenant):
                rebuilt = rollups_rebuild()
            self.stdout.write(
                f"{tenant.slug}: {rebuilt.cells_changed} cells changed ({rebuilt.cells_before} rows before, "
                f"{rebuilt.cells_after} after); {rebuilt.performance_months_changed} performance months' sums fixed"
            )
