"""Dashboard figures over the API: the same selectors the pages render."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from dashboards import selectors
from governance import roles
from governance.api import TENANT_PARAMETER, TenantAPIView


class DashboardView(TenantAPIView):
    allowed_roles = {"GET": roles.READ}


class ExecutiveView(DashboardView):
    @extend_schema(responses=OpenApiTypes.OBJECT, parameters=[TENANT_PARAMETER])
    def get(self, request: Request) -> Response:
        return Response(selectors.executive_overview())


class RealTimeView(DashboardView):
    @extend_schema(responses=OpenApiTypes.OBJECT, parameters=[TENANT_PARAMETER])
    def get(self, request: Request) -> Response:
        return Response(selectors.real_time())


class TrendsQuery(serializers.Serializer):
    months = serializers.IntegerField(min_value=3, max_value=60, default=24)
    horizon = serializers.IntegerField(min_value=1, max_value=24, default=6)


class TrendsView(DashboardView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        parameters=[TENANT_PARAMETER, OpenApiParameter("months", int), OpenApiParameter("horizon", int)],
    )
    def get(self, request: Request) -> Response:
        query = TrendsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(selectors.trends(**query.validated_data))


class ComparativeQuery(serializers.Serializer):
    by = serializers.ChoiceField(choices=["department", "product", "period"], default="department")
    date = serializers.DateField(required=False, help_text="with by=period: the month that splits before from after")


class ComparativeView(DashboardView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        parameters=[
            TENANT_PARAMETER,
            OpenApiParameter("by", str, enum=["department", "product", "period"]),
            OpenApiParameter("date", OpenApiTypes.DATE),
        ],
    )
    def get(self, request: Request) -> Response:
        query = ComparativeQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(selectors.comparative(by=query.validated_data["by"], split=query.validated_data.get("date")))
