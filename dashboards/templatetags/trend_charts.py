"""The trends page's charts: stacked monthly value, lines over time and the forecast with its bands.

Inline SVG drawn on the server, like `bizvalue.bar_chart`: no script, and the drawing is
all inside the view box, so the browser scales it to the page and it prints as it shows.
Each chart is `role="img"` with a `<title>` and `<desc>`; the page puts the table with the
same numbers beside it (the chart names that table with `aria-describedby`). Figures in
tooltips and on the axis use the tenant's currency and locale (`bizvalue.money`...).

Pixels are computed in Decimal too: the values come in as Decimal strings, and mixing
float in would only add a conversion to get wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from django import template
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from dashboards.templatetags.bizvalue import COLOURS, chart_legend, money, percent, short_money
from roi.engine.money import decimal_or_none

register = template.Library()

WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 78, 24, 14, 34  # room for the axis labels, so print never clips them
GRID_LINES = 4
BAND_95, BAND_80 = "#cfe3f3", "#8fbde0"
HISTORY, FORECAST = "#1d2733", "#3c8dbc"


@dataclass(frozen=True, slots=True)
class _Frame:
    """Maps a column index and a value onto the view box."""

    columns: int
    low: Decimal
    step: Decimal  # between grid lines
    top_value: Decimal  # the largest value drawn; the axis ends on the grid line above it

    @property
    def high(self) -> Decimal:
        lines = ((self.top_value - self.low) / self.step).to_integral_value("ROUND_CEILING")
        return self.low + self.step * max(lines, Decimal(1))

    @property
    def column_width(self) -> Decimal:
        return Decimal(WIDTH - LEFT - RIGHT) / max(self.columns, 1)

    def x(self, index: int) -> Decimal:
        """The centre of column `index`."""
        return LEFT + self.column_width * index + self.column_width / 2

    def y(self, value: Decimal) -> Decimal:
        span = self.high - self.low or Decimal(1)
        return TOP + (self.high - value) / span * (HEIGHT - TOP - BOTTOM)


def _nice_step(span: Decimal) -> Decimal:
    """A grid step of 1, 2, 2.5 or 5 times a power of ten, giving about `GRID_LINES` lines."""
    rough = span / GRID_LINES
    power = Decimal(10) ** (rough.adjusted())
    for factor in (1, 2, Decimal("2.5"), 5, 10):
        if power * factor >= rough:
            return power * factor
    return power * 10


def _frame(columns: int, values: Sequence[Decimal | None]) -> _Frame:
    """Always includes zero, so a bar or a ROI line is read against it; ends on round figures."""
    present = [value for value in values if value is not None]
    low, high = min([*present, Decimal(0)]), max([*present, Decimal(0)])
    if low == high:
        high = low + 1
    step = _nice_step(high - low)
    return _Frame(columns, (low / step).to_integral_value("ROUND_FLOOR") * step, step, high)


def _open(title: str, description: str, table_id: str) -> list[str]:
    return [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}"'
        f' aria-describedby="{escape(table_id)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>",
    ]


def _axes(frame: _Frame, labels: Sequence[str], fmt: Callable[[Decimal], str]) -> list[str]:
    """Grid lines with their values on the left, the zero line, and month labels below."""
    parts = []
    value = frame.low
    while value <= frame.high:
        y = frame.y(value)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#e3e7ec"/>')
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 3:.1f}" font-size="10" text-anchor="end">{escape(fmt(value))}</text>'
        )
        value += frame.step
    zero = frame.y(Decimal(0))
    parts.append(f'<line x1="{LEFT}" y1="{zero:.1f}" x2="{WIDTH - RIGHT}" y2="{zero:.1f}" stroke="#888"/>')
    every = max(1, -(-len(labels) // 12))  # at most twelve labels, whatever the window
    for index, label in enumerate(labels):
        if index % every == 0:
            parts.append(
                f'<text x="{frame.x(index):.1f}" y="{HEIGHT - BOTTOM + 16}" font-size="10"'
                f' text-anchor="middle">{escape(label)}</text>'
            )
    return parts


def _safe(parts: Sequence[str]) -> SafeString:
    # Every interpolated text is escaped where it is built; numbers and colours are ours.
    return mark_safe("".join(parts))  # noqa: S308


LABELS = {"cumulative_roi_percent": "ROI to date"}


def _label(key: str) -> str:
    return LABELS.get(key) or key.replace("_", " ").capitalize()


@register.simple_tag
def stacked_value_chart(
    rows: Sequence[dict[str, Any]], streams: str, currency: str, slug: str, title: str, table_id: str
) -> SafeString:
    """Monthly value stacked by stream; each block links to that stream's drill-down for that month.

    A negative figure (performance when the service got slower) stacks below the zero
    line rather than vanishing, so the chart never disagrees with its table. The links are
    out of the tab order (`tabindex="-1"`): keyboard and screen-reader users reach the same
    drill-downs from the table, which the chart names.
    """
    keys = [key.strip() for key in streams.split(",")]
    amounts = [[decimal_or_none(row.get(key)) or Decimal(0) for key in keys] for row in rows]
    ups = [sum((a for a in month if a > 0), Decimal(0)) for month in amounts]
    downs = [sum((a for a in month if a < 0), Decimal(0)) for month in amounts]
    frame = _frame(len(rows), [*ups, *downs])
    description = f"{len(rows)} months of value, stacked by {', '.join(_label(k).lower() for k in keys)}."
    parts = _open(title, description, table_id)
    parts += _axes(frame, [str(row["month"]) for row in rows], lambda v: short_money(v, currency))
    bar = max(frame.column_width - 4, Decimal(1))
    for index, row in enumerate(rows):
        above = below = Decimal(0)
        for key, colour, amount in zip(keys, COLOURS, amounts[index], strict=False):
            if not amount:
                continue
            if amount > 0:
                top, bottom = frame.y(above + amount), frame.y(above)
                above += amount
            else:
                top, bottom = frame.y(below), frame.y(below + amount)
                below += amount
            href = reverse("drill-down", args=[slug, key, row["month"]])
            tip = f"{row['month']} · {_label(key)}: {money(amount, currency)}"
            parts.append(
                f'<a href="{escape(href)}" tabindex="-1"><rect x="{frame.x(index) - bar / 2:.1f}" y="{top:.1f}"'
                f' width="{bar:.1f}" height="{max(bottom - top, Decimal("0.5")):.1f}" fill="{colour}">'
                f"<title>{escape(tip)}</title></rect></a>"
            )
    parts.append("</svg>")
    parts.append(chart_legend([(_label(key), colour) for key, colour in zip(keys, COLOURS, strict=False)]))
    return _safe(parts)


def _polyline(frame: _Frame, points: Sequence[tuple[int, Decimal | None]]) -> list[list[str]]:
    """Coordinates of each unbroken run (a month without a figure breaks the line)."""
    runs: list[list[str]] = [[]]
    for index, value in points:
        if value is None:
            runs.append([])
        else:
            runs[-1].append(f"{frame.x(index):.1f},{frame.y(value):.1f}")
    return [run for run in runs if run]


@register.simple_tag
def line_chart(
    rows: Sequence[dict[str, Any]], keys: str, unit: str, currency: str, title: str, table_id: str
) -> SafeString:
    """One line per key over the months; `unit` is `money` or `percent`.

    Each point links to its month's row in the table (`#month-YYYY-MM`), where every
    stream's figure links on to its drill-down.
    """
    names = [key.strip() for key in keys.split(",")]

    def fmt(value: Decimal) -> str:
        return short_money(value, currency) if unit == "money" else percent(value)

    def full(value: Decimal) -> str:
        return money(value, currency) if unit == "money" else percent(value)

    series = {name: [decimal_or_none(row.get(name)) for row in rows] for name in names}
    frame = _frame(len(rows), [value for values in series.values() for value in values])
    description = f"{len(rows)} months of {', '.join(_label(n).lower() for n in names)}."
    parts = _open(title, description, table_id)
    parts += _axes(frame, [str(row["month"]) for row in rows], fmt)
    for name, colour in zip(names, COLOURS, strict=False):
        values = series[name]
        for run in _polyline(frame, list(enumerate(values))):
            parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for index, value in enumerate(values):
            if value is None:
                continue
            month = str(rows[index]["month"])
            tip = f"{month} · {_label(name)}: {full(value)}"
            parts.append(
                f'<a href="#month-{escape(month)}" tabindex="-1"><circle cx="{frame.x(index):.1f}"'
                f' cy="{frame.y(value):.1f}" r="3.5" fill="{colour}"><title>{escape(tip)}</title></circle></a>'
            )
    parts.append("</svg>")
    parts.append(chart_legend([(_label(name), colour) for name, colour in zip(names, COLOURS, strict=False)]))
    return _safe(parts)


class _ForecastPoint(NamedTuple):
    month: str
    value: Decimal
    low_80: Decimal
    high_80: Decimal
    low_95: Decimal
    high_95: Decimal


@register.simple_tag
def forecast_chart(forecast: dict[str, Any], currency: str, title: str, table_id: str) -> SafeString:
    """The months the forecast was fitted on, then its points with the 95 % and 80 % bands shaded.

    The bands start from the last known month (where the forecast is certain), so they
    read as a widening fan. History points link to their month's row in the value table,
    forecast points to theirs in the forecast table.
    """
    history, points = forecast.get("history") or [], forecast.get("points") or []
    known = [(str(h["month"]), Decimal(h["value"])) for h in history]
    ahead = [
        _ForecastPoint(str(p["month"]), *(Decimal(p[k]) for k in ("value", "low_80", "high_80", "low_95", "high_95")))
        for p in points
    ]
    labels = [month for month, _ in known] + [point.month for point in ahead]
    every_value = [value for _, value in known] + [v for point in ahead for v in point[1:]]
    frame = _frame(len(labels), every_value)
    description = (
        f"{len(known)} known months and {len(ahead)} forecast months, with the ranges the forecast"
        " expects the value to fall in 80 % and 95 % of the time."
    )
    parts = _open(title, description, table_id)
    parts += _axes(frame, labels, lambda v: short_money(v, currency))
    start = len(known)
    if ahead:
        anchor = [(start - 1, known[-1][1])] if known else []
        bands = (
            (BAND_95, [(point.low_95, point.high_95) for point in ahead]),
            (BAND_80, [(point.low_80, point.high_80) for point in ahead]),
        )
        for fill, ranges in bands:
            upper = anchor + [(start + i, high) for i, (_, high) in enumerate(ranges)]
            lower = anchor + [(start + i, low) for i, (low, _) in enumerate(ranges)]
            outline = [f"{frame.x(i):.1f},{frame.y(v):.1f}" for i, v in [*upper, *reversed(lower)]]
            parts.append(f'<polygon points="{" ".join(outline)}" fill="{fill}" stroke="none"/>')
        line = anchor + [(start + i, point.value) for i, point in enumerate(ahead)]
        coordinates = " ".join(f"{frame.x(i):.1f},{frame.y(v):.1f}" for i, v in line)
        parts.append(
            f'<polyline points="{coordinates}" fill="none" stroke="{FORECAST}" stroke-width="2"'
            ' stroke-dasharray="6 4"/>'
        )
        divider = frame.x(start) - frame.column_width / 2
        parts.append(
            f'<line x1="{divider:.1f}" y1="{TOP}" x2="{divider:.1f}" y2="{HEIGHT - BOTTOM}" stroke="#888"'
            ' stroke-dasharray="2 3"/>'
        )
    if known:
        coordinates = " ".join(f"{frame.x(i):.1f},{frame.y(v):.1f}" for i, (_, v) in enumerate(known))
        parts.append(f'<polyline points="{coordinates}" fill="none" stroke="{HISTORY}" stroke-width="2"/>')
    for index, (month, value) in enumerate(known):
        tip = f"{month} · value: {money(value, currency)}"
        parts.append(
            f'<a href="#month-{escape(month)}" tabindex="-1"><circle cx="{frame.x(index):.1f}"'
            f' cy="{frame.y(value):.1f}" r="3" fill="{HISTORY}"><title>{escape(tip)}</title></circle></a>'
        )
    for offset, (month, value, low_80, high_80, low_95, high_95) in enumerate(ahead):
        tip = (
            f"{month} · forecast: {money(value, currency)}; 80 %: {money(low_80, currency)} to "
            f"{money(high_80, currency)}; 95 %: {money(low_95, currency)} to {money(high_95, currency)}"
        )
        parts.append(
            f'<a href="#forecast-{escape(month)}" tabindex="-1"><circle cx="{frame.x(start + offset):.1f}"'
            f' cy="{frame.y(value):.1f}" r="3.5" fill="{FORECAST}"><title>{escape(tip)}</title></circle></a>'
        )
    parts.append("</svg>")
    parts.append(
        chart_legend(
            [("Known value", HISTORY), ("Forecast", FORECAST), ("80 % range", BAND_80), ("95 % range", BAND_95)]
        )
    )
    return _safe(parts)
