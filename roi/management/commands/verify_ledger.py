from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.models import Tenant
from governance.tenancy import tenant_scope
from roi.ledger_verification import ledger_verify


class Command(BaseCommand):
    help = "Recompute every ledger record and check each tenant's chain; exit 1 on any failure."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", nargs="?", help="one tenant (default: every tenant)")
        parser.add_argument(
            "--full",
            action="store_true",
            help="recompute every record, not only those after the last verified, anchored head "
            "(every record is rehashed either way)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenants = Tenant.objects.order_by("slug")
        if options["slug"]:
            tenants = tenants.filter(slug=options["slug"])
            if not tenants.exists():
                raise CommandError(f"No tenant {options['slug']!r}.")
        failed = 0
        for tenant in tenants:
            with tenant_scope(tenant):
                verification = ledger_verify(actor="command:verify_ledger", full=options["full"])
            head = f"head #{verification.head_sequence} {verification.head_hash or '-'}"
            if verification.verified_from:
                head += f", records after #{verification.verified_from} recomputed (--full for all)"
            if verification.ok:
                self.stdout.write(f"{tenant.slug}: OK, {verification.checked} records, {head}")
                continue
            failed += 1
            self.stdout.write(f"{tenant.slug}: FAILED, {verification.checked} records, {head}")
            for failure in verification.as_dict()["failures"]:
                for reason in failure["reasons"]:
                    if failure["row"] is not None:
                        self.stdout.write(f"  {failure['row']}: {reason}")
                        continue
                    where = f"record {failure['id']} " if failure["id"] is not None else ""
                    place = "not in the chain" if failure["sequence"] is None else f"#{failure['sequence']}"
                    self.stdout.write(f"  {where}({place}): {reason}")
        if failed:
            raise CommandError(f"{failed} tenant ledger(s) failed verification", returncode=1)
