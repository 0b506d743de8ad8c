from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.models import Tenant
from governance.roles import KeyRole
from governance.services import api_key_create
from governance.tenancy import tenant_scope


class Command(BaseCommand):
    help = "Create an API key for a tenant; the key is printed once, on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--role", required=True, choices=KeyRole.values)
        parser.add_argument("--name", default="", help="what uses the key (default: the role)")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["slug"]).first()
        if tenant is None:
            raise CommandError(f"No tenant {options['slug']!r}.")
        try:
            with tenant_scope(tenant):
                issued = api_key_create(
                    name=options["name"] or f"{options['role']} key",
                    role=options["role"],
                    actor="system:create_api_key",
                )
        except ValidationError as error:
            raise CommandError(str(error.message_dict)) from None
        self.stderr.write(
            f"Key {issued.api_key.prefix} ({issued.api_key.role}), {tenant.slug}: store it now, it is not shown again."
        )
        self.stdout.write(issued.raw_key)
