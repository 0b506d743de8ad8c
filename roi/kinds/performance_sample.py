"""Performance samples: counted one by one, valued per service and month (`_value_performance_months`)."""

from __future__ import annotations

from decimal import Decimal

from roi.kinds.contributions import contribution, counted, summed, when
from roi.kinds.fields import Moment, Number, Text
from roi.kinds.spec import KindSpec
from roi.models import EventKind, PerformanceSample, Stream

SPEC = KindSpec(
    kind=EventKind.PERFORMANCE_SAMPLE,
    model=PerformanceSample,
    own_fields=(
        Text("service", required=True),
        Moment("measured_at", required=True),
        Number("response_time_ms", required=True),
        Number("availability_percent", maximum=Decimal(100)),
        Number("conversion_rate", maximum=Decimal(100)),
    ),
    occurred_at="measured_at",
    # Money for performance is set per service and month, not here. Availability and
    # conversion are optional: each is counted over the samples that carry it.
    rollup=(
        contribution(
            Stream.PERFORMANCE,
            event_count=counted(),
            response_time_ms_sum=summed("response_time_ms"),
            availability_percent_sum=summed("availability_percent"),
            availability_count=counted(only=when(present=("availability_percent",))),
            conversion_rate_sum=summed("conversion_rate"),
            conversion_rate_count=counted(only=when(present=("conversion_rate",))),
        ),
    ),
)
