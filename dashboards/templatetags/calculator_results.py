"""The headline figures of an investment case's ledger record, for its page and its PDF."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from roi.engine.money import decimal_or_none

register = template.Library()

INVESTMENT_METHODS = ("investment_roi",)


def fraction_as_percent(fraction: Any) -> Decimal | None:
    """A fraction as the API gives it (`"0.0789"`) in percent (7.89); None when missing or not a number."""
    amount = decimal_or_none(fraction)
    return None if amount is None else amount * 100


@register.simple_tag
def investment_figures(record: Any) -> list[dict[str, Any]]:
    """NPV, IRR, payback and ROI of an `investment_roi` record, each with the API field it
    comes from and that field's value as the API returns it; empty for other methods.

    `irr_annual` is a fraction in the API (7.8908 is 789.08 %), shown here in percent;
    payback is in months, or in the cash flows' period (`payback_periods`).
    """
    if getattr(record, "method", None) not in INVESTMENT_METHODS:
        return []
    result = getattr(record, "result", None) or {}
    period = result.get("period", "month")
    payback_key = "payback_periods" if "payback_periods" in result else "payback_months"
    rows = [
        {"label": "Net present value (NPV)", "key": "npv", "kind": "money", "value": result.get("npv")},
        {
            "label": "Internal rate of return (IRR), a year",
            "key": "irr_annual",
            "kind": "percent",
            "value": fraction_as_percent(result.get("irr_annual")),
        },
        {"label": f"Payback ({period}s)", "key": payback_key, "kind": "number", "value": result.get(payback_key)},
        {
            "label": "Return on investment (ROI)",
            "key": "roi_percent",
            "kind": "percent",
            "value": result.get("roi_percent"),
        },
        {
            "label": "ROI, discounted and risk-adjusted",
            "key": "roi_percent_discounted",
            "kind": "percent",
            "value": result.get("roi_percent_discounted"),
        },
    ] + [
        {"label": label, "key": key, "kind": "money", "value": result.get(key)}
        for label, key in (("Total benefits", "total_benefits"), ("Total costs", "total_costs"))
    ]
    return [{**row, "raw": result.get(row["key"])} for row in rows]
