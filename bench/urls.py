"""The product's URLs plus the benchmark's peer: a stock DRF ModelSerializer(many=True) endpoint.

The peer stores automation runs the way a plain DRF project would (validate with a model
serializer, one INSERT per row through `ListSerializer.create`), with the same key
authentication and tenant scope as the product, but no valuation, ledger or rollups.
It exists only here, never in the product.
"""

from typing import Any

from django.urls import path
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from bizvalue.urls import urlpatterns as product_urlpatterns
from governance import roles
from governance.api import TenantAPIView
from governance.tenancy import current_tenant
from roi.models import AutomationRun


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


urlpatterns = [
    path("bench/peer/automation-runs", PeerAutomationRunsView.as_view()),
    *product_urlpatterns,
]
