"""Dashboard figures over the API: the same selectors the pages render."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from dashboards import reports, selectors
from dashboards.models import Report, ReportFormat, ReportKind
from dashboards.selectors.service_levels import service_levels
from dashboards.selectors.trends import (
    HORIZON_DEFAULT,
    HORIZON_MAX,
    HORIZON_MIN,
    MONTHS_DEFAULT,
    MONTHS_MAX,
    MONTHS_MIN,
)
from dashboards.tasks import report_deliver_after_commit
from governance import roles
from governance.api import TENANT_PARAMETER, TenantAPIView, actor_of, query_of
from roi.query_fields import MonthField, YearBoundDateField


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
    months = serializers.IntegerField(min_value=MONTHS_MIN, max_value=MONTHS_MAX, default=MONTHS_DEFAULT)
    horizon = serializers.IntegerField(min_value=HORIZON_MIN, max_value=HORIZON_MAX, default=HORIZON_DEFAULT)


class TrendsView(DashboardView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        parameters=[TENANT_PARAMETER, TrendsQuery],
    )
    def get(self, request: Request) -> Response:
        query = TrendsQuery(data=query_of(request))
        query.is_valid(raise_exception=True)
        return Response(selectors.trends(**query.validated_data))


class ServiceLevelsQuery(serializers.Serializer):
    months = serializers.IntegerField(min_value=MONTHS_MIN, max_value=MONTHS_MAX, default=MONTHS_DEFAULT)


class ServiceLevelsView(DashboardView):
    @extend_schema(responses=OpenApiTypes.OBJECT, parameters=[TENANT_PARAMETER, ServiceLevelsQuery])
    def get(self, request: Request) -> Response:
        query = ServiceLevelsQuery(data=query_of(request))
        query.is_valid(raise_exception=True)
        return Response(service_levels(**query.validated_data))


class ComparativeQuery(serializers.Serializer):
    by = serializers.ChoiceField(choices=["department", "product", "period"], default="department")
    date = YearBoundDateField(required=False, help_text="with by=period: the month that splits before from after")
    start = MonthField(required=False, help_text="with by=department|product: first month, YYYY-MM")
    end = MonthField(required=False, help_text="with by=department|product: last month, YYYY-MM")


class ComparativeView(DashboardView):
    """The comparative page's figures: value and cost by department, product or period, and the
    benchmarks (downtime cost beside published figures, DORA tiers) always included."""

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        description=(
            "by=department|product: fiscal year-to-date value, cost, net value, ROI and value per unit"
            " of cost per label, with totals; by=period: monthly means before and after `date`."
            " `benchmarks` is in every answer."
        ),
        parameters=[TENANT_PARAMETER, ComparativeQuery],
    )
    def get(self, request: Request) -> Response:
        query = ComparativeQuery(data=query_of(request))
        query.is_valid(raise_exception=True)
        chosen = query.validated_data
        try:
            answer = selectors.comparative(
                by=chosen["by"], split=chosen.get("date"), start=chosen.get("start"), end=chosen.get("end")
            )
        except selectors.ComparativeRefused as refused:
            raise exceptions.ValidationError(refused.errors) from None
        return Response(answer)


# --- Reports --------------------------------------------------------------------------


class ReportSerializer(serializers.ModelSerializer):
    downloads = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id",
            "kind",
            "period",
            "model_version",
            "figures",
            "ledger_record_ids",
            "chain_head_sequence",
            "chain_head_hash",
            "created_at",
            "actor",
            "emailed_at",
            "downloads",
        ]

    def get_downloads(self, report: Report) -> dict[str, str]:
        return {
            file_format: reverse("api:report-download", kwargs={"report_id": report.pk, "file_format": file_format})
            for file_format in ReportFormat.values
        }


@extend_schema_field(
    {
        "type": "string",
        # The same patterns, without Python's group names (not in the regex dialect of JSON Schema).
        "anyOf": [
            {"pattern": re.sub(r"\?P<\w+>", "", pattern.pattern)} for pattern in reports.PERIOD_PATTERNS.values()
        ],
    }
)
class PeriodField(serializers.CharField):
    """A report period in one of the shapes `reports` reads; which one must match the kind."""


class ReportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    period = PeriodField(max_length=16, help_text="2026-10, 2026-Q3 or FY2026 (as the kind), on the fiscal calendar.")


class ReportListView(TenantAPIView):
    """Reports of closed periods: listed by viewers and up, generated on demand by finance admins."""

    allowed_roles = {"GET": roles.READ, "POST": roles.MANAGE_MODEL}
    serializer_class = ReportSerializer

    @extend_schema(responses=ReportSerializer(many=True), parameters=[TENANT_PARAMETER])
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(reports.reports_list())
        return self.get_paginated_response(ReportSerializer(page, many=True).data)

    @extend_schema(
        request=ReportRequestSerializer,
        responses={201: ReportSerializer, 200: ReportSerializer},
        parameters=[TENANT_PARAMETER],
        description="Generate a closed period's report (201), or answer the one already made (200).",
    )
    def post(self, request: Request) -> Response:
        body = ReportRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            generated = reports.report_generate(actor=actor_of(request), **body.validated_data)
        except reports.ReportRefused as error:
            raise exceptions.ValidationError(error.errors) from None
        report_deliver_after_commit(generated.report)
        status_code = status.HTTP_201_CREATED if generated.created else status.HTTP_200_OK
        return Response(ReportSerializer(generated.report).data, status=status_code)


class AnyAccept(BaseContentNegotiation):
    """A download is a file whatever the client's Accept header says; errors are still JSON."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        first = next(iter(renderers))
        return first, first.media_type

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser:
        return next(iter(parsers))


class ReportDownloadView(TenantAPIView):
    allowed_roles = {"GET": roles.READ}
    content_negotiation_class = AnyAccept

    @extend_schema(
        responses={(200, media): OpenApiTypes.BINARY for media in reports.MEDIA_TYPES.values()},
        parameters=[
            TENANT_PARAMETER,
            OpenApiParameter("file_format", str, OpenApiParameter.PATH, enum=ReportFormat.values),
        ],
    )
    def get(self, request: Request, report_id: int, file_format: str) -> FileResponse:
        return reports.report_file_response(report_id=report_id, file_format=file_format)
