"""Writes on the money side: model and KPI versions, calculations, ledger verification.

Every function works on the tenant in scope. Validation is the engine's own (one set of
rules for the API, pages and commands); engine errors are renamed to the caller's paths.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from governance.anchors import anchor_append, anchor_breaks, anchor_latest
from governance.audit import audit_record
from governance.ledger import Actor, canonical_numbers, chain_breaks, json_ready, ledger_append
from governance.models import AuditKind, LedgerRecord
from governance.tenancy import current_tenant
from roi import selectors
from roi.engine import METHODS, EngineInputError, FinancialFigures, method_for
from roi.figures import (
    assumptions_flat,
    kpi_sections,
    kpis_flat,
    model_flat,
    model_groups,
    nest_errors,
    stored_flat,
)
from roi.models import BusinessKpis, ChangeProposal, FinancialModel, VersionedConfig

# KPIs are validated together with the model they will be used with; before a tenant has
# a model, this stands in for its revenue so the KPI rules can still run.
PLACEHOLDER_REVENUE = {"revenue_model": {"annual_recurring_revenue": "0"}}


# What `_require_reason` accepts, for the API schema: some text besides blanks.
CHANGE_REASON_SCHEMA = {"type": "string", "pattern": r"\S", "description": "Why the figures change."}


def _require_reason(change_reason: str) -> None:
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


def _save_version(
    config: VersionedConfig,
    *,
    actor: Actor,
    change_reason: str,
    effective_from: datetime | None,
    proposal: ChangeProposal | None = None,
) -> None:
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
    merged: dict[str, Any] = {} if current is None else _model_groups_of(current)
    merged.update(groups)
    kpis = selectors.business_kpis_current()
    flat = {"time_zone": current_tenant().time_zone, **model_flat(merged)}
    if kpis is not None:
        flat.update(kpis_flat(_kpi_sections_of(kpis))[0])
    return model_groups(_figures(flat))


def business_kpis_validated(*, current: BusinessKpis | None, sections: Mapping[str, Any]) -> dict[str, Any]:
    """The stored KPI sections `sections` would give on top of `current`, checked with the model in force."""
    merged: dict[str, Any] = {} if current is None else _kpi_sections_of(current)
    merged.update(sections)
    kpi_figures, extras = kpis_flat(merged)
    model = selectors.financial_model_current()
    model_groups_now = PLACEHOLDER_REVENUE if model is None else _model_groups_of(model)
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
    _require_reason(change_reason)
    tenant = current_tenant()
    with transaction.atomic():
        current = FinancialModel.objects.select_for_update().first()
        stored = financial_model_validated(current=current, groups=groups)
        model = current or FinancialModel(tenant=tenant)
        for key, value in stored.items():
            setattr(model, key, value)
        _save_version(model, actor=actor, change_reason=change_reason, effective_from=effective_from, proposal=proposal)
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
    _require_reason(change_reason)
    tenant = current_tenant()
    with transaction.atomic():
        current = BusinessKpis.objects.select_for_update().first()
        stored = business_kpis_validated(current=current, sections=sections)
        kpis = current or BusinessKpis(tenant=tenant)
        for key, value in stored.items():
            setattr(kpis, key, value)
        _save_version(kpis, actor=actor, change_reason=change_reason, effective_from=effective_from, proposal=proposal)
        return kpis


def _model_groups_of(model: Any) -> dict[str, Any]:
    return {
        "revenue_model": model.revenue_model,
        "cost_model": model.cost_model,
        "impact_model": model.impact_model,
        "severity_responders": model.severity_responders,
        "revenue_profile": model.revenue_profile,
    }


def _kpi_sections_of(kpis: Any) -> dict[str, Any]:
    return {"kpis": kpis.kpis, "alerts": kpis.alerts, "attribution_rules": kpis.attribution_rules}


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
        model=None if model is None else _model_groups_of(model),
        kpis=None if kpis is None else _kpi_sections_of(kpis),
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


# --- Verification ---------------------------------------------------------------------


@dataclass
class Verification:
    checked: int = 0
    head_sequence: int = 0
    head_hash: str = ""
    failures: dict[int | str, dict[str, Any]] = field(default_factory=dict)
    anchor: dict[str, Any] | None = None
    # Records after this sequence were recomputed; those up to it were at the verified,
    # anchored head this run started from (0: a full verification). Every record is rehashed.
    verified_from: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, record: LedgerRecord, reason: str) -> None:
        self.fail_at(record.pk, record.sequence, reason)

    def fail_at(self, record_id: int | None, sequence: int | None, reason: str) -> None:
        """A failure at a place in the chain, which may hold no record (a truncated tail, a missing record)."""
        key = record_id if record_id is not None else -(sequence or 0)
        entry = self.failures.setdefault(key, {"id": record_id, "sequence": sequence, "row": None, "reasons": []})
        entry["reasons"].append(reason)

    def fail_row(self, row: str, reason: str) -> None:
        """A failure of a stored row that answers to no ledger record (a rollup cell, an unvalued event)."""
        entry = self.failures.setdefault(row, {"id": None, "sequence": None, "row": row, "reasons": []})
        entry["reasons"].append(reason)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head_sequence": self.head_sequence,
            "head_hash": self.head_hash,
            "anchor": self.anchor,
            "full": self.verified_from == 0,
            "verified_from": self.verified_from,
            # In chain order; failures at no place in the chain (a missing record) last.
            "failures": sorted(
                self.failures.values(), key=lambda failure: (failure["sequence"] is None, failure["sequence"] or 0)
            ),
        }


def _recompute_problems(record: LedgerRecord) -> list[str]:
    """Why `record` does not recompute from its own inputs and figures (empty: it does)."""
    try:
        spec = method_for(record.method, record.method_version)
        figures = FinancialFigures.from_mapping(record.figures)
        inputs = {key: value for key, value in record.inputs.items() if key != "assumptions"}
        recomputed = json_ready(spec.run(inputs, figures).as_dict())
    except EngineInputError as error:
        return [f"stored inputs or figures no longer valid: {error}"]
    if recomputed == record.result:
        return []
    differing = sorted(
        key for key in set(recomputed) | set(record.result) if recomputed.get(key) != record.result.get(key)
    )
    return [
        f"result does not recompute: {key} stored {record.result.get(key)!r}, recomputed {recomputed.get(key)!r}"
        for key in differing
    ]


def _expected_figures(record: LedgerRecord, cache: dict[tuple[int | None, int | None], Any]) -> dict[str, Any] | None:
    """The figures the record's model and KPI versions give with its assumptions (None: no versions)."""
    key = (record.model_version, record.kpi_version)
    if key not in cache:
        model = None if record.model_version is None else selectors.financial_model_version(record.model_version)
        kpis = None if record.kpi_version is None else selectors.business_kpis_version(record.kpi_version)
        cache[key] = (model, kpis)
    model, kpis = cache[key]
    if (record.model_version is not None and model is None) or (record.kpi_version is not None and kpis is None):
        return {"missing": True}
    flat = stored_flat(
        None if model is None else _model_groups_of(model),
        None if kpis is None else _kpi_sections_of(kpis),
        record.figures.get("time_zone", "UTC"),
    )
    try:
        flat.update(assumptions_flat(record.inputs.get("assumptions") or {})[0])
        return json_ready(FinancialFigures.from_mapping(flat).as_dict(include_derived=False))
    except EngineInputError:
        return {"invalid": True}


