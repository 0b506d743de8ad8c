"""Event kinds, each declared once (`KindSpec`) in its own module: its fields, checks, valuation,
rollup contributions and demo data.

The events API's parser, serializer and schema, the CSV import, ingestion's rollup deltas
and the rollup rebuild's SQL all read these specs. To add a kind: a module here declaring
its `SPEC`, listed in `KINDS`; its model in `roi.models.events` (and `EventKind`); the
migration.
"""

from roi.kinds import automation_run, deployment, incident, investment, performance_sample
from roi.kinds.spec import KindSpec

# In this order wherever kinds are listed (CSV messages, exports, checks).
KINDS: dict[str, KindSpec] = {
    module.SPEC.kind.value: module.SPEC
    for module in (incident, automation_run, performance_sample, deployment, investment)
}

__all__ = ["KINDS", "KindSpec"]
