"""Report periods: the labels a report is asked for (2026-10, 2026-Q3, FY2026) and their months.

The months come from the tenant's fiscal calendar (`governance.fiscal`); this module only
reads and writes the labels.
"""

from __future__ import annotations

import re
from datetime import date

from dashboards.models import ReportKind
from governance.fiscal import (
    add_months,
    fiscal_quarter_months,
    fiscal_quarter_of,
    fiscal_year_months,
    fiscal_year_of,
    last_closing_month,
)

# Years 1900 to 2999, as for event times (roi.event_fields): FY0236 would be no date at all.
_YEAR = r"(?P<year>(19|2\d)\d\d)"
PERIOD_PATTERNS = {
    ReportKind.MONTHLY: re.compile(rf"^{_YEAR}-(?P<month>\d{{2}})$"),
    ReportKind.QUARTERLY: re.compile(rf"^{_YEAR}-Q(?P<quarter>[1-4])$"),
    ReportKind.ANNUAL: re.compile(rf"^FY{_YEAR}$"),
}
PERIOD_EXAMPLES = {ReportKind.MONTHLY: "2026-10", ReportKind.QUARTERLY: "2026-Q3", ReportKind.ANNUAL: "FY2026"}
# Months in a period of each kind: a period closes with the fiscal month that ends one.
PERIOD_LENGTHS = {ReportKind.MONTHLY: 1, ReportKind.QUARTERLY: 3, ReportKind.ANNUAL: 12}


class ReportRefused(ValueError):
    """A report that cannot be made (unknown kind, malformed or unfinished period)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.errors = {field: [message]}


def period_months(*, kind: str, period: str, start_month: int) -> tuple[date, date]:
    """The first and last month of a period label on a fiscal calendar starting in `start_month`."""
    if kind not in ReportKind.values:
        raise ReportRefused("kind", f"must be one of {', '.join(ReportKind.values)}")
    found = PERIOD_PATTERNS[ReportKind(kind)].match(period or "")
    if found is None:
        raise ReportRefused("period", f"a {kind} period looks like {PERIOD_EXAMPLES[ReportKind(kind)]}")
    year = int(found["year"])
    if kind == ReportKind.MONTHLY:
        if not 1 <= int(found["month"]) <= 12:
            raise ReportRefused("period", "month must be 01 to 12")
        first = date(year, int(found["month"]), 1)
        return first, first
    if kind == ReportKind.QUARTERLY:
        return fiscal_quarter_months(year, int(found["quarter"]), start_month)
    return fiscal_year_months(year, start_month)


def period_label(*, kind: str, last_month: date, start_month: int) -> str:
    """The label of the period of `kind` that ends with `last_month`."""
    if kind == ReportKind.MONTHLY:
        return f"{last_month:%Y-%m}"
    fiscal_year = fiscal_year_of(last_month, start_month)
    if kind == ReportKind.QUARTERLY:
        return f"{fiscal_year}-Q{fiscal_quarter_of(last_month, start_month)}"
    return f"FY{fiscal_year}"


def periods_just_closed(*, today: date, start_month: int) -> dict[str, str]:
    """The most recent closed period of each kind: what the daily schedule makes sure exists.

    Always the latest closed one rather than "closed today", so a day the schedule missed
    is caught up the next day; generation is idempotent, so repeating costs nothing.
    """
    last = add_months(today.replace(day=1), -1)
    return {
        kind.value: period_label(
            kind=kind, last_month=last_closing_month(last, start_month, length), start_month=start_month
        )
        for kind, length in PERIOD_LENGTHS.items()
    }