def ledger_verify(
    *, actor: str = "system", full: bool = False, progress: Callable[[int, int], None] | None = None
) -> Verification:
    """Recompute the scope tenant's records, check its chain and every stored row the pages sum.

    Incremental unless `full`: records up to the last head a verification anchored (and
    whose hash is still the anchored one) are not recomputed again, the costly part; every
    record is still rehashed and relinked, since the stored rows are checked against their
    items every time (rows are mutable) and an item is only as good as its record's hash.
    The chain is also held against the head last anchored outside the database (a cut tail
    or a rebuilt chain fails); a good run anchors the new head. `progress(done,
    total)` is told as records are recomputed. Every run lands in the audit log with its
    verdict and chain head, so auditors see when and by whom.
    """
    from roi.ingestion.records import BATCH_METHOD, batch_problems
    from roi.ingestion.stored_checks import stored_row_problems

    verification = Verification()
    tenant = current_tenant()
    records = list(LedgerRecord.objects.order_by("sequence"))
    by_id = {record.pk: record for record in records}
    anchored = anchor_latest(tenant_id=tenant.pk)
    verified = None if full else anchor_latest(tenant_id=tenant.pk, verified=True)
    if verified is not None and any(r.sequence == verified.sequence and r.hash == verified.hash for r in records):
        verification.verified_from = verified.sequence
    for chain_break in chain_breaks(records):
        verification.fail(by_id[chain_break.record_id], chain_break.reason)
    verification.anchor = None if anchored is None else asdict(anchored)
    for anchor_break in anchor_breaks(records, anchored):
        verification.fail_at(anchor_break.record_id or None, anchor_break.sequence, anchor_break.reason)
    for problem in stored_row_problems(records=records, zone=ZoneInfo(tenant.time_zone)):
        if problem.record_id is None:
            verification.fail_row(problem.row, problem.reason)
        else:
            held_by = by_id.get(problem.record_id)
            sequence = None if held_by is None else held_by.sequence
            verification.fail_at(problem.record_id, sequence, f"{problem.row}: {problem.reason}")
    versions_cache: dict[tuple[int | None, int | None], Any] = {}
    to_check = [record for record in records if record.sequence > verification.verified_from]
    for done, record in enumerate(to_check, start=1):
        verification.checked += 1
        if progress is not None:
            progress(done, len(to_check))
        if record.method == BATCH_METHOD:
            for reason in batch_problems(record):
                verification.fail(record, reason)
            continue
        for reason in _recompute_problems(record):
            verification.fail(record, reason)
        expected = _expected_figures(record, versions_cache)
        if expected is not None and expected != record.figures:
            verification.fail(
                record,
                f"figures differ from financial model v{record.model_version} / KPIs v{record.kpi_version} "
                "with the recorded assumptions",
            )
    if records:
        verification.head_sequence = records[-1].sequence
        verification.head_hash = records[-1].hash
    if verification.ok:
        # Only a good head is anchored: anchoring a broken one would legitimise it.
        anchor_append(tenant_id=tenant.pk, sequence=verification.head_sequence, head_hash=verification.head_hash)
    summary = verification.as_dict()
    audit_record(
        kind=AuditKind.LEDGER_VERIFIED,
        actor=actor,
        detail={key: summary[key] for key in ("ok", "checked", "head_sequence", "head_hash", "verified_from")}
        | {"failures": len(summary["failures"])},
    )
    return verification
