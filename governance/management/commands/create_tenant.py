from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.services import tenant_create


class Command(BaseCommand):
    help = (
        "Create a tenant: create_tenant SLUG --name NAME [--currency USD] [--fiscal-year-start 1] [--single-approver]"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--currency", default="USD", help="ISO 4217 code")
        parser.add_argument("--fiscal-year-start", type=int, default=1, help="month the fiscal year starts (1-12)")
        parser.add_argument("--time-zone", default="UTC")
        parser.add_argument("--locale", default="en_US", help="how numbers are written, e.g. en_US, de_DE")
        parser.add_argument(
            "--single-approver",
            action="store_true",
            help="start without dual approval of model changes (a tenant with one finance admin)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            tenant = tenant_create(
                slug=options["slug"],
                name=options["name"],
                currency=options["currency"],
                fiscal_year_start_month=options["fiscal_year_start"],
                time_zone=options["time_zone"],
                locale=options["locale"],
                require_dual_approval=not options["single_approver"],
            )
        except ValidationError as error:
            messages = "; ".join(f"{field}: {' '.join(errs)}" for field, errs in error.message_dict.items())
            raise CommandError(messages) from None
        self.stdout.write(f"Created tenant {tenant.slug} ({tenant.name}, {tenant.currency})")
