"""The demo tenant's story: two years of operations, generated deterministically.

Each kind's generator (its spec's `demo`, in `roi.kinds`) returns event dicts exactly as
an integration would send them (ISO times, numbers as strings), so they go through the
same validation, valuation, ledger and rollups as real data, and tests can check them
without a database. The story's span, services and teams are here; `roi.demo.seed` feeds
the events to `events_ingest` once.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from roi.engine.money import money_text

DEMO_SEED = 20_250_101
DEMO_MONTHS = 24

SERVICES = {"storefront": "web", "checkout-api": "checkout", "search": "discovery"}
TEAMS = ("platform", "payments", "operations")


@dataclass(frozen=True)
class Span:
    """The demo's time range: whole months from `start`, up to `end` (now)."""

    start: datetime
    end: datetime
    months: int

    def month_starts(self) -> Iterator[tuple[int, datetime, datetime]]:
        """(index, first moment, end of the month or of the span) for each month."""
        for index in range(self.months):
            first = _add_months(self.start, index)
            last = min(_add_months(self.start, index + 1), self.end)
            if first < last:
                yield index, first, last

    def days(self) -> Iterator[tuple[float, datetime]]:
        """(share of the span gone, midnight) for each day of the span."""
        total = (self.end - self.start).total_seconds()
        day = self.start
        while day < self.end:
            yield (day - self.start).total_seconds() / total, day
            day += timedelta(days=1)

    def at(self, share: float) -> datetime:
        """The moment `share` of the way through the span, at midnight."""
        moment = self.start + (self.end - self.start) * share
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _add_months(moment: datetime, months: int) -> datetime:
    year, month = divmod(moment.month - 1 + months, 12)
    return moment.replace(year=moment.year + year, month=month + 1, day=1)


def demo_span(*, end: datetime, months: int = DEMO_MONTHS) -> Span:
    """`months` whole calendar months (UTC) ending with the month of `end`."""
    end = end.astimezone(UTC)
    start = _add_months(datetime(end.year, end.month, 1, tzinfo=UTC), -(months - 1))
    return Span(start=start, end=end, months=months)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def money(value: float) -> str:
    return money_text(Decimal(str(value)))


def between(rng: random.Random, first: datetime, last: datetime) -> datetime:
    seconds = max(int((last - first).total_seconds()) - 1, 0)
    return first + timedelta(seconds=rng.randint(0, seconds))


def demo_events(*, end: datetime, months: int = DEMO_MONTHS, seed: int = DEMO_SEED) -> dict[str, list[dict[str, Any]]]:
    """Every kind's events over `months` months ending at `end`, the same for the same arguments.

    Each kind draws from its own generator (its spec's `demo`, in `roi.kinds`) seeded from
    `seed`, so changing one kind's story leaves the others as they were.
    """
    from roi.kinds import KINDS  # the kinds' generators use this module's span and helpers

    span = demo_span(end=end, months=months)
    return {kind: spec.demo(random.Random(f"{seed}:{kind}"), span) for kind, spec in KINDS.items() if spec.demo}
