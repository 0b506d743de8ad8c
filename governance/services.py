"""Writes for tenants, members and API keys. The only code that changes them."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, get_perms, remove_perm

from governance.audit import audit_record
from governance.models import ApiKey, AuditKind, Tenant, default_production_environments
from governance.roles import KeyRole, Role, permission_codename, role_from_codename
from governance.tenancy import current_tenant

API_KEY_PREFIX = "bv"


def api_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def tenant_create(
    *,
    slug: str,
    name: str,
    currency: str = "USD",
    fiscal_year_start_month: int = 1,
    time_zone: str = "UTC",
    locale: str = "en_US",
    require_dual_approval: bool = True,
    production_environments: list[str] | None = None,
    **business_context: object,
) -> Tenant:
    """Create a tenant after full validation, so a command and admin refuse the same things.

    A new tenant has no members yet, so it may start without dual approval; the first
    switch afterwards goes through `tenant_dual_approval_set`. `business_context` takes the
    fields of `BUSINESS_CONTEXT_FIELDS` (industry, company size...); omitted ones keep their defaults.
    `production_environments`: the deployment environments counted as production
    (`production_environments_clean`); by default production, prod and live.
    """
    unknown = set(business_context) - set(BUSINESS_CONTEXT_FIELDS)
    if unknown:
        raise ValidationError({name: ["Not a business context field."] for name in sorted(unknown)})
    if "customer_segments" in business_context:
        business_context["customer_segments"] = customer_segments_clean(segments=business_context["customer_segments"])
    tenant = Tenant(
        **business_context,
        slug=slug,
        name=name,
        currency=currency.upper(),
        fiscal_year_start_month=fiscal_year_start_month,
        time_zone=time_zone,
        locale=locale,
        require_dual_approval=require_dual_approval,
        production_environments=production_environments_clean(
            names=default_production_environments() if production_environments is None else production_environments
        ),
    )
    tenant.full_clean()
    tenant.save()
    return tenant


# What a tenant says about its business: shown beside benchmarks (industry, size, model,
# customer segments), on reports' provenance (accounting standard), and deciding which
# periodic reports are made automatically (reporting frequency).
BUSINESS_CONTEXT_FIELDS = (
    "industry",
    "company_size",
    "business_model",
    "customer_segments",
    "accounting_standard",
    "reporting_frequency",
)

# Segments are free labels a tenant names its customers by, so they are bounded here
# rather than by choices: few enough to show in a sentence, short enough to read there.
MAX_CUSTOMER_SEGMENTS = 20
MAX_CUSTOMER_SEGMENT_LENGTH = 50


def customer_segments_clean(*, segments: object) -> list[str]:
    """The tenant's customer segments as stored: a list of distinct, non-blank labels, whitespace stripped.

    The one check for the API, the command and the admin alike. Labels that differ only in case
    are refused as repeats, since "Enterprise" and "enterprise" would name one segment twice;
    an empty list clears them. Errors name `customer_segments` and the index of each bad label.
    """
    if not isinstance(segments, list | tuple):
        raise ValidationError({"customer_segments": ['Must be a list of labels, e.g. ["enterprise", "mid-market"].']})
    if len(segments) > MAX_CUSTOMER_SEGMENTS:
        raise ValidationError(
            {"customer_segments": [f"At most {MAX_CUSTOMER_SEGMENTS} labels; {len(segments)} were given."]}
        )
    labels: list[str] = []
    problems: list[str] = []
    first_seen: dict[str, int] = {}
    for index, segment in enumerate(segments):
        if not isinstance(segment, str):
            problems.append(f"Item {index} is not text.")
            continue
        label = segment.strip()
        if not label:
            problems.append(f"Item {index} is blank.")
        elif len(label) > MAX_CUSTOMER_SEGMENT_LENGTH:
            problems.append(f"Item {index} is longer than {MAX_CUSTOMER_SEGMENT_LENGTH} characters.")
        elif "," in label:  # the admin edits the list as one comma-separated line
            problems.append(f"Item {index} contains a comma; give each segment as a label of its own.")
        elif label.casefold() in first_seen:
            problems.append(f"Item {index} repeats item {first_seen[label.casefold()]} (case is ignored).")
        else:
            first_seen[label.casefold()] = index
        labels.append(label)
    if problems:
        raise ValidationError({"customer_segments": problems})
    return labels


def tenant_business_context_set(*, tenant: Tenant, actor: str, changes: Mapping[str, object]) -> Tenant:
    """Change a tenant's business context; validated (each field's choices, `customer_segments_clean`) and audited.

    The audit event names every field that moved, from and to, as the dual-approval switch
    is recorded; a change to the same values records nothing.
    """
    unknown = set(changes) - set(BUSINESS_CONTEXT_FIELDS)
    if unknown:
        raise ValidationError({name: ["Not a business context field."] for name in sorted(unknown)})
    if "customer_segments" in changes:
        changes = {**changes, "customer_segments": customer_segments_clean(segments=changes["customer_segments"])}
    moved = {name: value for name, value in changes.items() if getattr(tenant, name) != value}
    if not moved:
        return tenant
    before = {name: getattr(tenant, name) for name in moved}
    for name, value in moved.items():
        setattr(tenant, name, value)
    try:
        tenant.full_clean(exclude=[field.name for field in Tenant._meta.fields if field.name not in moved])
    except ValidationError:
        for name, value in before.items():
            setattr(tenant, name, value)
        raise
    with transaction.atomic():
        tenant.save(update_fields=list(moved))
        audit_record(
            kind=AuditKind.BUSINESS_CONTEXT_CHANGED,
            actor=actor,
            tenant=tenant,
            detail={"changes": {name: {"from": before[name], "to": moved[name]} for name in moved}},
        )
    return tenant


# GitHub allows environment names of up to 255 characters.
MAX_ENVIRONMENT_NAME = 255
MAX_PRODUCTION_ENVIRONMENTS = 50


def production_environments_clean(*, names: object) -> list[str]:
    """The deployment environment names to count as production, checked: trimmed and kept once
    whatever their letter case (matching ignores case). Errors name `production_environments.N`,
    N counting the given names from 0."""
    field = "production_environments"
    if not isinstance(names, list):
        raise ValidationError({field: ['Must be a list of environment names, e.g. ["production", "prod-eu"].']})
    kept: dict[str, str] = {}
    for index, name in enumerate(names):
        if not isinstance(name, str) or not name.strip():
            raise ValidationError({f"{field}.{index}": ["Must be a non-empty environment name."]})
        if len(name.strip()) > MAX_ENVIRONMENT_NAME:
            raise ValidationError({f"{field}.{index}": [f"At most {MAX_ENVIRONMENT_NAME} characters."]})
        kept.setdefault(name.strip().casefold(), name.strip())
    if len(kept) > MAX_PRODUCTION_ENVIRONMENTS:
        raise ValidationError({field: [f"At most {MAX_PRODUCTION_ENVIRONMENTS} names."]})
    return list(kept.values())


def tenant_production_environments_set(*, tenant: Tenant, actor: str, names: list[str]) -> Tenant:
    """Set which deployment environment names count as production for the DORA keys; audited.

    Names as `production_environments_clean` keeps them; an empty list leaves only the
    deploying tool's own production flag. Deployments already received are not re-read:
    the list applies to deliveries from now on.
    """
    field = "production_environments"
    chosen = production_environments_clean(names=names)
    if chosen == tenant.production_environments:
        return tenant
    before = tenant.production_environments
    with transaction.atomic():
        tenant.production_environments = chosen
        tenant.save(update_fields=[field])
        audit_record(
            kind=AuditKind.PRODUCTION_ENVIRONMENTS_CHANGED,
            actor=actor,
            tenant=tenant,
            detail={"from": before, "to": chosen},
        )
    return tenant


def tenant_dual_approval_set(*, tenant: Tenant, enabled: bool, actor: str) -> Tenant:
    """Switch segregation of duties for model and KPI changes on or off; audited.

    Off is refused while the tenant has two or more members who may approve: with one,
    nobody could ever approve a change, so that tenant may run without it (and the audit
    page says so). On is always allowed.
    """
    from governance.selectors import model_approvers

    if enabled == tenant.require_dual_approval:
        return tenant
    approvers = model_approvers(tenant=tenant)
    if not enabled and len(approvers) > 1:
        names = ", ".join(user.get_username() for user in approvers)
        raise ValidationError(
            {
                "require_dual_approval": [
                    f"Cannot be turned off: {len(approvers)} members can approve model changes ({names}). "
                    "Only a tenant with a single finance admin may run without a second approver."
                ]
            }
        )
    with transaction.atomic():
        tenant.require_dual_approval = enabled
        tenant.save(update_fields=["require_dual_approval"])
        audit_record(
            kind=AuditKind.DUAL_APPROVAL_CHANGED,
            actor=actor,
            tenant=tenant,
            detail={"require_dual_approval": enabled, "approvers": [user.get_username() for user in approvers]},
        )
    return tenant


def last_tenant_admin_refuse(*, tenant: Tenant, user: User, field: str) -> None:
    """Refuse (naming `field`) a change that would take away `tenant`'s last active tenant admin.

    Without one, nobody in the tenant could manage its members or keys again. Called before
    `user` loses the role, is removed, deactivated or deleted, by every route (API, admin).
    """
    from governance.selectors import tenant_admins

    if tenant_admins(tenant=tenant) == [user]:
        raise ValidationError(
            {
                field: [
                    f"{user.get_username()} is the last tenant admin of {tenant.slug}: "
                    "make another member tenant admin first."
                ]
            }
        )


def membership_set_role(
    *, tenant: Tenant, user: User, role: str | None, actor: str = "system", field: str = "role"
) -> None:
    """Give `user` exactly one role on `tenant` (None removes them from it); audited.

    Refused when it would leave the tenant without an active tenant admin (`field` names
    the input the refusal is about). The tenant row is locked first, so two admins demoting
    each other at once cannot both succeed.
    """
    if role is not None and role not in Role.values:
        raise ValidationError({"role": [f"Unknown role {role!r}; choose one of {', '.join(Role.values)}."]})
    with transaction.atomic():
        Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
        if role != Role.TENANT_ADMIN.value:
            last_tenant_admin_refuse(tenant=tenant, user=user, field=field)
        previous = sorted(filter(None, (role_from_codename(codename) for codename in get_perms(user, tenant))))
        for codename in get_perms(user, tenant):
            held = role_from_codename(codename)
            if held is not None and held != role:
                remove_perm(f"governance.{codename}", user, tenant)
        if role is not None:
            assign_perm(f"governance.{permission_codename(role)}", user, tenant)
        if previous != ([role] if role else []):
            audit_record(
                kind=AuditKind.ROLE_CHANGED,
                actor=actor,
                tenant=tenant,
                detail={"user": user.get_username(), "from": previous, "to": role},
            )


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    raw_key: str  # shown once, never stored


def api_key_create(
    *,
    name: str,
    role: str,
    created_by: User | None = None,
    created_by_key: ApiKey | None = None,
    expires_at: datetime | None = None,
    actor: str = "system",
) -> IssuedKey:
    """Issue a key for the tenant in scope; the raw key is returned once and only hashed at rest.

    The key records who made it, a person or a key, and the person at the root of that
    chain (`root_user`): segregation of duties compares people, so a key minted by a key
    answers to the human behind the first one. The audit event names the real maker:
    the person, or the key and the person behind it; `actor` labels a maker that is
    neither (a command, the demo setup).
    """
    if role not in KeyRole.values:
        raise ValidationError({"role": [f"Unknown role {role!r}; choose one of {', '.join(KeyRole.values)}."]})
    if not name.strip():
        raise ValidationError({"name": ["A key needs a name saying what uses it."]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["Must be in the future."]})
    if created_by is not None and created_by_key is not None:
        raise ValueError("A key is made by a person or by a key, not both.")
    tenant = current_tenant()
    if created_by_key is not None and created_by_key.tenant_id != tenant.pk:
        raise ValueError("A key can only make keys of its own tenant.")
    root_user = created_by if created_by_key is None else created_by_key.root_user
    prefix = secrets.token_hex(4)
    raw_key = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        tenant=tenant,
        name=name.strip(),
        role=role,
        prefix=prefix,
        key_hash=api_key_hash(raw_key),
        created_by=created_by,
        created_by_key=created_by_key,
        root_user=root_user,
        expires_at=expires_at,
    )
    detail: dict[str, object] = {"key": api_key.prefix, "name": api_key.name, "role": role}
    if created_by is not None:
        actor = f"user:{created_by.get_username()}"
    elif created_by_key is not None:
        actor = f"api-key:{created_by_key.prefix}:{created_by_key.name}"
        detail["created_by_key"] = created_by_key.prefix
    detail["on_behalf_of"] = None if root_user is None else f"user:{root_user.get_username()}"
    audit_record(kind=AuditKind.KEY_CREATED, actor=actor, detail=detail)
    return IssuedKey(api_key=api_key, raw_key=raw_key)


def api_key_revoke(*, api_key: ApiKey, actor: str = "system") -> ApiKey:
    """Revoke a key of the tenant in scope; revoking twice keeps the first time."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_record(kind=AuditKind.KEY_REVOKED, actor=actor, detail={"key": api_key.prefix, "name": api_key.name})
    return api_key


def api_keys_revoke_expired() -> int:
    """Mark the scope's expired keys revoked, so the key list tells the truth at a glance."""
    now = timezone.now()
    count = 0
    # One save per key (not QuerySet.update) so each revocation lands in the key's history.
    for api_key in ApiKey.objects.filter(revoked_at__isnull=True, expires_at__lte=now):
        api_key.revoked_at = now
        api_key.save(update_fields=["revoked_at"])
        audit_record(
            kind=AuditKind.KEY_REVOKED, actor="system:expiry", detail={"key": api_key.prefix, "name": api_key.name}
        )
        count += 1
    return count
