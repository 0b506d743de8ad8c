"""Deployments, for the DORA keys: not valued in money by themselves."""

from __future__ import annotations

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
)
