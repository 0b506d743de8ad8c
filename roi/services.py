"""Writes on the money side: model and KPI versions and calculations (ledger verification is
`roi.ledger_verification`).

Every function works on the tenant in scope. Validation is the engine's own (one set of
rules for the API, pages and commands); engine errors are renamed to the caller's paths.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from governance.ledger import Actor, canonical_numbers, ledger_append
from governance.models import LedgerRecord
from governance.tenancy import current_tenant
from roi import selectors
from roi.engine import METHODS, EngineInputError, FinancialFigures
from roi.figures import (
    assumptions_flat,
    kpi_sections,
    kpis_flat,
    model_flat,
    model_groups,
    nest_errors,
    stored_flat,
    stored_kpi_sections,
    stored_model_groups,
)
from roi.models import BusinessKpis, ChangeProposal, FinancialModel, VersionedConfig

# KPIs are validated together with the model they will be used with; before a tenant has
# a model, this stands in for its revenue so the KPI rules can still run.
PLACEHOLDER_REVENUE = {"revenue_model": {"annual_recurring_revenue": "0"}}


# What `change_reason_require` accepts, for the API schema: some text besides blanks.
CHANGE_REASON_SCHEMA = {"type": "string", "pattern": r"\S", "description": "Why the figures change."}


def change_reason_require(change_reason: str) -> None:
    """Refuse a configuration change without a reason: every version says why it was made (SOX)."""
    if not isinstance(change_reason, str) or not change_reason.strip():
        raise EngineInputError("change_reason", "is required: say why the figures change")


UNKNOWN_INPUT = "is not an input of this method"  # roi.engine.inputs, for a name it does not know
UNKNOWN_ASSUMPTION = "is not a financial model or KPI field"


def _figures(flat: Mapping[str, Any], *, assumption_names: Mapping[str, str] | None = None) -> FinancialFigures:
    """Validated figures; errors named by the path the caller used (assumptions.X for what-ifs).

    `assumption_names` maps each figure set by a what-if to the name the caller gave it.
    """
    written = assumption_names or {}
    try:
        return FinancialFigures.from_mapping(flat)
    except EngineInputError as error:
        errors: dict[str, list[str]] = {}
        for name, messages in error.errors.items():
            head, dot, rest = name.partition(".")
            sent = written[name] if name in written else written[head] + dot + rest if head in written else None
            if sent is not None:
                named = [UNKNOWN_ASSUMPTION if m == UNKNOWN_INPUT else m for m in messages]
                errors.setdefault(f"assumptions.{sent}", []).extend(named)
            else:
                for path, renamed in nest_errors({name: messages}).items():
                    errors.setdefault(path, []).extend(renamed)
        raise EngineInputError(errors=errors) from None


def config_version_save(
    config: VersionedConfig,
    *,
    actor: Actor,
    change_reason: str,
    effective_from: datetime | None,
    proposal: ChangeProposal | None = None,
) -> None:
    """Save `config` as its next version, stamped with who, when, why and the proposal it came from."""
    now = timezone.now()
    config.version = 1 if config.pk is None else config.version + 1
    config.effective_from = effective_from or now
    config.change_reason = change_reason.strip()
    config.changed_at = now
    config.changed_by = actor.user
    config.changed_by_key = actor.api_key
    config.approved_proposal = proposal
    config._change_reason = config.change_reason  # type: ignore[attr-defined]  # simple-history's "why"
    config.save()


def financial_model_validated(*, current: FinancialModel | None, groups: Mapping[str, Any]) -> dict[str, Any]:
    """The stored groups `groups` would give on top of `current`; EngineInputError names each bad field.

    Shared by a direct change and a proposal, so a proposal is refused exactly when a
    change would be.
    """
    merged: dict[str, Any] = {} if current is None else stored_model_groups(current)
    merged.update(groups)
    kpis = selectors.business_kpis_current()
    flat = {"time_zone": current_tenant().time_zone, **model_flat(merged)}
    if kpis is not None:
        flat.update(kpis_flat(stored_kpi_sections(kpis))[0])
    return model_groups(_figures(flat))


def business_kpis_validated(*, current: BusinessKpis | None, sections: Mapping[str, Any]) -> dict[str, Any]:
    """The stored KPI sections `sections` would give on top of `current`, checked with the model in force."""
    merged: dict[str, Any] = {} if current is None else stored_kpi_sections(current)
    merged.update(sections)
    kpi_figures, extras = kpis_flat(merged)
    model = selectors.financial_model_current()
    model_groups_now = PLACEHOLDER_REVENUE if model is None else stored_model_groups(model)
    figures = _figures({"time_zone": current_tenant().time_zone, **model_flat(model_groups_now), **kpi_figures})
    return kpi_sections(figures, extras)


def financial_model_update(
    *,
    actor: Actor,
    groups: Mapping[str, Any],
    change_reason: str,
    effective_from: datetime | None = None,
    proposal: ChangeProposal | None = None,
) -> FinancialModel:
    """Make a new version of the scope tenant's financial model.

    The groups sent replace those groups whole; groups not sent keep their current values.
    `proposal` is the approved proposal the change comes from, if any (`actor` approved it).
    """
    change_reason_require(change_reason)
    tenant = current_tenant()
    with transaction.atomic():
        current = FinancialModel.objects.select_for_update().first()
        stored = financial_model_validated(current=current, groups=groups)
        model = current or FinancialModel(tenant=tenant)
        for key, value in stored.items():
            setattr(model, key, value)
        config_version_save(
            model, actor=actor, change_reason=change_reason, effective_from=effective_from, proposal=proposal
        )
        return model


def business_kpis_update(
    *,
    actor: Actor,
    sections: Mapping[str, Any],
    change_reason: str,
    effective_from: datetime | None = None,
    proposal: ChangeProposal | None = None,
) -> BusinessKpis:
    """Make a new version of the scope tenant's KPI targets, alert thresholds and attribution rules.

    Sections sent replace those sections whole; sections not sent keep their current values.
    """
    change_reason_require(change_reason)
    tenant = current_tenant()
    with transaction.atomic():
        current = BusinessKpis.objects.select_for_update().first()
        stored = business_kpis_validated(current=current, sections=sections)
        kpis = current or BusinessKpis(tenant=tenant)
        for key, value in stored.items():
            setattr(kpis, key, value)
        config_version_save(
            kpis, actor=actor, change_reason=change_reason, effective_from=effective_from, proposal=proposal
        )
        return kpis


def figures_in_force(
    *, assumptions: Mapping[str, Any] | None = None, kpis: BusinessKpis | None = None
) -> tuple[FinancialFigures, int | None, int | None]:
    """The figures a calculation uses now: current model and KPIs, then the what-if assumptions.

    Returns the figures and the model and KPI versions they came from. A caller that has
    already loaded the current KPIs passes them (saves a query on every dashboard view).
    """
    model = selectors.financial_model_current()
    kpis = kpis if kpis is not None else selectors.business_kpis_current()
    figures = figures_from_stored(
        model=None if model is None else stored_model_groups(model),
        kpis=None if kpis is None else stored_kpi_sections(kpis),
        assumptions=assumptions,
    )
    return figures, None if model is None else model.version, None if kpis is None else kpis.version


def figures_from_stored(
    *, model: Mapping[str, Any] | None, kpis: Mapping[str, Any] | None, assumptions: Mapping[str, Any] | None = None
) -> FinancialFigures:
    """The figures of stored model groups and KPI sections (either may be missing), then the
    what-if `assumptions`: for callers that read the stored versions themselves."""
    flat = stored_flat(model, kpis, current_tenant().time_zone)
    assumed, written = assumptions_flat(assumptions or {})
    flat.update(assumed)
    if "annual_recurring_revenue" not in flat:
        raise EngineInputError(
            "financial_model",
            "is not set for this tenant: PUT config/financial-model first, "
            "or give annual_recurring_revenue in assumptions",
        )
    return _figures(flat, assumption_names=written)


def calculation_run(*, actor: Actor, method: str, body: Mapping[str, Any]) -> LedgerRecord:
    """Run one engine method on the scope tenant's figures and record it in the ledger."""
    spec = METHODS.get(method)
    if spec is None:
        raise EngineInputError("method", f"unknown method {method!r}")
    # What runs is what the ledger records: numbers in one canonical text, however they were spelt.
    inputs = canonical_numbers(dict(body))
    assumptions = inputs.pop("assumptions", None)
    if assumptions is None:
        assumptions = {}
    if not isinstance(assumptions, Mapping):  # false, 0, "" and [] too, as the schema says
        raise EngineInputError("assumptions", "must be an object of financial model or KPI fields")
    figures, model_version, kpi_version = figures_in_force(assumptions=assumptions)
    inputs = spec.prepare(inputs)
    result = spec.run(inputs, figures)
    return ledger_append(
        actor=actor,
        method=spec.name,
        method_version=spec.version,
        model_version=model_version,
        kpi_version=kpi_version,
        inputs={**inputs, "assumptions": dict(assumptions)},
        figures=figures.as_dict(include_derived=False),
        result=result.as_dict(),
    )
