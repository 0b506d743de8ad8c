"""Query-string fields whose OpenAPI description carries the bounds the server checks.

A filter serializer is both what the server validates with and, passed to
`extend_schema(parameters=[...])`, what the schema documents: one declaration for both.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.months import MONTH_PATTERN, parse_month
from roi.event_fields import EARLIEST_YEAR, LATEST_YEAR, YEARS_PATTERN


@extend_schema_field({"type": "string", "pattern": MONTH_PATTERN, "example": "2026-11"})
class MonthField(serializers.RegexField):
    """A month as YYYY-MM, between the years EARLIEST_YEAR and LATEST_YEAR."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "error_messages", {"invalid": f"Use a month (YYYY-MM) from {EARLIEST_YEAR} to {LATEST_YEAR}."}
        )
        super().__init__(MONTH_PATTERN, **kwargs)


@extend_schema_field({"type": "string", "format": "date", "pattern": YEARS_PATTERN})
class YearBoundDateField(serializers.DateField):
    """A date (YYYY-MM-DD) between the years EARLIEST_YEAR and LATEST_YEAR."""

    def to_internal_value(self, value: Any) -> dt.date:
        day: dt.date = super().to_internal_value(value)
        if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            raise serializers.ValidationError(f"Use a date between {EARLIEST_YEAR} and {LATEST_YEAR}.")
        return day


def _parse_day(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%Y-%m-%d").date()


@extend_schema_field(
    {"type": "string", "anyOf": [{"pattern": MONTH_PATTERN}, {"format": "date", "pattern": YEARS_PATTERN}]}
)
class MonthOrDayField(serializers.Field):
    """A month (YYYY-MM), or a day (YYYY-MM-DD) standing for its month: the first of that month."""

    def to_internal_value(self, data: Any) -> dt.date:
        for parse in (parse_month, _parse_day):
            try:
                parsed = parse(str(data))
            except ValueError:
                continue
            if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
                raise serializers.ValidationError(f"Use a month between {EARLIEST_YEAR} and {LATEST_YEAR}.")
            return parsed.replace(day=1)
        raise serializers.ValidationError("Use a month (YYYY-MM) or a date (YYYY-MM-DD).")

    def to_representation(self, value: dt.date) -> str:
        return f"{value:%Y-%m}"
