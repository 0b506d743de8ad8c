"""Reads of the financial model, KPIs and ledger, always for the tenant in scope."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from governance.models import LedgerRecord
from governance.tenancy import current_tenant
from roi.models import BusinessKpis, FinancialModel


def financial_model_current() -> FinancialModel | None:
    return FinancialModel.objects.select_related("changed_by", "changed_by_key", "approved_proposal").first()


def business_kpis_current() -> BusinessKpis | None:
    return BusinessKpis.objects.select_related("changed_by", "changed_by_key", "approved_proposal").first()


def financial_model_versions() -> QuerySet[Any]:
    """Every version of the scope tenant's model, newest first (history rows)."""
    # History managers are not tenant-scoped managers, so the tenant is named here.
    return FinancialModel.history.filter(tenant=current_tenant()).order_by("-version", "-history_id")


def business_kpis_versions() -> QuerySet[Any]:
    return BusinessKpis.history.filter(tenant=current_tenant()).order_by("-version", "-history_id")


def financial_model_version(version: int) -> Any | None:
    return financial_model_versions().filter(version=version).first()


def business_kpis_version(version: int) -> Any | None:
    return business_kpis_versions().filter(version=version).first()


def financial_model_at(moment: datetime) -> Any | None:
    """The version effective at `moment`: the latest effective by then, else the first."""
    versions = financial_model_versions()
    return (
        versions.filter(effective_from__lte=moment).order_by("-effective_from", "-version").first()
        or versions.order_by("version").first()
    )


def ledger_records(
    *, method: str | None = None, actor: str | None = None, since: date | None = None, until: date | None = None
) -> QuerySet[LedgerRecord]:
    """Ledger records of the scope tenant, newest first, filtered as asked."""
    records = LedgerRecord.objects.order_by("-sequence")
    if method:
        records = records.filter(method=method)
    if actor:
        records = records.filter(actor__icontains=actor)
    # Whole days as a half-open range on the column itself (not `created_at__date`), so the
    # (tenant, created_at) index serves a date-filtered export of millions of records.
    if since:
        records = records.filter(created_at__gte=_start_of_day(since))
    if until and until < date.max:  # the last possible day leaves nothing out
        records = records.filter(created_at__lt=_start_of_day(until + timedelta(days=1)))
    return records


def _start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day))


VALUE_STREAMS = ("incident_prevention", "automation", "performance")


def business_impact(*, start: date, end: date) -> dict[str, Decimal]:
    """Value by stream and downtime cost over whole months [start, end], read from rollups."""
    from django.db.models import Sum

    from roi.models import MonthlyRollup

    sums = dict(
        MonthlyRollup.objects.filter(month__gte=start, month__lte=end)
        .values("stream")
        .annotate(total=Sum("value"))
        .values_list("stream", "total")
    )
    impact = {stream: Decimal(sums.get(stream) or 0) for stream in (*VALUE_STREAMS, "downtime")}
    return impact


def flatten_into(prefix: str, value: Any, into: dict[str, Any]) -> None:
    """Write `value`'s leaves into `into` under dotted paths from `prefix` (long lists as a count)."""
    if isinstance(value, dict):
        for key, item in value.items():
            flatten_into(f"{prefix}.{key}" if prefix else str(key), item, into)
    elif isinstance(value, list) and len(value) > 20:
        into[prefix] = f"[{len(value)} values]"
    else:
        into[prefix] = value


def config_history(versions: QuerySet[Any], sections: tuple[str, ...]) -> list[dict[str, Any]]:
    """Each version (newest first) with who, when, why and a field-by-field diff from the one before."""
    rows = list(versions.select_related("changed_by", "changed_by_key", "approved_proposal"))
    history = []
    for index, version in enumerate(rows):
        current: dict[str, Any] = {}
        for section in sections:
            flatten_into(section, getattr(version, section), current)
        previous: dict[str, Any] = {}
        if index + 1 < len(rows):
            for section in sections:
                flatten_into(section, getattr(rows[index + 1], section), previous)
        changes = [
            {"field": name, "old": previous.get(name), "new": current.get(name)}
            for name in sorted(set(current) | set(previous))
            if current.get(name) != previous.get(name)
        ]
        who = version.changed_by or (f"api-key:{version.changed_by_key.prefix}" if version.changed_by_key else None)
        history.append(
            {
                "version": version.version,
                "effective_from": version.effective_from,
                "changed_at": version.changed_at,
                "changed_by": str(who) if who else "system",
                "change_reason": version.change_reason,
                # A version from an approved proposal: `changed_by` approved what this person proposed.
                "proposal": version.approved_proposal,
                "changes": changes,
            }
        )
    return history


MODEL_SECTIONS = ("revenue_model", "cost_model", "impact_model", "severity_responders", "revenue_profile")
KPI_SECTIONS = ("kpis", "alerts", "attribution_rules")
