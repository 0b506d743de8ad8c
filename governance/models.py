"""Who and what may be trusted: tenants and API keys (roles live in django-guardian)."""

from __future__ import annotations

import zoneinfo
from typing import ClassVar

from babel import Locale, UnknownLocaleError
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from governance.roles import KeyRole, Role, permission_codename
from governance.tenancy import HistoryGuardedQuerySet, TenantManager, TenantOwned


def validate_time_zone(value: str) -> None:
    # A validator, not choices: the list of zones depends on the machine's tzdata and
    # would otherwise leak into migrations.
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone name (e.g. Europe/Paris).")


def validate_locale(value: str) -> None:
    """A CLDR locale Babel knows (en_US, de_DE, fr_CH...): numbers are formatted with it."""
    try:
        Locale.parse(value)
    except (ValueError, TypeError, UnknownLocaleError):
        raise ValidationError(f"{value!r} is not a known locale (e.g. en_US, de_DE, fr_FR).") from None


def history_user(instance: models.Model, request: object = None, **kwargs: object) -> object:
    """The person behind a change; API-key callers are not users (their key is the actor)."""
    from django.contrib.auth import get_user_model

    user = getattr(request, "user", None)
    return user if isinstance(user, get_user_model()) else None


class Industry(models.TextChoices):
    # Keys of the benchmark tables the dashboard compares against.
    SAAS = "saas", "Software / SaaS"
    ECOMMERCE = "ecommerce", "E-commerce and retail"
    FINANCIAL_SERVICES = "financial_services", "Financial services"
    HEALTHCARE = "healthcare", "Healthcare"
    MANUFACTURING = "manufacturing", "Manufacturing"
    MEDIA = "media", "Media and telecoms"
    PUBLIC_SECTOR = "public_sector", "Public sector"
    OTHER = "other", "Other"


class CompanySize(models.TextChoices):
    SMALL = "small", "Under 100 employees"
    MIDMARKET = "midmarket", "100 to 999 employees"
    ENTERPRISE = "enterprise", "1,000 to 9,999 employees"
    LARGE_ENTERPRISE = "large_enterprise", "10,000+ employees"


class BusinessModel(models.TextChoices):
    SUBSCRIPTION = "subscription", "Subscription"
    TRANSACTIONAL = "transactional", "Transactional"
    MARKETPLACE = "marketplace", "Marketplace"
    ADVERTISING = "advertising", "Advertising"
    HYBRID = "hybrid", "Hybrid"


class AccountingStandard(models.TextChoices):
    US_GAAP = "us_gaap", "US GAAP"
    IFRS = "ifrs", "IFRS"
    OTHER = "other", "Other"


class ReportingFrequency(models.TextChoices):
    # The shortest period reported automatically; longer ones are always made too.
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    ANNUAL = "annual", "Annual"


# Deployment environments counted as production when the deploying tool does not say (or
# says false only because the name is not "production", GitHub's default); compared
# case-insensitively, as GitHub compares environment names.
DEFAULT_PRODUCTION_ENVIRONMENTS = ("production", "prod", "live")


def default_production_environments() -> list[str]:
    return list(DEFAULT_PRODUCTION_ENVIRONMENTS)


class Tenant(models.Model):
    """A customer organisation and its business context; every tenant-owned row points here."""

    slug = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=200)
    currency = models.CharField(
        max_length=3,
        default="USD",
        validators=[RegexValidator(r"^[A-Z]{3}$", "An ISO 4217 code: three capital letters.")],
    )
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # How pages, PDFs and spreadsheets write numbers: separators, symbol position (CLDR).
    locale = models.CharField(max_length=16, default="en_US", validators=[validate_locale])
    industry = models.CharField(max_length=32, choices=Industry.choices, default=Industry.SAAS)
    company_size = models.CharField(max_length=32, choices=CompanySize.choices, default=CompanySize.MIDMARKET)
    business_model = models.CharField(max_length=32, choices=BusinessModel.choices, default=BusinessModel.SUBSCRIPTION)
    customer_segments = models.JSONField(default=list, blank=True, help_text='e.g. ["enterprise", "smb"]')
    accounting_standard = models.CharField(
        max_length=16, choices=AccountingStandard.choices, default=AccountingStandard.US_GAAP
    )
    reporting_frequency = models.CharField(
        max_length=16, choices=ReportingFrequency.choices, default=ReportingFrequency.MONTHLY
    )
    # Segregation of duties (SOX): a model or KPI change takes effect only once a second
    # finance admin approves it. Off only for a tenant with a single approver (see
    # governance.services.tenant_dual_approval_set); the audit page says which.
    require_dual_approval = models.BooleanField(
        default=True,
        help_text="A financial model or KPI change needs a second finance admin's approval.",
    )
    # Only production deployments count toward the DORA keys (see roi.webhooks.payloads).
    production_environments = models.JSONField(
        default=default_production_environments,
        blank=True,
        help_text="Deployment environment names that are production (any letter case).",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        permissions = [(permission_codename(role.value), f"Role: {role.label}") for role in Role]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"


class ApiKeyQuerySet(HistoryGuardedQuerySet):
    def active(self) -> ApiKeyQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).exclude(expires_at__lte=now)


