from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.models import AccountingStandard, BusinessModel, CompanySize, Industry, ReportingFrequency
from governance.services import tenant_create

# Business context options: (option, field, choices); left out, the model's default holds.
CONTEXT_OPTIONS = (
    ("--industry", "industry", Industry),
    ("--company-size", "company_size", CompanySize),
    ("--business-model", "business_model", BusinessModel),
    ("--accounting-standard", "accounting_standard", AccountingStandard),
    ("--reporting-frequency", "reporting_frequency", ReportingFrequency),
)


class Command(BaseCommand):
    help = (
        "Create a tenant: create_tenant SLUG --name NAME [--currency USD] [--fiscal-year-start 1] [--single-approver]"
        " [--industry saas] [--company-size midmarket] [--business-model subscription]"
        " [--customer-segment enterprise --customer-segment mid-market]"
        " [--accounting-standard us_gaap] [--reporting-frequency monthly]"
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
        for option, field, choices in CONTEXT_OPTIONS:
            parser.add_argument(
                option,
                dest=field,
                choices=choices.values,
                help=f"{', '.join(f'{value} ({label})' for value, label in choices.choices)}",
            )
        parser.add_argument(
            "--customer-segment",
            dest="customer_segments",
            action="append",
            metavar="LABEL",
            help="a segment of the tenant's customers, e.g. enterprise; repeat for each (none by default)",
        )
        parser.add_argument(
            "--production-environment",
            dest="production_environments",
            action="append",
            metavar="NAME",
            help="a deployment environment counted as production for the DORA keys, letter case ignored; "
            "repeat for each (default: production, prod, live)",
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
                **{field: options[field] for _, field, _ in CONTEXT_OPTIONS if options.get(field) is not None},
                customer_segments=options["customer_segments"] or [],
                production_environments=options["production_environments"],
            )
        except ValidationError as error:
            messages = "; ".join(f"{field}: {' '.join(errs)}" for field, errs in error.message_dict.items())
            raise CommandError(messages) from None
        summary = [
            tenant.name,
            tenant.currency,
            tenant.get_industry_display(),
            tenant.get_accounting_standard_display(),
            f"reports {tenant.get_reporting_frequency_display().lower()}",
        ]
        if tenant.customer_segments:
            summary.append(f"customer segments: {', '.join(tenant.customer_segments)}")
        summary.append(f"production environments: {', '.join(tenant.production_environments) or 'none named'}")
        self.stdout.write(f"Created tenant {tenant.slug} ({', '.join(summary)})")
