"""API of the business-impact metrics: value by stream and the cost of downtime, from the rollups."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from governance import roles
from governance.api import TENANT_PARAMETER, TenantAPIView, query_of
from governance.fiscal import add_months
from governance.requests import TenantApiRequest
from roi import selectors
from roi.engine.money import money_text
from roi.query_fields import MonthOrDayField


class BusinessImpactQuery(serializers.Serializer):
    start = MonthOrDayField(required=False, help_text="first month, YYYY-MM (default: 11 months before end)")
    end = MonthOrDayField(required=False, help_text="last month, YYYY-MM (default: this month)")


class BusinessImpactView(TenantAPIView):
    """Value by stream, and the cost of downtime beside it, over whole months (from rollups)."""

    allowed_roles = {"GET": roles.READ}

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        parameters=[TENANT_PARAMETER, BusinessImpactQuery],
    )
    def get(self, request: TenantApiRequest) -> Response:
        query = BusinessImpactQuery(data=query_of(request))
        query.is_valid(raise_exception=True)
        today = timezone.localdate(timezone=ZoneInfo(request.tenant.time_zone))
        end = query.validated_data.get("end", today.replace(day=1))
        default_start = add_months(end, -11)
        start = query.validated_data.get("start", default_start)
        if start > end:
            raise exceptions.ValidationError({"start": ["Must not be after end."]})
        impact = selectors.business_impact(start=start, end=end)
        streams = {name: impact[name] for name in selectors.VALUE_STREAMS}
        return Response(
            {
                "start": f"{start:%Y-%m}",
                "end": f"{end:%Y-%m}",
                "currency": request.tenant.currency,
                "streams": {name: money_text(value) for name, value in streams.items()},
                "total": money_text(sum(streams.values(), Decimal(0))),
                "downtime_cost": money_text(impact["downtime"]),
            }
        )
