"""The typed fields an event kind declares: each reads itself from an event object and from a CSV cell.

A field is declared once, in its kind's module; the kind's parser reads the fields in the
order declared, the API's serializer lists them in that order, and the CSV import reads
their cells with them. The checks and messages are `roi.event_fields.FieldReader`'s.
"""

from __future__ import annotations

from collections.abc import Callable
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
        return self.reading()(reader)

    def reading(self) -> Callable[[FieldReader], Any]:
        """The reader's method for this field with its options bound (a kind's parser calls it for every
        event of a batch: a bound call costs less than going through `read`)."""
        raise NotImplementedError

    def from_cell(self, text: str) -> Any:
        """The value a CSV cell (stripped, not empty) stands for in an event object."""
        return text


@dataclass(frozen=True, slots=True)
class Text(Field):
    max_length: int = MAX_TEXT

    def reading(self) -> Callable[[FieldReader], Any]:
        name, required, max_length = self.name, self.required, self.max_length
        return lambda reader: reader.text(name, required=required, max_length=max_length)


@dataclass(frozen=True, slots=True)
class Choice(Field):
    choices: tuple[str, ...] = ()

    def reading(self) -> Callable[[FieldReader], Any]:
        name, choices, required = self.name, self.choices, self.required
        return lambda reader: reader.choice(name, choices, required=required)


@dataclass(frozen=True, slots=True)
class Moment(Field):
    def reading(self) -> Callable[[FieldReader], Any]:
        name, required = self.name, self.required
        return lambda reader: reader.moment(name, required=required)


@dataclass(frozen=True, slots=True)
class Number(Field):
    default: Decimal | None = None
    minimum: Decimal | None = Decimal(0)
    maximum: Decimal | None = None
    places: int = QUANTITY_PLACES

    def reading(self) -> Callable[[FieldReader], Any]:
        name, required, default, minimum, maximum, places = (
            self.name,
            self.required,
            self.default,
            self.minimum,
            self.maximum,
            self.places,
        )
        return lambda reader: reader.number(
            name, required=required, default=default, minimum=minimum, maximum=maximum, places=places
        )


@dataclass(frozen=True, slots=True)
class Share(Field):
    """A number from 0 to 1."""

    default: Decimal | None = None

    def reading(self) -> Callable[[FieldReader], Any]:
        name, default = self.name, self.default
        return lambda reader: reader.share(name, default=default)


@dataclass(frozen=True, slots=True)
class Integer(Field):
    default: int = 0
    minimum: int = 0
    maximum: int = MAX_RUNS

    def reading(self) -> Callable[[FieldReader], Any]:
        name, default, minimum, maximum = self.name, self.default, self.minimum, self.maximum
        return lambda reader: reader.integer(name, default=default, minimum=minimum, maximum=maximum)


@dataclass(frozen=True, slots=True)
class Flag(Field):
    def reading(self) -> Callable[[FieldReader], Any]:
        name = self.name
        return lambda reader: reader.flag(name)

    def from_cell(self, text: str) -> Any:
        word = text.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        return text  # left for the parser to refuse, naming the field


@dataclass(frozen=True, slots=True)
class Strings(Field):
    def reading(self) -> Callable[[FieldReader], Any]:
        name = self.name
        return lambda reader: reader.strings(name)

    def from_cell(self, text: str) -> list[str]:
        return [item.strip() for item in text.split(LIST_SEPARATOR) if item.strip()]


# Every kind's first fields, read before its own.
COMMON_FIELDS: tuple[Field, ...] = (
    Text("external_id", required=True),
    Text("department", max_length=100),
    Text("product", max_length=100),
)
