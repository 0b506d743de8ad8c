"""Formatting for executive pages: money in the tenant's currency and locale, signed changes, charts."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.numbers import (
    NumberPattern,
    format_compact_currency,
    get_currency_precision,
    get_currency_symbol,
    parse_pattern,
)
from django import template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from governance.tenancy import current_tenant_or_none
from roi.engine.money import decimal_or_none

register = template.Library()

COLOURS = ["#0b6e4f", "#3c8dbc", "#f0a500", "#9b5de5", "#c0392b"]
DEFAULT_LOCALE = "en_US"


def number_locale() -> str:
    """The tenant's locale while a page, report or e-mail renders in its scope; en_US outside one."""
    tenant = current_tenant_or_none()
    return tenant.locale if tenant is not None else DEFAULT_LOCALE


@register.filter
def money(value: Any, currency: str = "USD") -> str:
    """`$49,499.85` (en_US), `49.499,85 €` (de_DE); a dash when there is no figure, never a misleading zero.

    CLDR (via Babel) knows each currency's symbol, its minor units and where the locale puts them.
    """
    amount = decimal_or_none(value)
    if amount is None:
        return "—"
    locale, pattern, currency_given = _currency_format(number_locale(), currency)
    if currency_given is None:
        return pattern.apply(amount, locale)
    return pattern.apply(amount, locale, currency=currency_given, currency_digits=True)


@lru_cache(maxsize=256)
def _currency_format(locale_name: str, currency: str) -> tuple[Locale, NumberPattern, str | None]:
    """The locale's currency pattern with `currency`'s symbol and minor units written in,
    and the currency still to pass to `apply` (None: nothing left to fill in).

    babel's format_currency looks up the pattern, the currency's digits, its symbol and even
    its plural name for every amount; a page formats dozens, always in the same currency.
    A pattern naming the currency by code or name (¤¤, ¤¤¤) is left to babel as it is.
    """
    locale = Locale.parse(locale_name)
    standard = locale.currency_formats["standard"]
    if "¤¤" in "".join((*standard.prefix, *standard.suffix)):
        return locale, standard, currency
    symbol = get_currency_symbol(currency, locale)
    digits = get_currency_precision(currency)
    filled = NumberPattern(
        standard.pattern,
        prefix=tuple(part.replace("¤", symbol) for part in standard.prefix),
        suffix=tuple(part.replace("¤", symbol) for part in standard.suffix),
        grouping=standard.grouping,
        int_prec=standard.int_prec,
        frac_prec=(digits, digits),
        exp_prec=standard.exp_prec,
        exp_plus=standard.exp_plus,
        number_pattern=standard.number_pattern,
    )
    return locale, filled, None


def _format_decimal(amount: Decimal, pattern: str) -> str:
    """babel's format_decimal in the tenant's locale, its locale and parsed pattern remembered."""
    locale, parsed = _decimal_format(number_locale(), pattern)
    return parsed.apply(amount, locale)


@lru_cache(maxsize=64)
def _decimal_format(locale_name: str, pattern: str) -> tuple[Locale, NumberPattern]:
    return Locale.parse(locale_name), parse_pattern(pattern)


@register.simple_tag
def page_url(name: str, *args: Any) -> str:
    """`{% url name arg… %}`, remembered per process: the header's navigation and a page's
    links reverse the same few routes with the same slug on every request, and the
    resolver's look-up costs more than the rest of the link. Positional arguments only."""
    return _page_url(get_script_prefix(), get_urlconf(), name, *(str(arg) for arg in args))


@lru_cache(maxsize=4096)
def _page_url(prefix: str, urlconf: str | None, name: str, *args: str) -> str:
    return reverse(name, urlconf=urlconf, args=args)  # `prefix` keys the cache: reverse prepends it


@register.simple_tag
def drill_url(slug: str, stream: str, month: str) -> str:
    """`{% url 'drill-down' slug stream month %}`, remembered: a page links dozens of month cells."""
    return page_url("drill-down", slug, stream, month)


@register.filter
def short_money(value: Any, currency: str = "USD") -> str:
    """`$1.2M`, `$48.5K`: for headline tiles where the full figure is one click away."""
    amount = decimal_or_none(value)
    if amount is None:
        return "—"
    return format_compact_currency(amount, currency, locale=number_locale(), fraction_digits=1)


@register.filter
def change(current: Any, previous: Any) -> str:
    """The change from `previous` to `current` in percent, signed; a dash when undefined."""
    now, before = decimal_or_none(current), decimal_or_none(previous)
    if now is None or before is None or before == 0:
        return "—"
    delta = (now - before) / abs(before) * 100
    return f"{_format_decimal(delta, '+#,##0.0;-#,##0.0')} %"


@register.filter
def percent(value: Any) -> str:
    amount = decimal_or_none(value)
    return "—" if amount is None else f"{_format_decimal(amount, '#,##0.0')} %"


@register.simple_tag
def bar_chart(rows: list[dict[str, Any]], keys: str, label: str, title: str) -> str:
    """A stacked bar chart as inline SVG, drawn on the server (no script; prints as it shows).

    `keys` names the stacked series (comma-separated); each row holds `label` and the values.
    The table beside it in the page carries the same numbers for screen readers.
    """
    series = [key.strip() for key in keys.split(",")]
    width, height, pad = 760, 240, 36
    totals = [sum(max(decimal_or_none(row.get(key)) or Decimal(0), Decimal(0)) for key in series) for row in rows]
    top = max([*totals, Decimal(1)])
    bar = Decimal(width - pad) / max(len(rows), 1)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height + 30}" role="img" aria-label="{escape(title)}">']
    for index, row in enumerate(rows):
        y, x, name = Decimal(height), pad + index * bar, escape(str(row.get(label, "")))
        for key, colour in zip(series, COLOURS, strict=False):
            amount = max(decimal_or_none(row.get(key)) or Decimal(0), Decimal(0))
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
    legend = chart_legend([(key.replace("_", " "), colour) for key, colour in zip(series, COLOURS, strict=False)])
    # Every interpolated text is escaped above; numbers are ours.
    return mark_safe("".join(parts) + legend)  # noqa: S308


def chart_legend(entries: list[tuple[str, str]]) -> str:
    """Swatches drawn as SVG fills: browsers leave CSS backgrounds out of print, and our CSP allows no inline style."""
    keys = "".join(
        f'<span class="key"><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12"'
        f' fill="{colour}"/></svg> {escape(name)}</span>'
        for name, colour in entries
    )
    return f'<div class="legend">{keys}</div>'


@register.filter
def number(value: Any) -> str:
    """`99.952`, `1,234.5` (en_US), `99,952` (de_DE): a measured figure with the digits it was given,
    in the tenant's locale; a dash when there is none."""
    amount = decimal_or_none(value)
    return "—" if amount is None else _format_decimal(amount, "#,##0.###")
