"""Investments: an initiative's business case, valued as its return over its months."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from roi.demo.events import Span, iso, money
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


# --- Demo data ---------------------------------------------------------------------------

INVESTMENTS = (
    ("Observability platform", 0.04, 250_000, 8_000, 45_000, 36, "operations", "platform"),
    ("Automation platform", 0.42, 150_000, 5_000, 30_000, 36, "operations", "platform"),
    ("CDN and edge caching", 0.55, 80_000, 6_000, 25_000, 24, "platform", "web"),
    ("SRE on-call tooling", 0.75, 40_000, 2_000, 9_000, 24, "operations", "checkout"),
)


def demo_investments(rng: random.Random, span: Span) -> list[dict[str, Any]]:
    """The initiatives behind the story, each started where its effect begins."""
    events = []
    for number, (name, share, upfront, monthly, benefit, months, department, product) in enumerate(INVESTMENTS, 1):
        started = span.at(share) + timedelta(hours=9)
        if started >= span.end:
            continue
        events.append(
            {
                "external_id": f"DEMO-INV-{number:02d}",
                "name": name,
                "started_at": iso(started),
                "upfront_cost": money(upfront * rng.uniform(0.95, 1.05)),
                "monthly_cost": money(monthly),
                "expected_monthly_benefit": money(benefit),
                "months": months,
                "department": department,
                "product": product,
            }
        )
    return events


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
    demo=demo_investments,
)
