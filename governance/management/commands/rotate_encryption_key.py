from typing import Any

from django.core.management.base import BaseCommand, CommandError

from governance.models import Tenant
from governance.secrets import OTHER_REENCRYPTIONS, current_key_id, integration_secrets_reencrypt
from governance.tenancy import tenant_scope


class Command(BaseCommand):
    help = (
        "Re-encrypt every integration secret with the current key (the first of FIELD_ENCRYPTION_KEYS). "
        "Run it after putting a new key first; then the old key may be removed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        key_id = current_key_id()
        total, failures = 0, []
        # One tenant scope at a time, so row-level security applies as it does to requests.
        for tenant in Tenant.objects.order_by("slug"):
            for reencrypt in (integration_secrets_reencrypt, *OTHER_REENCRYPTIONS):
                with tenant_scope(tenant):
                    done = reencrypt()
                total += done.count
                failures += [f"{tenant.slug} {failure}" for failure in done.failures]
        self.stdout.write(f"Re-encrypted {total} secret(s) with key {key_id!r}.")
        if failures:
            raise CommandError("Could not re-encrypt:\n" + "\n".join(failures))
