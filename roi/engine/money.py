"""Decimal helpers shared by every engine method: rounding, constants, input coercion.

The engine never lets a float touch money. The API's parser reads JSON numbers as
Decimal (`governance.parsers`); a float that still arrives (from Python code) is
converted through ``repr`` (the shortest string that round-trips), so ``933.33`` becomes
``Decimal("933.33")`` and not the binary approximation
``933.3299999999999272404238581657409667968750``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from functools import lru_cache, wraps
from typing import Any, ParamSpec, TypeVar, overload

MINUTES_PER_YEAR = Decimal(525600)
MINUTES_PER_MONTH = Decimal(43800)
MONTHS_PER_YEAR = Decimal(12)
DAYS_PER_MONTH = Decimal(365) / Decimal(12)
MAX_MAGNITUDE = Decimal("1e15")
MAX_TEXT_LENGTH = 64

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
RATE_QUANTUM = Decimal("0.0001")

# Enough digits that no realistic intermediate loses a cent; traps turn silent
# garbage (NaN from 0/0, overflow) into exceptions the methods must guard against.
ENGINE_CONTEXT = Context(
    prec=50,
    rounding=ROUND_HALF_EVEN,
    Emax=999_999,
    Emin=-999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)

P = ParamSpec("P")
R = TypeVar("R")


class EngineInputError(ValueError):
    """Invalid engine input, carrying ``{field: [message, ...]}``.

    One exception type for every validation failure so an API layer can turn it into a
    400 that names each offending field, whatever the method.
    """

    def __init__(
        self,
        field: str | None = None,
        message: str | None = None,
        *,
        errors: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        collected: dict[str, list[str]] = {}
        if errors:
            for name, messages in errors.items():
                collected.setdefault(name, []).extend(messages)
        if field is not None:
            collected.setdefault(field, []).append(message or "is invalid")
        if not collected:
            raise ValueError("EngineInputError needs at least one field error")
        self.errors = collected
        super().__init__("; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in collected.items()))


@contextmanager
def engine_context() -> Iterator[Context]:
    """Run Decimal arithmetic under the engine's fixed context.

    Results must not depend on whatever context the caller happens to have set, or a
    ledger record could fail to recompute on another machine.
    """
    with localcontext(ENGINE_CONTEXT) as ctx:
        yield ctx


def exact(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate an engine function so it always runs under ``engine_context``."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        # localcontext directly, not through the generator-based engine_context: this
        # runs once per valued event, 10,000 times in a large ingestion batch.
        with localcontext(ENGINE_CONTEXT):
            return func(*args, **kwargs)

    return wrapper


@lru_cache(maxsize=64)
def _quantize_context(digits: int) -> Context:
    # One context per precision, built once: quantize reads its precision and traps and
    # only ever sets its flags, which nothing here reads.
    return Context(prec=digits)


_CONTEXT_28 = _quantize_context(28)


def _quantize(value: Decimal, quantum: Decimal) -> Decimal:
    # Precision grows with the magnitude so huge-but-legal values never raise: 28 digits,
    # or 10 more than the value has (the common case, below 1e19, skips the look-up).
    adjusted = value.adjusted()
    context = _CONTEXT_28 if adjusted <= 18 else _quantize_context(adjusted + 10)
    result = value.quantize(quantum, rounding=ROUND_HALF_EVEN, context=context)
    return result.copy_abs() if result.is_zero() else result  # no "-0.00"


def round_money(value: Decimal) -> Decimal:
    """Round a money amount to 2 places, half-even; the only money rounding in the engine."""
    return _quantize(value, CENT)


@overload
def money_text(value: Decimal) -> str: ...
@overload
def money_text(value: Decimal | None) -> str | None: ...
def money_text(value: Decimal | None) -> str | None:
    """A money amount as answers and pages show it: ``round_money``, as text (``"1234.50"``); None stays None."""
    return None if value is None else str(round_money(value))


def round_rate(value: Decimal) -> Decimal:
    """Round a rate, share or percentage to 4 places, half-even."""
    return _quantize(value, RATE_QUANTUM)


def round_rate_or_none(value: Decimal | None) -> Decimal | None:
    """``round_rate`` that passes ``None`` (an undefined figure) through."""
    return None if value is None else round_rate(value)


def to_decimal(
    value: object,
    field: str,
    *,
    allow_negative: bool = False,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
) -> Decimal:
    """Coerce one raw input to a finite Decimal or raise ``EngineInputError`` naming ``field``.

    Accepts int, Decimal, numeric str and float (via ``repr``, see the module docstring);
    rejects bool, NaN, Infinity, magnitudes beyond 1e15 and, unless allowed, negatives.
    """
    # `type(...) is`, not isinstance: a bool or a str subclass takes the checked path.
    if (type(value) is str and len(value) <= 15 and value.isascii() and value.isdigit()) or (
        type(value) is int and 0 <= value <= _MAX_INT
    ):
        # What integrations send most, taken directly: up to 15 ASCII digits or an int
        # within range is finite, not negative and not -0, so only the bounds remain.
        number = Decimal(value)
    else:
        number = _checked_decimal(value, field, allow_negative=allow_negative)
    if minimum is not None and number < minimum:
        raise EngineInputError(field, f"must be at least {minimum}")
    if maximum is not None and number > maximum:
        raise EngineInputError(field, f"must be at most {maximum}")
    return number


_MAX_INT = int(MAX_MAGNITUDE)  # the same bound, for comparing ints without a Decimal


def _checked_decimal(value: object, field: str, *, allow_negative: bool) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise EngineInputError(field, "must be a number")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        if abs(value) > _MAX_INT:
            raise EngineInputError(field, "must not exceed 1e15 in magnitude")
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise EngineInputError(field, "must be a finite number")
        number = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if not text or len(text) > MAX_TEXT_LENGTH:
            raise EngineInputError(field, "must be a number")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise EngineInputError(field, "must be a number") from None
    else:
        raise EngineInputError(field, "must be a number")
    if not number.is_finite():
        raise EngineInputError(field, "must be a finite number")
    if abs(number) > MAX_MAGNITUDE:
        raise EngineInputError(field, "must not exceed 1e15 in magnitude")
    if number.is_zero():
        number = abs(number)
    if not allow_negative and number < 0:
        raise EngineInputError(field, "must not be negative")
    return number


def decimal_or_none(value: object) -> Decimal | None:
    """A figure as shown or stored (``"1234.50"``, a Decimal, a number) read back as a Decimal;
    None when it is missing (None, ``""``) or not a finite number.

    The lenient twin of ``to_decimal``, for reading figures already computed (templates,
    charts, stored targets), where a missing figure is shown as missing rather than refused.
    """
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def to_share(value: object, field: str) -> Decimal:
    """Coerce a share (a fraction between 0 and 1 inclusive)."""
    return to_decimal(value, field, minimum=ZERO, maximum=ONE)


def to_int(value: object, field: str, *, minimum: int, maximum: int) -> int:
    """Coerce a whole number within ``minimum..maximum`` (e.g. ``months``, ``trials``)."""
    number = to_decimal(value, field, allow_negative=True)
    if number != number.to_integral_value():
        raise EngineInputError(field, "must be a whole number")
    whole = int(number)
    if not minimum <= whole <= maximum:
        raise EngineInputError(field, f"must be between {minimum} and {maximum}")
    return whole


@lru_cache(maxsize=256)
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def _json_ready(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list):
        return [_json_ready(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _json_ready(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # Field names looked up once per result class: valuation runs once per ingested event.
        return {name: _json_ready(getattr(value, name)) for name in _field_names(type(value))}
    return value


class EngineResult:
    """Base for result dataclasses: ``as_dict`` gives JSON-ready values.

    Decimals become strings (``"49499.85"``) because JSON numbers are floats to most
    readers, and a ledger must store exactly what was shown.
    """

    __slots__ = ()

    def as_dict(self) -> dict[str, Any]:
        """Return the result as a dict of JSON-ready values."""
        ready = _json_ready(self)
        assert isinstance(ready, dict)
        return ready