# Named at module level so that mypy's Django plugin sees each manager class and its queryset methods.
ApiKeyManager = TenantManager.from_queryset(ApiKeyQuerySet)
AllTenantsApiKeyManager = models.Manager.from_queryset(ApiKeyQuerySet)


class ApiKey(TenantOwned):
    """An integration's credential: one tenant, one role, stored only as a SHA-256 hash.

    Keys are 256-bit random tokens, so a fast hash is enough (there is nothing to
    brute-force); the prefix is kept in clear so people can tell keys apart.
    """

    name = models.CharField(max_length=100)
    role = models.CharField(max_length=20, choices=KeyRole.choices)
    prefix = models.CharField(max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A key made by a key: the chain back to the person who answers for it. Segregation of
    # duties compares people, so a key minted by a key (at any depth) is that person's.
    created_by_key = models.ForeignKey(
        "self", null=True, blank=True, editable=False, on_delete=models.PROTECT, related_name="+"
    )
    root_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The person at the root of the key's chain of creation; none for a key made by the system.",
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[ApiKeyManager[ApiKey]] = ApiKeyManager()
    all_tenants: ClassVar[AllTenantsApiKeyManager[ApiKey]] = AllTenantsApiKeyManager()
    history = HistoricalRecords(excluded_fields=["key_hash"], get_user=history_user)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…, {self.role})"

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()


GENESIS_HASH = "0" * 64


class HashedJSONField(models.JSONField):
    """JSON kept as the text it was written in: PostgreSQL's `json` type, not `jsonb`.

    A ledger record's JSON is written whole, read whole and never queried into, so there
    is nothing for jsonb's binary form to speed up, and building it was most of the cost
    of writing a batch record (several hundred kB: about 3 ms as `json`, 6 to 11 as
    `jsonb`). As `json`, a record written since holds exactly the canonical text that was
    hashed. Other databases store it as any JSONField.
    """

    # Django asks each field for its column type per connection: this is its own hook for
    # a per-database type, so the vendor check stays here rather than in governance.stores.
    def db_type(self, connection):  # type: ignore[no-untyped-def]
        return "json" if connection.vendor == "postgresql" else super().db_type(connection)

    def from_db_value(self, value, expression, connection):  # type: ignore[no-untyped-def]
        if value is None or not isinstance(value, str):
            return value  # psycopg decodes `json` itself (Django hands it only jsonb as text)
        return super().from_db_value(value, expression, connection)


