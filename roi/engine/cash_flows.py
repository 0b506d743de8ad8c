"""Discounted cash flows: present value, payback and the internal rate of return, in Decimal.

Pure functions over a sequence of per-period net flows (index 0 at time 0, undiscounted),
shared by the investment cases (`investment_roi`, `cash_flow_roi`) and the dashboards'
payback of an investment to date.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from itertools import pairwise

from .money import MONTHS_PER_YEAR, ONE, ZERO

IRR_TOLERANCE = Decimal("1e-20")
IRR_MAX_ITERATIONS = 300
# Candidate per-period rates bracketing IRR roots; from near -100 % to absurdly high.
IRR_GRID = tuple(
    Decimal(text)
    for text in (
        "-0.9999",
        "-0.999",
        "-0.99",
        "-0.95",
        "-0.9",
        "-0.8",
        "-0.6",
        "-0.4",
        "-0.2",
        "-0.1",
        "-0.05",
        "-0.02",
        "-0.01",
        "0",
        "0.005",
        "0.01",
        "0.02",
        "0.05",
        "0.1",
        "0.2",
        "0.5",
        "1",
        "2",
        "5",
        "10",
        "100",
        "1000",
        "1000000",
    )
)
# Searched (v2 on) only when IRR_GRID brackets no root though the flows change sign: a
# rate within 1e-5 of -100 % (nearly everything lost) or above 1,000,000 % a period.
# Written out as -0.99...9 (1e-digits - 1, exactly; subtracting would round at 28 digits).
IRR_BEYOND_BELOW = (*(Decimal("-0." + "9" * digits) for digits in (40, 30, 20, 15, 12, 10, 8, 6, 5)), IRR_GRID[0])
IRR_BEYOND_ABOVE = (IRR_GRID[-1], *(Decimal(f"1e{digits}") for digits in (7, 8, 10, 12, 15, 20, 30, 40)))


def monthly_rate(annual_rate: Decimal) -> Decimal:
    """Monthly rate equivalent to ``annual_rate`` compounded: (1 + a)^(1/12) - 1."""
    return (ONE + annual_rate) ** (ONE / MONTHS_PER_YEAR) - ONE


def present_value(flows: Sequence[Decimal], rate: Decimal) -> Decimal:
    """Σ flows[t] / (1 + rate)^t with index 0 undiscounted (Horner's rule, exact order)."""
    discount = ONE / (ONE + rate)
    total = ZERO
    for flow in reversed(flows):
        total = total * discount + flow
    return total


def payback(net_flows: Sequence[Decimal]) -> Decimal | None:
    """Periods until cumulative net first climbs back to ≥ 0, linear inside the period.

    Index 0 is the initial outlay at time 0. A case that is never under water pays back
    at 0; one that never recovers has no payback (``None``).
    """
    cumulative: list[Decimal] = []
    running = ZERO
    for flow in net_flows:
        running += flow
        cumulative.append(running)
    first_negative = next((t for t, value in enumerate(cumulative) if value < 0), None)
    if first_negative is None:
        return ZERO
    for t in range(first_negative + 1, len(cumulative)):
        if cumulative[t] >= 0:
            # Benefits accrue evenly across the period, so interpolate inside it.
            return Decimal(t - 1) + (-cumulative[t - 1]) / net_flows[t]
    return None


def internal_rate(net_flows: Sequence[Decimal], *, beyond_grid: bool = True) -> Decimal | None:
    """Per-period IRR by bisection in Decimal; ``None`` when flows never change sign.

    Bisection (not Newton) because it cannot diverge; with several roots, the one
    nearest zero is reported. ``beyond_grid=False`` is version 1, which looked for a root
    only between -99.99 % and 1,000,000 % a period and otherwise answered ``None``.
    """
    if not any(flow > 0 for flow in net_flows) or not any(flow < 0 for flow in net_flows):
        return None
    found = _bracket(net_flows, IRR_GRID)
    if found is None and beyond_grid:
        # Beyond the grid there is at most a root below it and one above; nearer zero first.
        found = _bracket(net_flows, IRR_BEYOND_BELOW) or _bracket(net_flows, IRR_BEYOND_ABOVE)
    if found is None or isinstance(found, Decimal):
        return found
    low, f_low, high = found
    for _ in range(IRR_MAX_ITERATIONS):
        middle = (low + high) / 2
        f_middle = present_value(net_flows, middle)
        if f_middle.is_zero() or high - low < IRR_TOLERANCE:
            return middle
        if (f_middle < 0) == (f_low < 0):
            low, f_low = middle, f_middle
        else:
            high = middle
    return (low + high) / 2


def _bracket(
    net_flows: Sequence[Decimal], grid: Sequence[Decimal]
) -> Decimal | tuple[Decimal, Decimal, Decimal] | None:
    """A grid rate that is an exact root, else ``(low, npv(low), high)`` around the root
    nearest zero, else ``None``."""
    values = [(rate, present_value(net_flows, rate)) for rate in grid]
    brackets: list[tuple[Decimal, Decimal, Decimal, Decimal]] = []
    for (low, f_low), (high, f_high) in pairwise(values):
        if f_low.is_zero():
            return low
        if (f_low < 0) != (f_high < 0):
            brackets.append((low, f_low, high, f_high))
    if values[-1][1].is_zero():
        return values[-1][0]
    if not brackets:
        return None
    low, f_low, high, _ = min(brackets, key=lambda b: abs(b[0] + b[2]))
    return low, f_low, high
