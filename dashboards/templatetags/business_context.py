"""The tenant's business context where a page, report or e-mail renders in its scope."""

from __future__ import annotations

from django import template

from governance.tenancy import current_tenant_or_none

register = template.Library()


@register.simple_tag
def accounting_standard() -> str:
    """The accounting standard the tenant reports under (US GAAP, IFRS...), named on reports' provenance."""
    tenant = current_tenant_or_none()
    return "" if tenant is None else tenant.get_accounting_standard_display()
