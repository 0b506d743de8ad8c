"""The board pack as tables: the sections the XLSX's sheets and the CSV's rows are made of."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dashboards.reports.figures import HEADLINE_FIGURES
from roi.selectors import VALUE_STREAMS


@dataclass(frozen=True)
class Section:
    """One section of the board pack as a table: a sheet of the XLSX, rows of the CSV."""

    name: str  # the CSV's section column
    title: str  # the XLSX sheet
    notes: list[tuple[str, Any]]  # single figures above the table
    header: list[str]
    rows: list[list[Any]]


def sections(figures: dict[str, Any]) -> list[Section]:
    """The board pack's sections as tables, in the order the PDF prints them."""
    headline = figures["headline"]
    found = [
        Section(
            "headline",
            "Headline",
            [
                ("period", f"{headline['start']} to {headline['end']}"),
                ("previous", f"{headline['previous_start']} to {headline['previous_end']}"),
            ],
            ["figure", "this period", "previous period", "target"],
            [[key, item["value"], item["previous"], item["target"]] for key, item in headline["figures"].items()],
        )
    ]
    streams = [
        *VALUE_STREAMS,
        "total",
        "downtime_cost",
        "cumulative_value",
        "cumulative_cost",
        "cumulative_roi_percent",
    ]
    found.append(
        Section(
            "trend",
            "Value by month",
            [],
            ["month", *streams],
            [[row["month"], *(row[k] for k in streams)] for row in figures["trends"]],
        )
    )
    forecast = figures["forecast"]
    bands = ["value", "low_80", "high_80", "low_95", "high_95"]
    found.append(
        Section(
            "forecast",
            "Forecast",
            [("method", forecast["method"]), ("mape", forecast["mape"])],
            ["month", *bands],
            [[point["month"], *(point[k] for k in bands)] for point in forecast["points"]],
        )
    )
    departments = figures["departments"]
    columns = [
        *VALUE_STREAMS,
        "total",
        "cloud_cost",
        "investment_cost",
        "cost",
        "net_value",
        "roi_percent",
        "value_per_cost",
    ]
    found.append(
        Section(
            "department",
            "Departments",
            [("months", f"{departments['start']} to {departments['end']}")],
            ["department", *columns],
            [[group["department"], *(group[k] for k in columns)] for group in departments["groups"]]
            + [["total", *(departments["totals"][k] for k in columns)]],
        )
    )
    budget = figures["budget"]
    annual = (budget["budget"] or {}).get("annual")
    found.append(
        Section(
            "budget",
            "IT budget",
            [
                ("fiscal_year", f"{budget['fiscal_year_start']} to {budget['fiscal_year_end']}"),
                ("annual_budget", annual),
            ]
            + [
                (k, budget[k])
                for k in (
                    "cost_to_date",
                    "budget_to_date",
                    "variance_to_date",
                    "forecast_year_cost",
                    "forecast_variance",
                )
            ],
            ["month", "budget", "actual", "forecast", "variance"],
            [[m["month"], m["budget"], m["actual"], m["forecast"], m["variance"]] for m in budget["months"]],
        )
    )
    columns = ["department", "product", "started", "months_elapsed", "cost_to_date", "value_to_date"]
    columns += [
        "promised_value_to_date",
        "value_gap",
        "roi_to_date_percent",
        "case_roi_percent",
        "payback_to_date_months",
    ]
    found.append(
        Section(
            "investment",
            "Investments",
            [],
            ["investment", *columns, "value_at_risk_95"],
            [
                [row["name"], *(row[k] for k in columns), (row["value_at_risk"] or {}).get("value_at_risk_95")]
                for row in figures["investments"]
            ],
        )
    )
    bench = figures["benchmarks"]
    dora = bench["dora"] or {}
    notes: list[tuple[str, Any]] = [("months", f"{bench['start']} to {bench['end']}")]
    notes += [
        (k, bench[k])
        for k in ("downtime_minutes", "downtime_cost", "downtime_cost_per_minute", "deployments", "failed_deployments")
    ]
    notes += [
        (f"{k} tier", dora.get(f"{k}_tier"))
        for k in ("deployment_frequency", "lead_time", "recovery_time", "change_failure_rate")
    ]
    found.append(
        Section(
            "benchmark",
            "Benchmarks",
            notes,
            ["source", "year", "cost_per_minute_usd", "note"],
            [[p["source"], p["year"], p["cost_per_minute_usd"], p["note"]] for p in bench["published"]],
        )
    )
    found.append(
        Section(
            "ledger",
            "Provenance",
            [
                ("model_version", figures.get("model_version")),
                ("record_ids", " ".join(str(pk) for pk in figures.get("ledger_record_ids", []))),
                ("chain_head_sequence", figures.get("chain_head_sequence")),
                ("chain_head_hash", figures.get("chain_head_hash")),
            ],
            [],
            [],
        )
    )
    return found


def figure_rows(figures: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(section, figure, value): every figure of the report, as the CSV and the XLSX's first sheet print them."""
    rows: list[tuple[str, str, Any]] = [
        ("report", name, figures[name]) for name in ("tenant", "kind", "period", "start", "end", "currency")
    ]
    rows += [("value", stream, value) for stream, value in figures["value_by_stream"].items()]
    rows += [("value", name, figures[name]) for name in HEADLINE_FIGURES]
    rows += [("target", name, value) for name, value in figures["targets"].items()]
    for section in sections(figures):
        rows += [(section.name, name, value) for name, value in section.notes]
        for row in section.rows:
            rows += [
                (section.name, f"{row[0]} {column}", value)
                for column, value in zip(section.header[1:], row[1:], strict=True)
            ]
    return rows
