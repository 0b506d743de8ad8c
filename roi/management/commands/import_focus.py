from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.ledger import Actor
from governance.models import Tenant
from governance.tenancy import tenant_scope
from roi.csv_import import CsvFileRefused, CsvRowsInvalid
from roi.focus import DEFAULT_DEPARTMENT_TAG, DEFAULT_PRODUCT_TAG, MODES, REPLACE, FocusAlreadyImported, focus_import


class Command(BaseCommand):
    help = "Import a FinOps FOCUS 1.x CSV export: costs per month, service, department and product. Exit 1 on errors."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("file", type=Path)
        parser.add_argument("--department-tag", default=DEFAULT_DEPARTMENT_TAG, help="the tag naming the department")
        parser.add_argument("--product-tag", default=DEFAULT_PRODUCT_TAG, help="the tag naming the product")
        parser.add_argument(
            "--mode",
            choices=MODES,
            default=REPLACE,
            help="replace (default): replace earlier imports' costs of the same provider, billing account and "
            "billing period; add: add to them (a further part of one export)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["slug"]).first()
        if tenant is None:
            raise CommandError(f"No tenant {options['slug']!r}.")
        path: Path = options["file"]
        try:
            data = path.read_bytes()
            with tenant_scope(tenant):
                outcome = focus_import(
                    actor=Actor.system("import_focus"),
                    file_name=path.name,
                    data=data,
                    department_tag=options["department_tag"],
                    product_tag=options["product_tag"],
                    mode=options["mode"],
                )
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from None
        except (CsvFileRefused, CsvRowsInvalid) as refused:
            for message in refused.messages:
                self.stdout.write(message)
            raise CommandError(
                f"{path.name}: nothing imported ({len(refused.messages)} error(s))", returncode=1
            ) from None
        except FocusAlreadyImported as duplicate:
            raise CommandError(str(duplicate), returncode=1) from None
        summary = outcome.as_dict()
        self.stdout.write(
            f"{tenant.slug}: {summary['rows']} charge row(s) imported from {path.name} (import #{summary['id']})"
        )
        for month, cost in summary["months"].items():
            self.stdout.write(
                f"  {month}: billed {cost['billed_cost']}, effective {cost['effective_cost']} {summary['currency']}"
            )
        if summary["replaced_imports"]:
            replaced = ", ".join(f"#{pk}" for pk in summary["replaced_imports"])
            self.stdout.write(f"  replaced the costs of import(s) {replaced} for the same billing periods")
        for note in summary["notes"]:
            self.stdout.write(f"  note: {note}")
