"""The typed fields an event kind declares: each reads itself from an event object and from a CSV cell.

A field is declared once, in its kind's module; the kind's parser reads the fields in the
order declared, the API's serializer lists them in that order, and the CSV import reads
their cells with them. The checks and messages are `roi.event_fields.FieldReader`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from roi.event_fields import MAX_RUNS, MAX_TEXT, QUANTITY_PLACES, FieldReader

# How a CSV cell spells a list and a boolean (numbers and times stay text: the parser reads them exactly).
LIST_SEPARATOR = ";"
TRUE_WORDS = frozenset({"true", "1", "yes"})
FALSE_WORDS = frozenset({"false", "0", "no"})


@dataclass(frozen=True, slots=True)
class Field:
    """One field of an event kind.

    `deferred`: left to the kind's `check`, which reads it after the others because whether
    or how it is read depends on them (an incident's downtime, read once the times are known).
    """

    name: str
    required: bool = False
    deferred: bool = False

    def read(self, reader: FieldReader) -> Any:
        raise NotImplementedError

    def from_cell(self, text: str) -> Any:
        """The value a CSV cell (stripped, not empty) stands for in an event object."""
        return text


@dataclass(frozen=True, slots=True)
class Text(Field):
    max_length: int = MAX_TEXT

    def read(self, reader: FieldReader) -> str:
        return reader.text(self.name, required=self.required, max_length=self.max_length)


@dataclass(frozen=True, slots=True)
class Choice(Field):
    choices: tuple[str, ...] = ()

    def read(self, reader: FieldReader) -> str:
        return reader.choice(self.name, self.choices, required=self.required)


@dataclass(frozen=True, slots=True)
class Moment(Field):
    def read(self, reader: FieldReader) -> Any:
        return reader.moment(self.name, required=self.required)


@dataclass(frozen=True, slots=True)
class Number(Field):
    default: Decimal | None = None
    minimum: Decimal | None = Decimal(0)
    maximum: Decimal | None = None
    places: int = QUANTITY_PLACES

    def read(self, reader: FieldReader) -> Decimal | None:
        return reader.number(
            self.name,
            required=self.required,
            default=self.default,
            minimum=self.minimum,
            maximum=self.maximum,
            places=self.places,
        )


@dataclass(frozen=True, slots=True)
class Share(Field):
    """A number from 0 to 1."""

    default: Decimal | None = None

    def read(self, reader: FieldReader) -> Decimal | None:
        return reader.share(self.name, default=self.default)


@dataclass(frozen=True, slots=True)
class Integer(Field):
    default: int = 0
    minimum: int = 0
    maximum: int = MAX_RUNS

    def read(self, reader: FieldReader) -> int:
        return reader.integer(self.name, default=self.default, minimum=self.minimum, maximum=self.maximum)


@dataclass(frozen=True, slots=True)
class Flag(Field):
    def read(self, reader: FieldReader) -> bool:
        return reader.flag(self.name)

    def from_cell(self, text: str) -> Any:
        word = text.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        return text  # left for the parser to refuse, naming the field


@dataclass(frozen=True, slots=True)
class Strings(Field):
    def read(self, reader: FieldReader) -> list[str]:
        return reader.strings(self.name)

    def from_cell(self, text: str) -> list[str]:
        return [item.strip() for item in text.split(LIST_SEPARATOR) if item.strip()]


# Every kind's first fields, read before its own.
COMMON_FIELDS: tuple[Field, ...] = (
    Text("external_id", required=True),
    Text("department", max_length=100),
    Text("product", max_length=100),
)
