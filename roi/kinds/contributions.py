"""What an event adds to its monthly rollup cell, declared once and read two ways.

A kind declares its contributions as data: the stream, the condition an event meets to
count in it, and per rollup column the amount it adds. Ingestion evaluates them on each
event dict (`KindSpec.contributions`, the deltas that move the cells); the rollup rebuild
turns the same declarations into grouped SQL aggregates (`Contribution.aggregates`), so
the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Q, Sum

ZERO = Decimal(0)
ONE = Decimal(1)

Event = Mapping[str, Any]


def seconds(delta: timedelta) -> Decimal:
    """A duration in seconds, exact to the microsecond (no float on the way)."""
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds).scaleb(-6)


@dataclass(frozen=True, slots=True)
class When:
    """A condition on an event's stored fields: each of `equals` has its value, each of `present` is set."""

    equals: tuple[tuple[str, Any], ...] = ()
    present: tuple[str, ...] = ()

    def test(self) -> Callable[[Event], bool]:
        """Whether an event meets the condition, as a plain function (it runs for every event of a batch)."""
        checks = [_equals(name, value) for name, value in self.equals] + [_present(name) for name in self.present]
        if not checks:
            return _always
        test = checks[0]
        for check in checks[1:]:
            test = _both(test, check)
        return test

    def q(self) -> Q:
        return Q(*self.equals, *((f"{name}__isnull", False) for name in self.present))

    def __and__(self, other: When) -> When:
        return When(self.equals + other.equals, self.present + other.present)

    def __bool__(self) -> bool:
        return bool(self.equals or self.present)


ALWAYS = When()


def _always(event: Event) -> bool:
    return True


def _equals(name: str, value: Any) -> Callable[[Event], bool]:
    return lambda event: event[name] == value


def _present(name: str) -> Callable[[Event], bool]:
    return lambda event: event[name] is not None


def _both(first: Callable[[Event], bool], second: Callable[[Event], bool]) -> Callable[[Event], bool]:
    return lambda event: first(event) and second(event)


def when(*, present: tuple[str, ...] = (), **equals: Any) -> When:
    """`when(failed=True, present=("restored_at",))`: failed and restored."""
    return When(tuple(equals.items()), present)


@dataclass(frozen=True, slots=True)
class Amount:
    """What one event adds to one rollup column (zero when its `only` condition fails)."""

    only: When = ALWAYS

    def reader(self) -> Callable[[Event], Decimal]:
        """The amount of one event, as a plain function (it runs for every event of a batch)."""
        raise NotImplementedError

    def aggregate(self, condition: When) -> Aggregate:
        """The SQL aggregate of this amount over a group of rows meeting `condition`."""
        raise NotImplementedError

    def total(self, aggregated: Any) -> Decimal:
        """The aggregate's answer as a Decimal amount."""
        return ZERO if aggregated is None else Decimal(aggregated)

    @staticmethod
    def _filter(condition: When) -> Q | None:
        return condition.q() if condition else None


def _one(event: Event) -> Decimal:
    return ONE


@dataclass(frozen=True, slots=True)
class Counted(Amount):
    """One for each event."""

    def reader(self) -> Callable[[Event], Decimal]:
        if not self.only:
            return _one
        test = self.only.test()
        return lambda event: ONE if test(event) else ZERO

    def aggregate(self, condition: When) -> Aggregate:
        return Count("id", filter=self._filter(condition & self.only))


@dataclass(frozen=True, slots=True)
class Summed(Amount):
    """A stored number of the event (nothing when it is not set)."""

    column: str = ""

    def reader(self) -> Callable[[Event], Decimal]:
        column = self.column
        if not self.only:
            return lambda event: event[column] or ZERO
        test = self.only.test()
        return lambda event: (event[column] or ZERO) if test(event) else ZERO

    def aggregate(self, condition: When) -> Aggregate:
        return Sum(self.column, filter=self._filter(condition & self.only))


@dataclass(frozen=True, slots=True)
class SecondsBetween(Amount):
    """The seconds from one stored time of the event to another (`end` - `start`)."""

    end: str = ""
    start: str = ""

    def reader(self) -> Callable[[Event], Decimal]:
        end, start, test = self.end, self.start, self.only.test()
        return lambda event: seconds(event[end] - event[start]) if test(event) else ZERO

    def aggregate(self, condition: When) -> Aggregate:
        # An interval the database sums exactly (microseconds on SQLite).
        duration = ExpressionWrapper(F(self.end) - F(self.start), output_field=DurationField())
        return Sum(duration, filter=self._filter(condition & self.only))

    def total(self, aggregated: Any) -> Decimal:
        return ZERO if aggregated is None else seconds(aggregated)


def counted(*, only: When = ALWAYS) -> Counted:
    return Counted(only)


def summed(column: str, *, only: When = ALWAYS) -> Summed:
    return Summed(only, column)


def seconds_between(end: str, start: str, *, only: When = ALWAYS) -> SecondsBetween:
    return SecondsBetween(only, end, start)


@dataclass(frozen=True)
class Contribution:
    """An event meeting `condition` adds `amounts` (rollup column -> amount) to its cell of `stream`."""

    stream: str
    amounts: tuple[tuple[str, Amount], ...]
    condition: When = ALWAYS
    # The condition and amounts as plain functions, found once: ingestion evaluates them on
    # every event of a batch (`KindSpec.contributions`).
    applies_to: Callable[[Event], bool] = field(init=False, repr=False, compare=False)
    readers: tuple[tuple[str, Callable[[Event], Decimal]], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "applies_to", self.condition.test())
        object.__setattr__(self, "readers", tuple((column, amount.reader()) for column, amount in self.amounts))

    def aggregates(self, prefix: str) -> dict[str, Aggregate]:
        """The amounts as SQL aggregates over a group of rows, each named `<prefix><column>`."""
        return {prefix + column: amount.aggregate(self.condition) for column, amount in self.amounts}

    def totals(self, row: Mapping[str, Any], prefix: str) -> dict[str, Decimal]:
        """The amounts a grouped row of `aggregates(prefix)` adds up to."""
        return {column: amount.total(row[prefix + column]) for column, amount in self.amounts}


def contribution(stream: str, condition: When = ALWAYS, **amounts: Amount) -> Contribution:
    """`contribution(Stream.AUTOMATION, value=summed("value"), event_count=counted())`."""
    return Contribution(stream, tuple(amounts.items()), condition)