class LedgerRecord(TenantOwned):
    """One calculation, append-only and hash-chained per tenant (SOX).

    `hash = sha256(previous_hash ‖ canonical JSON of the record)`; the database refuses
    UPDATE and DELETE on this table (a trigger, see the migration), and verification
    recomputes every record from its stored inputs and figures.
    """

    sequence = models.PositiveBigIntegerField()
    method = models.CharField(max_length=64)
    method_version = models.PositiveIntegerField()
    model_version = models.PositiveIntegerField(null=True, blank=True)
    kpi_version = models.PositiveIntegerField(null=True, blank=True)
    inputs = HashedJSONField()
    figures = HashedJSONField()
    result = HashedJSONField()
    currency = models.CharField(max_length=3)
    actor = models.CharField(max_length=200)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["tenant", "sequence"]
        constraints = [
            # A second record claiming the same place in the chain is refused, so
            # concurrent writers can never fork it.
            models.UniqueConstraint(fields=["tenant", "sequence"], name="ledger_unique_sequence"),
            models.UniqueConstraint(fields=["tenant", "previous_hash"], name="ledger_unique_parent"),
        ]
        indexes = [
            models.Index(fields=["tenant", "method", "created_at"]),
            models.Index(fields=["tenant", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.method} v{self.method_version} ({self.hash[:12]})"


class IntegrationTool(models.TextChoices):
    PAGERDUTY = "pagerduty", "PagerDuty"
    GITHUB = "github", "GitHub"


class IntegrationSecret(TenantOwned):
    """A tenant's webhook signing secret for one tool, encrypted at rest (governance.secrets).

    Only the ciphertext and the id of the key that made it are stored, so a database dump
    alone reveals no secret and key rotation knows which rows still need re-encrypting.
    """

    tool = models.CharField(max_length=20, choices=IntegrationTool.choices)
    ciphertext = models.TextField(editable=False)
    key_id = models.CharField(max_length=32, editable=False)
    set_at = models.DateTimeField(default=timezone.now)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_by_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["tenant", "tool"]
        constraints = [models.UniqueConstraint(fields=["tenant", "tool"], name="integration_secret_unique_tool")]

    def __str__(self) -> str:
        return f"{self.get_tool_display()} secret (set {self.set_at:%Y-%m-%d})"


class AuditKind(models.TextChoices):
    LOGIN = "login", "Login"
    LOGIN_FAILED = "login_failed", "Failed login"
    ROLE_CHANGED = "role_changed", "Role changed"
    KEY_CREATED = "key_created", "API key created"
    KEY_REVOKED = "key_revoked", "API key revoked"
    SECRET_CHANGED = "secret_changed", "Secret changed"
    EXPORT = "export", "Export"
    LEDGER_VERIFIED = "ledger_verified", "Ledger verified"
    PERIOD_CLOSED = "period_closed", "Period closed"
    CHANGE_PROPOSED = "change_proposed", "Model change proposed"
    CHANGE_APPROVED = "change_approved", "Model change approved"
    CHANGE_REJECTED = "change_rejected", "Model change rejected or withdrawn"
    DUAL_APPROVAL_CHANGED = "dual_approval_changed", "Dual approval switched"
    BUSINESS_CONTEXT_CHANGED = "business_context_changed", "Business context changed"
    PRODUCTION_ENVIRONMENTS_CHANGED = "production_environments_changed", "Production environments changed"


class AuditEvent(TenantOwned):
    """One security event, append-only like the ledger (a trigger refuses UPDATE and DELETE).

    `tenant` is empty for platform events (a failed login naming no known user): RLS shows
    such rows only inside `all_tenants_scope`, so no tenant's auditor sees another's.
    """

    # Nullable where TenantOwned's is not (platform events): a deliberate narrowing mypy cannot accept.
    tenant = models.ForeignKey(  # type: ignore[assignment]
        "governance.Tenant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=32, choices=AuditKind.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    # A label, not a foreign key: the trail must outlive the user or key it names.
    actor = models.CharField(max_length=200)
    detail = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "occurred_at"]),
            models.Index(fields=["tenant", "kind", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.actor} at {self.occurred_at:%Y-%m-%d %H:%M}"


class ClosedPeriod(TenantOwned):
    """A month a finance admin closed: its events and valuations can no longer change (SOX).

    Late corrections are sent as new events dated in an open month, so they show there.
    """

    month = models.DateField(help_text="First day of the closed month, in the tenant's time zone.")
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_by_actor = models.CharField(max_length=200)
    closed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["tenant", "-month"]
        constraints = [models.UniqueConstraint(fields=["tenant", "month"], name="closed_period_unique_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} closed"


class IdempotencyRecord(TenantOwned):
    """The stored answer to an unsafe API request sent with an `Idempotency-Key` (24 hours).

    A retry with the same key and body, by the same principal, gets this answer again
    instead of writing twice. Never a secret: a new API key's raw value is removed before
    the answer is stored (`secret_withheld`), and such a retry is told so instead.
    """

    key = models.CharField(max_length=255)
    # Who sent it ("user:<id>" or "key:<id>"): another principal's retry is a request of its own.
    principal = models.CharField(max_length=64, default="")
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True)
    secret_withheld = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "principal", "key"], name="idempotency_unique_principal_key")
        ]
        indexes = [models.Index(fields=["tenant", "created_at"])]

    def __str__(self) -> str:
        return f"{self.key} → {self.status}"
