"""Parsing of flat, JSON-shaped method inputs into typed values with field-named errors.

Every method's ``run`` reads its inputs through an ``InputReader`` so that one request
gets all of its field errors back at once, and nothing but ``EngineInputError`` escapes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import suppress
from datetime import datetime
from decimal import Decimal
from typing import Any

from .money import MAX_MAGNITUDE, ZERO, EngineInputError, to_decimal, to_int, to_share

_MISSING = object()


class SchemaProbe(dict[str, Any]):
    """An empty input that records, as JSON Schema, every field a parser reads from it.

    The API documents a method's body by running its parser over a probe
    (``probed_schema``), so the schema is the parser's own declaration, never a second copy.
    ``flags`` is what every boolean read answers, to reach fields read only when one is set.
    """

    def __init__(self, *, flags: bool = False) -> None:
        super().__init__()
        self.flags = flags
        self.properties: dict[str, dict[str, Any]] = {}
        self.required: list[str] = []
        # Groups of fields one of which must be given, and whether they exclude each other.
        self.alternatives: list[tuple[tuple[tuple[str, ...], ...], bool]] = []
        self.allowed: set[str] = set()

    def declare(self, field: str, schema: dict[str, Any], *, required: bool) -> None:
        self.properties.setdefault(field, schema)
        in_alternative = any(field in group for groups, _ in self.alternatives for group in groups)
        if required and not in_alternative and field not in self.required:
            self.required.append(field)


def number_schema(
    *, allow_negative: bool = False, minimum: Decimal | None = None, maximum: Decimal | None = None
) -> dict[str, Any]:
    """The JSON Schema of what ``to_decimal`` accepts with these bounds."""
    low = minimum if minimum is not None else (-MAX_MAGNITUDE if allow_negative else ZERO)
    high = maximum if maximum is not None else MAX_MAGNITUDE
    return {
        "type": "number",
        "minimum": _json_number(max(low, -MAX_MAGNITUDE)),
        "maximum": _json_number(min(high, MAX_MAGNITUDE)),
    }


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def probed_schema(parse: Any, *, server_filled: Iterable[str] = ()) -> dict[str, Any]:
    """The JSON Schema of the object ``parse`` accepts, from probing it with booleans off, then on.

    A field is required when every probe requires it; ``server_filled`` names fields the
    server chooses when they are missing (e.g. a Monte Carlo seed).
    """
    probes = [SchemaProbe(flags=False), SchemaProbe(flags=True)]
    for probe in probes:
        with suppress(EngineInputError):  # the probe gives nothing, so required fields fail
            parse(probe)
    properties: dict[str, Any] = {}
    for probe in probes:
        for name, property_schema in probe.properties.items():
            properties.setdefault(name, property_schema)
    for name in sorted(probes[0].allowed - set(properties)):
        properties[name] = {}
    filled = set(server_filled)
    required = [name for name in probes[0].required if name not in filled and all(name in p.required for p in probes)]
    # The readers take null for "not given": an optional field may be null; a required one, or
    # one of a group that must be given, may not.
    given = dict(properties)  # a field named by an either-or branch must be there and not null
    for name, field_schema in properties.items():
        if name not in required and field_schema:
            properties[name] = {**field_schema, "nullable": True}
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    choices = [_choice(groups, exclusive=exclusive, given=given) for groups, exclusive in probes[0].alternatives]
    if choices:
        schema["allOf"] = choices
    return schema


def _choice(
    groups: tuple[tuple[str, ...], ...], *, exclusive: bool, given: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """One of several groups of fields must be given, not null; if `exclusive`, a group's first
    field rules out the other groups' first fields (monthly_benefit or benefits, not both)."""
    branches = []
    for group in groups:
        branch: dict[str, Any] = {"required": list(group), "properties": {name: given[name] for name in group}}
        others = [
            {"required": [other[0]], "properties": {other[0]: given[other[0]]}}
            for other in groups
            if other is not group
        ]
        if exclusive:
            branch["not"] = {"anyOf": others}
        branches.append(branch)
    return {"anyOf": branches}


