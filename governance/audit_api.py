"""API of the controls an auditor reads or a finance admin applies: the audit log and period close."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from governance import audit, periods, roles
from governance.api import TENANT_PARAMETER, TenantAPIView, actor_of, query_of
from governance.models import AuditEvent, AuditKind, ClosedPeriod
from governance.months import MONTH_PATTERN


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["id", "kind", "occurred_at", "actor", "ip_address", "detail"]


class AuditFilters(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AuditKind.choices, required=False)
    since = serializers.DateTimeField(required=False, help_text="inclusive")
    until = serializers.DateTimeField(required=False, help_text="exclusive")


class AuditEventListView(TenantAPIView):
    """The tenant's security events, newest first (auditors only)."""

    allowed_roles = {"GET": roles.AUDIT}
    serializer_class = AuditEventSerializer

    @extend_schema(
        responses=AuditEventSerializer(many=True),
        parameters=[TENANT_PARAMETER, AuditFilters],
    )
    def get(self, request: Request) -> Response:
        filters = AuditFilters(data=query_of(request))
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(audit.audit_events(**filters.validated_data))
        return self.get_paginated_response(AuditEventSerializer(page, many=True).data)


@extend_schema_field({"type": "string", "pattern": MONTH_PATTERN})
class MonthOutputField(serializers.DateField):
    """A month written YYYY-MM: documented as such, not as a date."""


class ClosedPeriodSerializer(serializers.ModelSerializer):
    month = MonthOutputField(format="%Y-%m")
    closed_by = serializers.CharField(source="closed_by_actor")

    class Meta:
        model = ClosedPeriod
        fields = ["month", "closed_by", "closed_at"]


class PeriodCloseView(TenantAPIView):
    """Close a month: its events can no longer be sent or changed, and revaluation skips it."""

    allowed_roles = {"POST": roles.MANAGE_MODEL}

    @extend_schema(
        request=None,
        responses={201: ClosedPeriodSerializer},
        parameters=[
            TENANT_PARAMETER,
            OpenApiParameter(
                "month",
                {"type": "string", "pattern": MONTH_PATTERN},
                OpenApiParameter.PATH,
                description="YYYY-MM",
            ),
        ],
    )
    def post(self, request: Request, month: str) -> Response:
        period = periods.period_close(month=periods.month_to_close(month), actor=actor_of(request))
        return Response(ClosedPeriodSerializer(period).data, status=status.HTTP_201_CREATED)
