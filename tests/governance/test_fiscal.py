"""The fiscal calendar: pure date arithmetic, no database."""

from datetime import date

import pytest

from governance import fiscal


@pytest.mark.parametrize(
    ("month", "start_month", "year_start", "fiscal_year", "quarter"),
    [
        (date(2026, 1, 1), 1, date(2026, 1, 1), 2026, 1),
        (date(2026, 12, 1), 1, date(2026, 1, 1), 2026, 4),
        (date(2026, 3, 1), 4, date(2025, 4, 1), 2026, 4),
        (date(2026, 4, 1), 4, date(2026, 4, 1), 2027, 1),
        (date(2026, 9, 1), 7, date(2026, 7, 1), 2027, 1),
        (date(2026, 6, 1), 7, date(2025, 7, 1), 2026, 4),
    ],
)
def test_it_places_a_month_in_its_fiscal_year_and_quarter(
    month: date, start_month: int, year_start: date, fiscal_year: int, quarter: int
) -> None:
    assert fiscal.fiscal_year_start(month, start_month) == year_start
    assert fiscal.fiscal_year_of(month, start_month) == fiscal_year
    assert fiscal.fiscal_quarter_of(month, start_month) == quarter
    first, last = fiscal.fiscal_year_months(fiscal_year, start_month)
    assert first == year_start and first <= month <= last
    assert len(fiscal.months_between(first, last)) == 12


@pytest.mark.parametrize(
    ("fiscal_year", "quarter", "start_month", "months"),
    [
        (2026, 1, 1, (date(2026, 1, 1), date(2026, 3, 1))),
        (2026, 1, 4, (date(2025, 4, 1), date(2025, 6, 1))),
        (2026, 4, 4, (date(2026, 1, 1), date(2026, 3, 1))),
        (2027, 3, 11, (date(2027, 5, 1), date(2027, 7, 1))),
    ],
)
def test_it_finds_a_fiscal_quarters_months(
    fiscal_year: int, quarter: int, start_month: int, months: tuple[date, date]
) -> None:
    assert fiscal.fiscal_quarter_months(fiscal_year, quarter, start_month) == months


@pytest.mark.parametrize(
    ("month", "start_month", "length", "closing"),
    [
        (date(2026, 5, 1), 1, 1, date(2026, 5, 1)),
        (date(2026, 5, 1), 1, 3, date(2026, 3, 1)),
        (date(2026, 5, 1), 1, 12, date(2025, 12, 1)),
        (date(2026, 5, 1), 4, 3, date(2026, 3, 1)),
        (date(2026, 6, 1), 4, 3, date(2026, 6, 1)),
        (date(2026, 5, 1), 4, 12, date(2026, 3, 1)),
    ],
)
def test_it_finds_the_last_month_closing_a_period(month: date, start_month: int, length: int, closing: date) -> None:
    assert fiscal.last_closing_month(month, start_month, length) == closing


def test_month_arithmetic_crosses_years() -> None:
    assert fiscal.add_months(date(2026, 11, 1), 3) == date(2027, 2, 1)
    assert fiscal.add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert fiscal.months_between(date(2026, 3, 1), date(2026, 2, 1)) == []


@pytest.mark.parametrize(
    ("first", "last", "apart"),
    [
        (date(2026, 1, 1), date(2026, 1, 31), 0),
        (date(2025, 11, 15), date(2026, 2, 1), 3),
        (date(2026, 3, 1), date(2025, 3, 1), -12),
    ],
)
def test_months_apart_counts_calendar_months_whatever_the_days(first: date, last: date, apart: int) -> None:
    assert fiscal.months_apart(first, last) == apart
    assert fiscal.add_months(first.replace(day=1), apart) == last.replace(day=1)
