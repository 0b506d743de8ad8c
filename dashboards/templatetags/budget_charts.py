"""The budget chart: each month's actual or forecast cost as a bar, the monthly budget as a line."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from dashboards.templatetags.bizvalue import chart_legend
from roi.engine.money import ZERO, decimal_or_none

register = template.Library()

ACTUAL, FORECAST, BUDGET = "#3c8dbc", "#a9cce3", "#c0392b"


def _amount(value: Any) -> Decimal:
    """A bar's height: the shown amount, or zero when missing, not a number or negative."""
    return max(decimal_or_none(value) or ZERO, ZERO)


@register.simple_tag
def budget_chart(months: list[dict[str, Any]], title: str) -> str:
    """Inline SVG drawn on the server (no script; prints as it shows).

    Each month (`month`, `actual`, `forecast`, `budget`) is one bar: its actual cost once
    the month is over, else its forecast, drawn paler; a red line marks the monthly budget.
    The page's table carries the same figures for screen readers.
    """
    width, height, pad = 760, 240, 36
    heights = [_amount(m.get("forecast") if m.get("forecast") is not None else m.get("actual")) for m in months]
    budgets = [_amount(m.get("budget")) for m in months]
    top = max([*heights, *budgets, Decimal(1)])
    bar = Decimal(width - pad) / max(len(months), 1)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height + 30}" role="img" aria-label="{escape(title)}">']
    for index, (month, amount, budget) in enumerate(zip(months, heights, budgets, strict=True)):
        x, name = pad + index * bar, escape(str(month.get("month", "")))
        forecast = month.get("forecast") is not None
        h = amount / top * (height - 10)
        kind = "forecast" if forecast else "actual"
        parts.append(
            f'<rect x="{x + 2:.1f}" y="{height - h:.1f}" width="{max(bar - 4, 1):.1f}" height="{h:.1f}"'
            f' fill="{FORECAST if forecast else ACTUAL}"><title>{name} {kind}: {amount:,.2f}</title></rect>'
        )
        if month.get("budget") is not None:
            y = height - budget / top * (height - 10)
            parts.append(
                f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x + bar:.1f}" y2="{y:.1f}" stroke="{BUDGET}" stroke-width="2">'
                f"<title>{name} budget: {budget:,.2f}</title></line>"
            )
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{height + 16}" font-size="10" text-anchor="middle">{name}</text>')
    parts.append(f'<line x1="{pad}" y1="{height}" x2="{width}" y2="{height}" stroke="#888"/>')
    parts.append(f'<text x="2" y="12" font-size="10">{top:,.0f}</text></svg>')
    legend = chart_legend([("actual", ACTUAL), ("forecast", FORECAST), ("monthly budget", BUDGET)])
    # Every interpolated text is escaped above; numbers are ours.
    return mark_safe("".join(parts) + legend)  # noqa: S308
