from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.ledger import Actor
from governance.models import Tenant
from governance.tenancy import tenant_scope
from roi.csv_import import CsvFileRefused, CsvRowsInvalid, csv_text, events_import_csv
from roi.ingestion import KINDS


class Command(BaseCommand):
    help = "Import a CSV file of events of one kind (header row = field names); all rows or none. Exit 1 on errors."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("kind", choices=sorted(KINDS))
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["slug"]).first()
        if tenant is None:
            raise CommandError(f"No tenant {options['slug']!r}.")
        path: Path = options["file"]
        try:
            text = csv_text(path.read_bytes())
            with tenant_scope(tenant):
                outcome = events_import_csv(actor=Actor.system("import_events"), kind=options["kind"], text=text)
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from None
        except (CsvFileRefused, CsvRowsInvalid) as refused:
            for message in refused.messages:
                self.stdout.write(message)
            raise CommandError(
                f"{path.name}: nothing imported ({len(refused.messages)} error(s))", returncode=1
            ) from None
        self.stdout.write(
            f"{tenant.slug}: {outcome.rows} {outcome.kind} row(s) imported: {outcome.created} new, "
            f"{outcome.updated} updated, {outcome.valued} valued ({outcome.total_value:.2f} {tenant.currency})"
        )
        for note in outcome.notes:
            self.stdout.write(note)
