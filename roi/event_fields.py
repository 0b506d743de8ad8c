"""Reading the fields of one event object: typed values, every error collected and named.

Plain functions over plain dicts (no serializer per object): the bulk path parses 10,000
events a request, and a batch is refused whole if any item is wrong. Which fields each kind
has is declared in `roi.kinds`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.dateparse import parse_datetime

from governance.text import UNSTORABLE_MESSAGE, storable
from roi.engine import EngineInputError
from roi.engine.inputs import SchemaProbe, number_schema
from roi.engine.money import to_decimal

SEVERITIES = ("sev1", "sev2", "sev3", "sev4")
MAX_TEXT = 200
MAX_RUNS = 10_000_000


UNSTORABLE = UNSTORABLE_MESSAGE
# Event times must fall in these years (UTC): an event is counted in its month in the
# tenant's time zone, and a time at the edge of Python's range (9999-12-31T23:59-12:00)
# has no such month.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999
# The decimal places the event tables keep (roi.models.events): a number is read to the
# precision its column holds, so the engine values, and the ledger records, what the row
# stores, and verification compares like with like ("7.3333333" minutes is kept as 7.333333).
MONEY_PLACES, QUANTITY_PLACES = 2, 6


def to_places(number: Decimal, places: int) -> Decimal:
    """`number` rounded half away from zero to `places` decimals, as PostgreSQL's numeric rounds;
    a number written with fewer places is left as written."""
    exponent = number.as_tuple().exponent  # an int for a finite number
    if not isinstance(exponent, int) or exponent >= -places:
        return number
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


# The same years for the schema, which cannot compare a date-time: it starts 19xx or 2xxx.
YEARS_PATTERN = r"^(19|2\d)\d\d-"


class FieldReader:
    """Reads typed fields from one event object, collecting `{field: [messages]}`."""

    def __init__(self, data: Mapping[str, Any], allowed: set[str] | frozenset[str]) -> None:
        self.data = data
        self.errors: dict[str, list[str]] = {}
        self.probe = data if isinstance(data, SchemaProbe) else None
        if self.probe is not None:
            self.probe.allowed |= set(allowed)
        for key in data:
            if key not in allowed:
                self.fail(str(key), "is not a field of this event kind")

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def declare(self, name: str, schema: dict[str, Any], *, required: bool = False) -> None:
        """Record the field's schema when probed for it (see `event_schema`); nothing otherwise."""
        if self.probe is not None:
            self.probe.declare(name, schema, required=required)

    def present(self, name: str) -> bool:
        return self.data.get(name) is not None

    def text(self, name: str, *, required: bool = False, max_length: int = MAX_TEXT, default: str = "") -> str:
        # Stripped before it is measured; a required text needs more than blanks.
        self.declare(
            name,
            {"type": "string", "maxLength": max_length, **({"pattern": r"\S"} if required else {})},
            required=required,
        )
        value = self.data.get(name)
        if value is None:
            if required:
                self.fail(name, "is required")
            return default
        if not isinstance(value, str):
            self.fail(name, "must be a string")
            return default
        value = value.strip()
        if not storable(value):
            self.fail(name, UNSTORABLE)
            return default
        if required and not value:
            self.fail(name, "must not be blank")
        if len(value) > max_length:
            self.fail(name, f"must be at most {max_length} characters")
        return value

    def choice(self, name: str, choices: tuple[str, ...], *, required: bool = False) -> str:
        self.declare(name, {"type": "string", "enum": list(choices)}, required=required)
        value = self.text(name, required=required)
        if value and value not in choices:
            self.fail(name, f"must be one of {', '.join(choices)}")
        return value

    def moment(self, name: str, *, required: bool = False) -> datetime | None:
        self.declare(name, {"type": "string", "format": "date-time", "pattern": YEARS_PATTERN}, required=required)
        value = self.data.get(name)
        if value is None:
            if required:
                self.fail(name, "is required")
            return None
        parsed = None
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
        if parsed is None:
            self.fail(name, "must be an ISO 8601 date-time, e.g. 2026-11-02T14:05:00+00:00")
            return None
        if parsed.tzinfo is None:
            self.fail(name, "must carry a UTC offset (e.g. Z or +01:00)")
            return None
        try:
            year = parsed.astimezone(UTC).year
        except OverflowError:
            year = 0
        if not EARLIEST_YEAR <= year <= LATEST_YEAR:
            self.fail(name, f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
            return None
        # The same instant in UTC: PostgreSQL takes offsets up to 15:59 only, Python (and the
        # schema's date-time) up to 23:59, and +21:37 would otherwise fail the COPY with a 500.
        return parsed.astimezone(UTC)

    def number(
        self,
        name: str,
        *,
        required: bool = False,
        default: Decimal | None = None,
        minimum: Decimal | None = Decimal(0),
        maximum: Decimal | None = None,
        places: int = QUANTITY_PLACES,
    ) -> Decimal | None:
        self.declare(
            name, number_schema(allow_negative=minimum is None, minimum=minimum, maximum=maximum), required=required
        )
        value = self.data.get(name)
        if value is None:
            if required:
                self.fail(name, "is required")
            return default
        if isinstance(value, bool):
            self.fail(name, "must be a number")
            return default
        try:
            number = to_decimal(value, name)
        except EngineInputError as error:
            for message in error.errors.get(name, ["is not a number"]):
                self.fail(name, message)
            return default
        if minimum is not None and number < minimum:
            self.fail(name, f"must be at least {minimum}")
        if maximum is not None and number > maximum:
            self.fail(name, f"must be at most {maximum}")
        return to_places(number, places)

    def share(self, name: str, *, default: Decimal | None) -> Decimal | None:
        return self.number(name, default=default, minimum=Decimal(0), maximum=Decimal(1))

    def integer(self, name: str, *, default: int, minimum: int = 0, maximum: int = MAX_RUNS) -> int:
        self.declare(name, {"type": "integer", "minimum": minimum, "maximum": maximum})
        value = self.data.get(name)
        if value is None:
            return default
        if type(value) is int:  # the usual JSON integer: no detour through Decimal
            if not minimum <= value <= maximum:
                self.fail(name, f"must be between {minimum} and {maximum}")
                return default
            return value
        if isinstance(value, bool) or not isinstance(value, int | str | float | Decimal):
            self.fail(name, "must be a whole number")
            return default
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            self.fail(name, "must be a whole number")
            return default
        if not number.is_finite() or number != number.to_integral_value():
            self.fail(name, "must be a whole number")
            return default
        if not minimum <= number <= maximum:
            self.fail(name, f"must be between {minimum} and {maximum}")
            return default
        return int(number)

    def flag(self, name: str, *, default: bool = False) -> bool:
        self.declare(name, {"type": "boolean"})
        if self.probe is not None:
            return self.probe.flags
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(name, "must be true or false")
            return default
        return value

    def strings(self, name: str) -> list[str]:
        self.declare(name, {"type": "array", "items": {"type": "string", "maxLength": MAX_TEXT}, "maxItems": 200})
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) and len(item) <= MAX_TEXT for item in value):
            self.fail(name, "must be a list of strings")
            return []
        if len(value) > 200:
            self.fail(name, "must list at most 200 items")
        if not all(storable(item) for item in value):
            self.fail(name, UNSTORABLE)
            return []
        return value
