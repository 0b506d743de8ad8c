"""The product's URLs plus the benchmarks' peers, which exist only here, never in the product.

`bench/peer/automation-runs` (ingestion benchmark) is a stock DRF ModelSerializer(many=True)
endpoint; `bench/naive/trends` (dashboard benchmark) sums value per month over raw events
with the ORM, the way a dashboard without rollups would.

The peer stores automation runs the way a plain DRF project would (validate with a model
serializer, one INSERT per row through `ListSerializer.create`), with the same key
authentication and tenant scope as the product, but no valuation, ledger or rollups.
It exists only here, never in the product.
"""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Sum
from django.db.models.functions import TruncMonth
from django.urls import path
from django.utils import timezone
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from bizvalue.urls import urlpatterns as product_urlpatterns
from governance import roles
from governance.api import TenantAPIView
from governance.tenancy import current_tenant
from roi.models import AutomationRun, Incident


class PeerAutomationRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = AutomationRun
        fields = [
            "external_id",
            "department",
            "product",
            "process",
            "started_at",
            "execution_time",
            "manual_time_equivalent",
            "runs",
            "errors_avoided",
            "compliance_checks",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The model needs the time the event occurred; for a run, when it started.
        return {**attrs, "occurred_at": attrs["started_at"]}


class PeerAutomationRunsView(TenantAPIView):
    allowed_roles = {"POST": roles.RECORD_EVENTS}

    def post(self, request: Request) -> Response:
        serializer = PeerAutomationRunSerializer(data=request.data, many=True)
        serializer.is_valid(raise_exception=True)
        rows: Any = serializer.save(tenant=current_tenant())
        return Response({"created": len(rows)}, status=status.HTTP_201_CREATED)


class NaiveTrendsView(TenantAPIView):
    """Value per month over the last 24 months, aggregated from every raw event on each request."""

    allowed_roles = {"GET": roles.READ}

    def get(self, request: Request) -> Response:
        zone = ZoneInfo(current_tenant().time_zone)
        since = timezone.now() - timedelta(days=731)
        months: dict[Any, Decimal] = defaultdict(Decimal)
        for model in (AutomationRun, Incident):
            rows = (
                model.objects.filter(occurred_at__gte=since)
                .annotate(month=TruncMonth("occurred_at", tzinfo=zone))
                .values("month")
                .annotate(total=Sum("value"))
                .order_by("month")
            )
            for row in rows:
                months[row["month"]] += row["total"] or Decimal(0)
        return Response({"months": [{"month": f"{m:%Y-%m}", "value": str(v)} for m, v in sorted(months.items())]})


urlpatterns = [
    path("bench/peer/automation-runs", PeerAutomationRunsView.as_view()),
    path("bench/naive/trends", NaiveTrendsView.as_view()),
    *product_urlpatterns,
]
