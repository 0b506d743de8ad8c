"""Who and what may be trusted: tenants and API keys (roles live in django-guardian)."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from governance.roles import KeyRole, Role, permission_codename
from governance.tenancy import TenantManager, TenantOwned


def validate_time_zone(value: str) -> None:
    # A validator, not choices: the list of zones depends on the machine's tzdata and
    # would otherwise leak into migrations.
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone name (e.g. Europe/Paris).")


def history_user(instance: models.Model, request: object = None, **kwargs: object) -> object:
    """The person behind a change; API-key callers are not users (their key is the actor)."""
    from django.contrib.auth import get_user_model

    user = getattr(request, "user", None)
    return user if isinstance(user, get_user_model()) else None


class Tenant(models.Model):
    """A customer organisation; every tenant-owned row points here."""

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
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        permissions = [(permission_codename(role.value), f"Role: {role.label}") for role in Role]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"


class ApiKeyQuerySet(models.QuerySet):
    def active(self) -> ApiKeyQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).exclude(expires_at__lte=now)


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
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager.from_queryset(ApiKeyQuerySet)()
    all_tenants = models.Manager.from_queryset(ApiKeyQuerySet)()
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
