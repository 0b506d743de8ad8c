"""Months written as text: the one reader of `YYYY-MM`.

Plain Python (no Django), so the engine, the API fields, the pages and the closed periods
all read a month the same way and each turns the one error into its own message.
"""

from __future__ import annotations

from datetime import date

# A month as `parse_month` reads it, in the years events may fall in (roi.event_fields),
# for OpenAPI patterns and the API's query fields.
MONTH_PATTERN = r"^(19|2\d)\d\d-(0[1-9]|1[0-2])$"


def parse_month(text: str) -> date:
    """`"2026-03"` as the first of March 2026; ValueError for anything else.

    Exactly four digits, a hyphen and two digits (01 to 12): `2026-3`, ` 2026-03` and
    `2026-03-01` are not months.
    """
    digits = text[:4] + text[5:]
    if len(text) != 7 or text[4] != "-" or not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"{text!r} is not a month written YYYY-MM")
    return date(int(text[:4]), int(text[5:]), 1)  # ValueError for month 00 or 13, year 0000
