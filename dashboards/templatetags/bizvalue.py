"""Formatting for executive pages: money in the tenant's currency, signed changes, charts."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CHF": "CHF ", "CAD": "CA$", "AUD": "A$", "INR": "₹"}
ZERO_DECIMAL_CURRENCIES = {"JPY", "KRW"}
COLOURS = ["#0b6e4f", "#3c8dbc", "#f0a500", "#9b5de5", "#c0392b"]


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@register.filter
def money(value: Any, currency: str = "USD") -> str:
    """`$49,499.85`; a dash when there is no figure (never a misleading zero)."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    places = 0 if currency in ZERO_DECIMAL_CURRENCIES else 2
    sign = "-" if amount < 0 else ""
    symbol = SYMBOLS.get(currency, f"{currency} ")
    return f"{sign}{symbol}{abs(amount):,.{places}f}"


@register.filter
def short_money(value: Any, currency: str = "USD") -> str:
    """`$1.2M`, `$48.5k`: for headline tiles where the full figure is one click away."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    symbol = SYMBOLS.get(currency, f"{currency} ")
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    for limit, suffix in ((Decimal(10**9), "B"), (Decimal(10**6), "M"), (Decimal(10**3), "k")):
        if amount >= limit:
            return f"{sign}{symbol}{amount / limit:,.1f}{suffix}"
    return f"{sign}{symbol}{amount:,.0f}"


@register.filter
def change(current: Any, previous: Any) -> str:
    """The change from `previous` to `current` in percent, signed; a dash when undefined."""
    now, before = _decimal(current), _decimal(previous)
    if now is None or before is None or before == 0:
        return "—"
    delta = (now - before) / abs(before) * 100
    return f"{'+' if delta >= 0 else ''}{delta:.1f} %"


@register.filter
def percent(value: Any) -> str:
    amount = _decimal(value)
    return "—" if amount is None else f"{amount:,.1f} %"


@register.simple_tag
def bar_chart(rows: list[dict[str, Any]], keys: str, label: str, title: str) -> str:
    """A stacked bar chart as inline SVG, drawn on the server (no script; prints as it shows).

    `keys` names the stacked series (comma-separated); each row holds `label` and the values.
    The table beside it in the page carries the same numbers for screen readers.
    """
    series = [key.strip() for key in keys.split(",")]
    width, height, pad = 760, 240, 36
    totals = [sum(max(_decimal(row.get(key)) or Decimal(0), Decimal(0)) for key in series) for row in rows]
    top = max([*totals, Decimal(1)])
    bar = Decimal(width - pad) / max(len(rows), 1)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height + 30}" role="img" aria-label="{escape(title)}">']
    for index, row in enumerate(rows):
        y, x, name = Decimal(height), pad + index * bar, escape(str(row.get(label, "")))
        for key, colour in zip(series, COLOURS, strict=False):
            amount = max(_decimal(row.get(key)) or Decimal(0), Decimal(0))
            h = amount / top * (height - 10)
            y -= h
            parts.append(
                f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{max(bar - 4, 1):.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{name} {escape(key)}: {amount:,.2f}</title></rect>"
            )
        if index % max(1, len(rows) // 12) == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height + 16}" font-size="10" text-anchor="middle">{name}</text>'
            )
    parts.append(f'<line x1="{pad}" y1="{height}" x2="{width}" y2="{height}" stroke="#888"/>')
    parts.append(f'<text x="2" y="12" font-size="10">{top:,.0f}</text></svg>')
    legend = "".join(
        f'<span class="key"><i style="background:{colour}"></i>{escape(key.replace("_", " "))}</span>'
        for key, colour in zip(series, COLOURS, strict=False)
    )
    # Every interpolated text is escaped above; numbers are ours.
    return mark_safe("".join(parts) + f'<div class="legend">{legend}</div>')  # noqa: S308
