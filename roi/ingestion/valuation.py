"""The value stage: the figures in force at each moment, each event valued through the engine
(`value_events`), and performance valued per service and month (`value_performance_months`).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Sum

from governance import sql
from governance.ledger import Actor
from governance.tenancy import current_tenant
from roi.engine import METHODS, EngineInputError, FinancialFigures
from roi.engine.money import ZERO
from roi.figures import stored_flat
from roi.ingestion.batch import BatchInvalid, BatchOutcome, Valuation
from roi.ingestion.records import append_record, prepare_record
from roi.ingestion.rollup_deltas import RollupDeltas
from roi.kinds import KindSpec
from roi.models import BusinessKpis, FinancialModel, PerformanceMonth, PerformanceSample, Stream
from roi.models.rollups import PERFORMANCE_SUM_COLUMNS

# --- Figures in force at a moment ------------------------------------------------------


class FiguresTimeline:
    """The model and KPI versions of the tenant, to find the ones in force at any moment.

    Loaded once per batch (a handful of rows); each pair of versions is turned into
    `FinancialFigures` once.
    """

    def __init__(self, time_zone: str) -> None:
        self.time_zone = time_zone
        # Read with hand-written SQL (`governance.sql`): compiling the two ORM queries cost
        # more than running them, once per batch.
        models = sql.instances(FinancialModel.history.model)
        kpis = sql.instances(BusinessKpis.history.model)
        self.models = sorted(models, key=lambda v: (v.effective_from, v.version, -v.history_id))
        self.kpis = sorted(kpis, key=lambda v: (v.effective_from, v.version, -v.history_id))
        self._model_times = [v.effective_from for v in self.models]
        self._kpi_times = [v.effective_from for v in self.kpis]
        self._figures: dict[str, FinancialFigures] = {}
        # With one model version and at most one KPI version (the usual case), the same
        # figures are in force at every moment: found once, not once per event.
        self._constant: tuple[str, int | None, FinancialFigures] | None = None
        if len(self.models) == 1 and len(self.kpis) <= 1:
            self._constant = self.at(self.models[0].effective_from)

    @staticmethod
    def _pick(versions: list[Any], times: list[datetime], moment: datetime) -> Any | None:
        if not versions:
            return None
        index = bisect.bisect_right(times, moment) - 1
        # Events older than the first version use the first version.
        return versions[max(index, 0)]

    def at(self, moment: datetime) -> tuple[str, int | None, FinancialFigures] | None:
        """(reference, model version, figures) in force at `moment`; None without a model."""
        if self._constant is not None:
            return self._constant
        model = self._pick(self.models, self._model_times, moment)
        if model is None:
            return None
        kpis = self._pick(self.kpis, self._kpi_times, moment)
        reference = f"m{model.version}-k{kpis.version if kpis else 0}"
        if reference not in self._figures:
            groups = {
                "revenue_model": model.revenue_model,
                "cost_model": model.cost_model,
                "impact_model": model.impact_model,
                "severity_responders": model.severity_responders,
                "revenue_profile": model.revenue_profile,
            }
            sections = (
                None
                if kpis is None
                else {"kpis": kpis.kpis, "alerts": kpis.alerts, "attribution_rules": kpis.attribution_rules}
            )
            self._figures[reference] = FinancialFigures.from_mapping(stored_flat(groups, sections, self.time_zone))
        return reference, model.version, self._figures[reference]

    def baseline_response_time(self) -> Decimal | None:
        """The KPI baseline in force now, if the tenant set one."""
        if not self.kpis:
            return None
        raw = (self.kpis[-1].kpis.get("performance") or {}).get("baseline_response_time")
        return None if raw is None else Decimal(raw)


def month_date(month: date | datetime) -> date:
    """A month read back from `TruncMonth` (a date-time for a date-time column) as the date the rollups key on."""
    return month.date() if isinstance(month, datetime) else month


def local_month(moment: datetime, zone: ZoneInfo) -> date:
    """The first day of `moment`'s month in `zone`."""
    local = moment.astimezone(zone)
    return date(local.year, local.month, 1)


