"""Deployments, for the DORA keys: not valued in money by themselves."""

from __future__ import annotations

import math
import random
from datetime import timedelta
from typing import Any

from roi.demo.events import SERVICES, Span, between, iso
from roi.event_fields import FieldReader
from roi.kinds.contributions import contribution, counted, seconds_between, when
from roi.kinds.fields import Flag, Moment, Text
from roi.kinds.spec import Event, KindSpec
from roi.models import Deployment, EventKind, Stream


def check(reader: FieldReader, event: Event) -> None:
    if event["committed_at"] and event["deployed_at"] and event["committed_at"] > event["deployed_at"]:
        reader.fail("committed_at", "must not be after deployed_at")
    if event["restored_at"] and event["deployed_at"] and event["restored_at"] < event["deployed_at"]:
        reader.fail("restored_at", "must not be before deployed_at")


COMMITTED = when(present=("committed_at",))
RESTORED = when(failed=True, present=("restored_at",))

# --- Demo data ---------------------------------------------------------------------------


def demo_deployments(rng: random.Random, span: Span) -> list[dict[str, Any]]:
    """Deployments getting more frequent, faster to ship and less often failed."""
    events: list[dict[str, Any]] = []
    for index, first, last in span.month_starts():
        share = index / max(span.months - 1, 1)
        for _ in range(round(6 + 34 * share) + rng.randint(-2, 2)):
            service = rng.choice(list(SERVICES))
            deployed = between(rng, first, last)
            lead_hours = max(1.0, rng.lognormvariate(math.log(72 - 60 * share), 0.5))
            event: dict[str, Any] = {
                "service": service,
                "deployed_at": iso(deployed),
                "committed_at": iso(deployed - timedelta(hours=lead_hours)),
                "department": "engineering",
                "product": SERVICES[service],
            }
            if rng.random() < 0.18 - 0.12 * share:
                event["failed"] = True
                restored = deployed + timedelta(minutes=rng.randint(20, 240))
                if restored < span.end:
                    event["restored_at"] = iso(restored)
            events.append(event)
    events.sort(key=lambda e: e["deployed_at"])
    for number, event in enumerate(events, start=1):
        event["external_id"] = f"DEMO-DEP-{number:05d}"
    return events


SPEC = KindSpec(
    kind=EventKind.DEPLOYMENT,
    model=Deployment,
    own_fields=(
        Text("service", required=True),
        Moment("deployed_at", required=True),
        Moment("committed_at"),
        Flag("failed"),
        Moment("restored_at"),
    ),
    occurred_at="deployed_at",
    # Lead time over the deployments with a commit time; time to restore over the failed
    # deployments that were restored.
    rollup=(
        contribution(
            Stream.DEPLOYMENTS,
            event_count=counted(),
            failures=counted(only=when(failed=True)),
            lead_time_seconds_sum=seconds_between("deployed_at", "committed_at", only=COMMITTED),
            lead_time_count=counted(only=COMMITTED),
            restore_seconds_sum=seconds_between("restored_at", "deployed_at", only=RESTORED),
            restore_count=counted(only=RESTORED),
        ),
    ),
    check=check,
    demo=demo_deployments,
)
