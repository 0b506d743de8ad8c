"""Roles and what each may do.

Member roles are django-guardian object permissions on the tenant (`governance.role_<name>`);
API keys carry one role, or `ingest`, which may only send events.
"""

from django.db import models


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    ANALYST = "analyst", "Analyst"
    FINANCE_ADMIN = "finance_admin", "Finance admin"
    TENANT_ADMIN = "tenant_admin", "Tenant admin"
    AUDITOR = "auditor", "Auditor"


class KeyRole(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    ANALYST = "analyst", "Analyst"
    FINANCE_ADMIN = "finance_admin", "Finance admin"
    TENANT_ADMIN = "tenant_admin", "Tenant admin"
    AUDITOR = "auditor", "Auditor"
    INGEST = "ingest", "Ingest (send events only)"


# Each role includes the ones before it; auditor stands apart (reads everything, writes nothing).
_LADDER = [Role.VIEWER, Role.ANALYST, Role.FINANCE_ADMIN, Role.TENANT_ADMIN]


def at_least(role: Role) -> frozenset[str]:
    """The roles that include `role`."""
    return frozenset(r.value for r in _LADDER[_LADDER.index(role) :])


READ = at_least(Role.VIEWER) | {Role.AUDITOR.value}
RECORD_EVENTS = at_least(Role.ANALYST) | {KeyRole.INGEST.value}
CALCULATE = at_least(Role.ANALYST)
READ_LEDGER = at_least(Role.ANALYST) | {Role.AUDITOR.value}
MANAGE_MODEL = at_least(Role.FINANCE_ADMIN)
MANAGE_TENANT = at_least(Role.TENANT_ADMIN)
AUDIT = frozenset({Role.AUDITOR.value})


def permission_codename(role: str) -> str:
    return f"role_{role}"


def role_from_codename(codename: str) -> str | None:
    prefix = "role_"
    if codename.startswith(prefix) and codename[len(prefix) :] in Role.values:
        return codename[len(prefix) :]
    return None