class InputReader:
    """Collects typed values and field errors from one flat input mapping."""

    def __init__(self, inputs: Mapping[str, Any], *, allowed: Iterable[str]) -> None:
        if not isinstance(inputs, Mapping):
            raise EngineInputError("inputs", "must be an object")
        self.inputs = inputs
        self.errors: dict[str, list[str]] = {}
        allowed_names = set(allowed)
        self.probe = inputs if isinstance(inputs, SchemaProbe) else None
        if self.probe is not None:
            self.probe.allowed |= allowed_names
        for name in inputs:
            if name not in allowed_names:
                # Rejecting unknown names catches typos that would silently use a default.
                self.add_error(str(name), "is not an input of this method")

    def add_error(self, field: str, message: str) -> None:
        """Record one error against ``field``."""
        self.errors.setdefault(field, []).append(message)

    def declare(self, field: str, schema: dict[str, Any], *, required: bool = False) -> None:
        """Record ``field``'s schema when probed for it (``SchemaProbe``); nothing otherwise."""
        if self.probe is not None:
            self.probe.declare(field, schema, required=required)

    def declare_alternatives(self, *groups: tuple[str, ...], exclusive: bool) -> None:
        """Record that one of ``groups`` of fields must be given (exactly one if ``exclusive``).

        Called before the fields are read; the method checks the rule itself.
        """
        if self.probe is not None:
            self.probe.alternatives.append((groups, exclusive))

    def has(self, field: str) -> bool:
        """Whether ``field`` was given with a non-null value."""
        return self.inputs.get(field) is not None

    def _raw(self, field: str, required: bool) -> object:
        value = self.inputs.get(field)
        if value is None:
            if required:
                self.add_error(field, "is required")
            return _MISSING
        return value

    def decimal(
        self,
        field: str,
        *,
        default: Decimal | None = None,
        required: bool = False,
        allow_negative: bool = False,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
    ) -> Decimal:
        """Read a Decimal; on error record it and return a placeholder zero."""
        self.declare(
            field,
            number_schema(allow_negative=allow_negative, minimum=minimum, maximum=maximum),
            required=required and default is None,
        )
        raw = self._raw(field, required and default is None)
        if raw is _MISSING:
            return default if default is not None else ZERO
        try:
            return to_decimal(raw, field, allow_negative=allow_negative, minimum=minimum, maximum=maximum)
        except EngineInputError as error:
            self._merge(error)
            return ZERO

    def optional_decimal(
        self,
        field: str,
        *,
        allow_negative: bool = False,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
    ) -> Decimal | None:
        """Read a Decimal that may be absent (``None``)."""
        self.declare(field, number_schema(allow_negative=allow_negative, minimum=minimum, maximum=maximum))
        if not self.has(field):
            return None
        return self.decimal(field, allow_negative=allow_negative, minimum=minimum, maximum=maximum)

    def share(self, field: str, *, default: Decimal | None = None) -> Decimal:
        """Read a share in 0..1."""
        self.declare(field, number_schema(minimum=ZERO, maximum=Decimal(1)), required=default is None)
        raw = self._raw(field, default is None)
        if raw is _MISSING:
            return default if default is not None else ZERO
        try:
            return to_share(raw, field)
        except EngineInputError as error:
            self._merge(error)
            return ZERO

    def integer(self, field: str, *, default: int | None, minimum: int, maximum: int) -> int:
        """Read a whole number within bounds."""
        self.declare(field, {"type": "integer", "minimum": minimum, "maximum": maximum}, required=default is None)
        raw = self._raw(field, default is None)
        if raw is _MISSING:
            return default if default is not None else minimum
        try:
            return to_int(raw, field, minimum=minimum, maximum=maximum)
        except EngineInputError as error:
            self._merge(error)
            return minimum

    def boolean(self, field: str, *, default: bool) -> bool:
        """Read a JSON boolean (strings "true"/"false" are accepted from form posts)."""
        self.declare(field, {"type": "boolean"})
        if self.probe is not None:
            return self.probe.flags
        raw = self._raw(field, False)
        if raw is _MISSING:
            return default
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in {"true", "false"}:
            return raw.strip().lower() == "true"
        self.add_error(field, "must be true or false")
        return default

    def choice(self, field: str, choices: Iterable[str], *, required: bool) -> str | None:
        """Read one of a fixed set of strings."""
        options = tuple(choices)
        self.declare(field, {"type": "string", "enum": list(options)}, required=required)
        raw = self._raw(field, required)
        if raw is _MISSING:
            return None
        if not isinstance(raw, str) or raw not in options:
            self.add_error(field, f"must be one of {', '.join(options)}")
            return None
        return raw

    def text(self, field: str, *, max_length: int = 200) -> str | None:
        """Read an optional short string."""
        self.declare(field, {"type": "string", "maxLength": max_length})
        raw = self._raw(field, False)
        if raw is _MISSING:
            return None
        if not isinstance(raw, str) or len(raw) > max_length:
            self.add_error(field, f"must be a string of at most {max_length} characters")
            return None
        return raw

    def datetime(self, field: str) -> datetime | None:
        """Read an optional ISO 8601 time with a UTC offset."""
        self.declare(field, {"type": "string", "format": "date-time"})
        raw = self._raw(field, False)
        if raw is _MISSING:
            return None
        if isinstance(raw, str):
            try:
                parsed = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
            except ValueError:
                self.add_error(field, "must be an ISO 8601 time with an offset")
                return None
        elif isinstance(raw, datetime):
            parsed = raw
        else:
            self.add_error(field, "must be an ISO 8601 time with an offset")
            return None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            self.add_error(field, "must include a UTC offset")
            return None
        return parsed

    def decimal_list(
        self,
        field: str,
        *,
        min_length: int,
        max_length: int,
        allow_negative: bool = False,
        required: bool = True,
    ) -> list[Decimal] | None:
        """Read a list of Decimals; element errors are named ``field[i]``."""
        items = number_schema(allow_negative=allow_negative)
        self.declare(
            field, {"type": "array", "items": items, "minItems": min_length, "maxItems": max_length}, required=required
        )
        raw = self._raw(field, required)
        if raw is _MISSING:
            return None
        if not isinstance(raw, list | tuple):
            self.add_error(field, "must be a list of numbers")
            return None
        if not min_length <= len(raw) <= max_length:
            self.add_error(field, f"must have between {min_length} and {max_length} items")
            return None
        values: list[Decimal] = []
        for index, item in enumerate(raw):
            try:
                values.append(to_decimal(item, field, allow_negative=allow_negative))
            except EngineInputError as error:
                for message in error.errors[field]:
                    self.add_error(f"{field}[{index}]", message)
                values.append(ZERO)
        return values

    def _merge(self, error: EngineInputError) -> None:
        for name, messages in error.errors.items():
            for message in messages:
                self.add_error(name, message)

    def finish(self) -> None:
        """Raise one ``EngineInputError`` with every error collected, if any."""
        if self.errors:
            raise EngineInputError(errors=self.errors)
