"""The fiscal calendar: month arithmetic and a tenant's fiscal years, quarters and months.

A tenant's fiscal year starts on the first of `Tenant.fiscal_year_start_month`. Months are
`date`s on the first of the month. Two names for a fiscal year are in use, both kept: a
period label (FY2026, 2026-Q3) names it by the calendar year it ends in, as finance does;
an IT budget is stored under the calendar year it starts in (`fiscal_year_start(...).year`).
Pure functions, no database: the reports, the alerts, the dashboards and the budgets all
read the calendar here, so they cannot disagree about where a year begins.
"""

from __future__ import annotations

from datetime import date

MONTHS_PER_YEAR = 12
MONTHS_PER_QUARTER = 3


def add_months(month: date, count: int) -> date:
    """The first of the month `count` months after `month` (before it when negative)."""
    index = month.year * MONTHS_PER_YEAR + month.month - 1 + count
    return date(index // MONTHS_PER_YEAR, index % MONTHS_PER_YEAR + 1, 1)


def months_apart(first: date, last: date) -> int:
    """How many months `last` is after `first` (negative when before), whatever their days."""
    return (last.year - first.year) * MONTHS_PER_YEAR + last.month - first.month


def months_between(start: date, end: date) -> list[date]:
    """The months from `start` to `end`, both included (none when `end` is before `start`)."""
    months, month = [], start
    while month <= end:
        months.append(month)
        month = add_months(month, 1)
    return months


def fiscal_year_start(month: date, start_month: int) -> date:
    """The first month of the fiscal year holding `month`."""
    year = month.year if month.month >= start_month else month.year - 1
    return date(year, start_month, 1)


def fiscal_year_of(month: date, start_month: int) -> int:
    """The fiscal year a month belongs to, named by the calendar year it ends in (FY2026 ends in 2026)."""
    return add_months(fiscal_year_start(month, start_month), MONTHS_PER_YEAR - 1).year


def fiscal_month_index(month: date, start_month: int) -> int:
    """Where `month` falls in its fiscal year: 0 for the first month, 11 for the last."""
    return (month.month - start_month) % MONTHS_PER_YEAR


def fiscal_quarter_of(month: date, start_month: int) -> int:
    """The fiscal quarter (1 to 4) holding `month`."""
    return fiscal_month_index(month, start_month) // MONTHS_PER_QUARTER + 1


def fiscal_year_months(fiscal_year: int, start_month: int) -> tuple[date, date]:
    """The first and last month of the fiscal year named (as FY labels are) by the year it ends in."""
    first = date(fiscal_year - 1 if start_month > 1 else fiscal_year, start_month, 1)
    return first, add_months(first, MONTHS_PER_YEAR - 1)


def fiscal_quarter_months(fiscal_year: int, quarter: int, start_month: int) -> tuple[date, date]:
    """The first and last month of quarter 1 to 4 of a fiscal year named by the year it ends in."""
    first = add_months(fiscal_year_months(fiscal_year, start_month)[0], MONTHS_PER_QUARTER * (quarter - 1))
    return first, add_months(first, MONTHS_PER_QUARTER - 1)


def last_closing_month(month: date, start_month: int, length: int) -> date:
    """The latest month at or before `month` that closes a fiscal period of `length` months (1, 3 or 12)."""
    while (fiscal_month_index(month, start_month) + 1) % length:
        month = add_months(month, -1)
    return month
