"""The one reader of a month written YYYY-MM."""

import re
from datetime import date

import pytest

from governance.months import MONTH_PATTERN, parse_month


@pytest.mark.parametrize(
    ("text", "month"), [("2026-03", date(2026, 3, 1)), ("1999-12", date(1999, 12, 1)), ("0001-01", date(1, 1, 1))]
)
def test_a_month_is_the_first_of_that_month(text: str, month: date) -> None:
    assert parse_month(text) == month


@pytest.mark.parametrize(
    "text",
    [
        "2026-3",
        "2026-13",
        "2026-00",
        "0000-01",
        "2026-03-01",
        " 2026-03",
        "2026/03",
        "",
        "yyyy-mm",
        "٢٠٢٦-03",
        "+026-03",
    ],
)
def test_anything_else_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_month(text)


@pytest.mark.parametrize("text", ["1900-01", "2026-03", "2999-12"])
def test_the_documented_pattern_matches_what_is_read(text: str) -> None:
    assert re.fullmatch(MONTH_PATTERN, text) and parse_month(text)