def value_events(
    spec: KindSpec, events: list[dict[str, Any]], timeline: FiguresTimeline, outcome: BatchOutcome
) -> Valuation:
    """The value stage: each event valued under the figures in force at its time, in place.

    Each event gets its `valuation`, `model_version` and `ledger_item` (its index in the
    returned items; None if not valued) and the money its kind derives from the result;
    `outcome` counts what was valued. BatchInvalid if the engine refuses an event's inputs.
    """
    items: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    figures_used: dict[str, FinancialFigures] = {}
    errors: dict[str, list[str]] = {}
    # What each event asks for, then one engine call per method and figures in force
    # (`run_many`, the same results as one `run` per event), then the events in order.
    asked: list[tuple[str, dict[str, Any], str, int | None] | None] = []
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, event in enumerate(events):
        event["ledger_item"] = event["model_version"] = event["valuation"] = None
        wanted = spec.valuation(event)
        in_force = timeline.at(event["occurred_at"]) if wanted else None
        if wanted is None or in_force is None:
            asked.append(None)
            spec.apply(event, None)
            if wanted is not None:
                outcome.unvalued += 1
            continue
        method, inputs = wanted
        reference, model_version, figures = in_force
        figures_used[reference] = figures
        asked.append((method, inputs, reference, model_version))
        groups[(method, reference)].append(index)
    answers: dict[int, dict[str, Any] | EngineInputError] = {}
    for (method, reference), indexes in groups.items():
        valued = METHODS[method].run_many([asked[i][1] for i in indexes], figures_used[reference])  # type: ignore[index]
        answers.update(zip(indexes, valued, strict=True))
    kind = spec.kind.value
    versions = {method: METHODS[method].version for method, _ in groups}
    for index, event in enumerate(events):
        request = asked[index]
        if request is None:
            continue
        method, inputs, reference, model_version = request
        result = answers[index]
        if isinstance(result, EngineInputError):
            for name, messages in result.errors.items():
                errors[f"{index}.{name}"] = messages
            continue
        event["ledger_item"] = len(items)
        event["model_version"] = model_version
        event["valuation"] = result
        items.append(
            {
                "kind": kind,
                "external_id": event["external_id"],
                "method": method,
                "method_version": versions[method],
                "figures": reference,
                "inputs": inputs,
            }
        )
        results.append(result)
        spec.apply(event, result)
        outcome.valued += 1
        outcome.total_value += event.get("value") or ZERO
    if errors:
        raise BatchInvalid(errors)
    if outcome.unvalued:
        outcome.notes.append(
            f"{outcome.unvalued} event(s) stored without a value: set the financial model, then run revalue."
        )
    return Valuation(items, results, figures_used)


# --- Performance: valued per service and month ------------------------------------------


def value_performance_months(
    actor: Actor,
    events: list[dict[str, Any]],
    old_rows: Iterable[Any],
    zone: ZoneInfo,
    timeline: FiguresTimeline,
    deltas: RollupDeltas,
    outcome: BatchOutcome,
    *,
    keep_unchanged: bool = False,
) -> None:
    """Re-value every service-month the batch touched, and move the money in the rollups.

    With `keep_unchanged` (revaluation), a month whose samples and value are as they were
    keeps the ledger item that already proves it, so re-running adds no records.
    """
    touched = {(e["service"], local_month(e["occurred_at"], zone)) for e in events}
    touched |= {(r.service, local_month(r.occurred_at, zone)) for r in old_rows}
    services = {service for service, _ in touched}
    sums = service_month_sums(services, zone)
    months = {(m.service, m.month): m for m in PerformanceMonth.objects.filter(service__in=services)}
    baseline_kpi = timeline.baseline_response_time()
    first_month_mean: dict[str, Decimal] = {}
    for (service, _month_start), month_sums in sorted(sums.items(), key=lambda pair: pair[0][1]):
        first_month_mean.setdefault(service, month_sums.response_time_ms_sum / month_sums.samples)

    items: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    figures_used: dict[str, FinancialFigures] = {}
    valued_rows: list[tuple[PerformanceMonth, int | None]] = []
    for service, month in sorted(touched):
        month_sums = sums.get((service, month), ServiceMonthSums())
        total, count = month_sums.response_time_ms_sum, month_sums.samples
        department, product = month_sums.department, month_sums.product
        row = months.get((service, month)) or PerformanceMonth(tenant=current_tenant(), service=service, month=month)
        old_value, old_labels = row.value or ZERO, (row.department, row.product)
        sums_unchanged = row.pk is not None and month_sums.stored(row)
        before = (row.value, row.ledger_record_id, row.ledger_item)
        month_sums.store(row)
        baseline = baseline_kpi if baseline_kpi is not None else first_month_mean.get(service)
        in_force = timeline.at(datetime(month.year, month.month, 1, tzinfo=zone))
        row.value, row.ledger_item = None, None
        if count and baseline is not None and in_force is not None:
            reference, _, figures = in_force
            inputs = {"response_time_improvement_ms": str(baseline - total / count)}
            result = METHODS["performance_impact"].run(inputs, figures).as_dict()
            value = Decimal(result["monthly_revenue_impact"])
            if keep_unchanged and before[1] is not None and sums_unchanged and before[0] == value:
                row.value, row.ledger_item = before[0], before[2]
                continue
            figures_used[reference] = figures
            row.value = value
            row.ledger_item = len(items)
            items.append(
                {
                    "kind": "performance_month",
                    "external_id": f"{service}|{month:%Y-%m}",
                    "method": "performance_impact",
                    "method_version": METHODS["performance_impact"].version,
                    "figures": reference,
                    "inputs": inputs,
                }
            )
            results.append(result)
        valued_rows.append((row, row.ledger_item))
        deltas[(month, Stream.PERFORMANCE, *old_labels)]["value"] -= old_value
        deltas[(month, Stream.PERFORMANCE, department, product)]["value"] += row.value or ZERO
    prepared = prepare_record("performance_months", Valuation(items, results, figures_used))
    record = None if prepared is None else append_record(actor, prepared)
    for row, item in valued_rows:
        row.ledger_record = record if item is not None else None
        row.save()
    if record is not None:
        outcome.ledger_record = record
        outcome.total_value = sum((Decimal(r["monthly_revenue_impact"]) for r in results), ZERO)


