"""Investments: an initiative's business case, valued as its return over its months."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from roi.event_fields import MONEY_PLACES
from roi.kinds.contributions import contribution, counted, summed
from roi.kinds.fields import Integer, Moment, Number, Text
from roi.kinds.spec import Event, KindSpec, ledger_number
from roi.models import EventKind, Investment, Stream


def valuation(event: Event) -> tuple[str, dict[str, Any]]:
    return "investment_roi", {
        "upfront_cost": ledger_number(event["upfront_cost"]),
        "monthly_cost": ledger_number(event["monthly_cost"]),
        "monthly_benefit": ledger_number(event["expected_monthly_benefit"]),
        "months": event["months"],
    }


SPEC = KindSpec(
    kind=EventKind.INVESTMENT,
    model=Investment,
    own_fields=(
        Text("name", required=True),
        Moment("started_at", required=True),
        Number("upfront_cost", required=True, places=MONEY_PLACES),
        Number("monthly_cost", default=Decimal(0), places=MONEY_PLACES),
        Number("expected_monthly_benefit", default=Decimal(0), places=MONEY_PLACES),
        Integer("months", default=36, minimum=1, maximum=600),
    ),
    occurred_at="started_at",
    # Counted at its upfront cost; its result stays in the ledger item, not on the event.
    rollup=(contribution(Stream.INVESTMENT, event_count=counted(), value=summed("upfront_cost")),),
    valuation=valuation,
)
