import secrets
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from governance.ledger import Actor
from governance.roles import Role
from governance.tenancy import tenant_scope
from roi.demo.events import DEMO_MONTHS
from roi.demo.seed import demo_data_seed, demo_tenant_ensure


class Command(BaseCommand):
    help = (
        "Create the demo tenant with one user per role and a platform admin, if missing, fill it once with "
        "a financial model, KPIs and two years of events; print the logins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--months", type=int, default=DEMO_MONTHS, help="months of demo events (default 24)")

    def handle(self, *args: Any, **options: Any) -> None:
        logins_file = settings.VAR_DIR / "demo-logins.txt"
        passwords = {role: secrets.token_urlsafe(12) for role in Role.values}
        tenant, created = demo_tenant_ensure(password_for=passwords)
        lines = [f"demo-{role.replace('_', '-')}  {passwords[role]}  ({role} of {tenant.slug})" for role in created]

        user_model = get_user_model()
        if not user_model.objects.filter(username="admin").exists():
            admin_password = secrets.token_urlsafe(12)
            user_model.objects.create_superuser("admin", "admin@example.invalid", admin_password)
            lines.append(f"admin  {admin_password}  (platform admin: /admin/)")

        started = time.monotonic()
        with tenant_scope(tenant):
            seeded = demo_data_seed(actor=Actor.system("seed_demo"), months=options["months"])
        if seeded is None:
            self.stdout.write(f"Demo data: {tenant.slug} already has events; left as it is.")
        else:
            counts = ", ".join(f"{count} {kind}" for kind, count in seeded.events.items())
            self.stdout.write(
                f"Demo data: {counts} from {seeded.span.start:%Y-%m-%d}, "
                f"{seeded.ledger_records} ledger records, in {time.monotonic() - started:.1f} s."
            )

        if lines:
            # Passwords are only ever hashed in the database; this file is the one place
            # the embedded demo keeps them, readable by the owner alone.
            with open(logins_file, "a", encoding="utf-8") as handle:
                handle.write("\n".join(lines) + "\n")
            logins_file.chmod(0o600)
        self.stdout.write("Demo logins (http://127.0.0.1:8000/):")
        self.stdout.write(logins_file.read_text(encoding="utf-8") if logins_file.exists() else "(none recorded)")