@dataclass(frozen=True, slots=True)
class ServiceMonthSums:
    """What one service's samples of one month add up to, with the latest labels seen.

    Availability and conversion rate are summed over the samples that carry them, beside
    how many those are (a sample may omit either).
    """

    response_time_ms_sum: Decimal = ZERO
    samples: int = 0
    availability_percent_sum: Decimal = ZERO
    availability_count: int = 0
    conversion_rate_sum: Decimal = ZERO
    conversion_rate_count: int = 0
    department: str = ""
    product: str = ""

    # The PerformanceMonth columns these sums are stored in (labels apart).
    COLUMNS = PERFORMANCE_SUM_COLUMNS

    def stored(self, row: PerformanceMonth) -> bool:
        """Whether `row` already holds these sums and labels."""
        return all(getattr(row, c) == getattr(self, c) for c in (*self.COLUMNS, "department", "product"))

    def store(self, row: PerformanceMonth) -> None:
        for column in (*self.COLUMNS, "department", "product"):
            setattr(row, column, getattr(self, column))


def sample_sums() -> dict[str, Sum | Count]:
    """A group of samples' PerformanceMonth sums, each named for its column: ingestion's
    service-months and the rollup rebuild aggregate alike."""
    return {
        "samples": Count("id"),
        "response_time_ms_sum": Sum("response_time_ms"),
        "availability_percent_sum": Sum("availability_percent"),
        "availability_count": Count("availability_percent"),  # COUNT(column): the samples that carry it
        "conversion_rate_sum": Sum("conversion_rate"),
        "conversion_rate_count": Count("conversion_rate"),
    }


def service_month_sums(services: set[str], zone: ZoneInfo) -> dict[tuple[str, date], ServiceMonthSums]:
    """Sums and counts of response time, availability and conversion per service and month."""
    from django.db.models.functions import TruncMonth

    # Mappings: the Django plugin's row type cannot see the sums spread into annotate().
    rows: Iterable[Mapping[str, Any]] = (
        PerformanceSample.objects.filter(service__in=services)
        .annotate(month=TruncMonth("measured_at", tzinfo=zone))
        .values("service", "month", "department", "product")
        .annotate(**sample_sums())
    )
    sums: dict[tuple[str, date], ServiceMonthSums] = {}
    for row in rows:
        month = month_date(row["month"])
        key = (row["service"], date(month.year, month.month, 1))
        seen = sums.get(key, ServiceMonthSums())
        sums[key] = ServiceMonthSums(
            response_time_ms_sum=seen.response_time_ms_sum + Decimal(row["response_time_ms_sum"]),
            samples=seen.samples + row["samples"],
            availability_percent_sum=seen.availability_percent_sum + Decimal(row["availability_percent_sum"] or 0),
            availability_count=seen.availability_count + row["availability_count"],
            conversion_rate_sum=seen.conversion_rate_sum + Decimal(row["conversion_rate_sum"] or 0),
            conversion_rate_count=seen.conversion_rate_count + row["conversion_rate_count"],
            department=row["department"],
            product=row["product"],
        )
    return sums
