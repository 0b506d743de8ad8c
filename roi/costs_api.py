"""Cost API: `POST /api/v1/costs/focus` imports a FOCUS export, `GET /api/v1/costs/monthly` reads the sums."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from governance import roles
from governance.api import TENANT_PARAMETER, TenantAPIView, actor_of, query_of
from governance.fiscal import add_months
from governance.months import parse_month
from governance.requests import TenantApiRequest
from governance.roles import Role
from roi import focus
from roi.csv_import import MAX_UPLOAD_BYTES, CsvFileRefused, CsvRowsInvalid, upload_read
from roi.query_fields import MonthField

IMPORT_COSTS = roles.at_least(Role.ANALYST)
# Room for the multipart envelope and the other form fields around a file at the limit.
MULTIPART_ALLOWANCE = 64 * 1024


class FocusUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A FOCUS 1.x CSV export, UTF-8, at most 20 MB.")
    department_tag = serializers.CharField(required=False, default=focus.DEFAULT_DEPARTMENT_TAG, max_length=100)
    product_tag = serializers.CharField(required=False, default=focus.DEFAULT_PRODUCT_TAG, max_length=100)
    mode = serializers.ChoiceField(
        choices=focus.MODES,
        required=False,
        default=focus.REPLACE,
        help_text="replace (default): the file's costs replace earlier imports' for the same provider, billing "
        "account and billing period; add: they add to them (a further part of one export).",
    )


class MonthCostSerializer(serializers.Serializer):
    billed_cost = serializers.CharField()
    effective_cost = serializers.CharField()


class FocusImportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    file_name = serializers.CharField()
    sha256 = serializers.CharField()
    rows = serializers.IntegerField()
    currency = serializers.CharField()
    mode = serializers.CharField()
    months = serializers.DictField(child=MonthCostSerializer(), help_text="YYYY-MM: this file's costs in that month")
    replaced_imports = serializers.ListField(
        child=serializers.IntegerField(), help_text="earlier imports whose costs were replaced"
    )
    notes = serializers.ListField(child=serializers.CharField())


class ImportErrorsSerializer(serializers.Serializer):
    # Shadows Serializer.errors on purpose: it names the body's key for the schema only.
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))  # type: ignore[assignment]


class FocusImportView(TenantAPIView):
    """Import a FinOps FOCUS CSV: costs summed per month, service, department and product."""

    allowed_roles = {"POST": IMPORT_COSTS}
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="costs_focus_import",
        request={"multipart/form-data": FocusUploadSerializer},
        responses={
            201: FocusImportSerializer,
            400: OpenApiResponse(ImportErrorsSerializer, description="The file, or rows of it, are invalid."),
            409: OpenApiResponse(ImportErrorsSerializer, description="This file (same sha256) was already imported."),
        },
        parameters=[TENANT_PARAMETER],
        description=(
            "Rows whose BillingCurrency is not the tenant's currency, or otherwise invalid, refuse the whole "
            "file with a 400 naming each row and column. The same file again is a 409 and stores nothing. A "
            "file replaces what earlier imports stored for the same provider, billing account and billing "
            "period (mode replace), or adds to it (mode add)."
        ),
    )
    def post(self, request: Request) -> Response:
        # Checked before the body is parsed, so an oversized upload is not spooled to disk.
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_UPLOAD_BYTES + MULTIPART_ALLOWANCE:
            raise exceptions.ValidationError({"file": [f"The upload exceeds the limit of {MAX_UPLOAD_BYTES:,} bytes."]})
        body = FocusUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        try:
            outcome = focus.focus_import(
                actor=actor_of(request),
                file_name=upload.name or "upload.csv",
                data=upload_read(upload),
                department_tag=body.validated_data["department_tag"],
                product_tag=body.validated_data["product_tag"],
                mode=body.validated_data["mode"],
            )
        except CsvFileRefused as refused:
            raise exceptions.ValidationError({"file": refused.messages}) from None
        except CsvRowsInvalid as invalid:
            raise exceptions.ValidationError({"rows": invalid.messages}) from None
        except focus.FocusAlreadyImported as duplicate:
            return Response({"errors": {"file": [str(duplicate)]}}, status=status.HTTP_409_CONFLICT)
        return Response(outcome.as_dict(), status=status.HTTP_201_CREATED)


class MonthlyCostsQuery(serializers.Serializer):
    start = MonthField(required=False, help_text="first month, YYYY-MM (default: 11 months before end)")
    end = MonthField(required=False, help_text="last month, YYYY-MM (default: this month)")
    by = serializers.ChoiceField(
        choices=sorted(focus.BREAKDOWNS), required=False, help_text="split each month by this label"
    )


class CostGroupSerializer(MonthCostSerializer):
    name = serializers.CharField()


class CostMonthSerializer(MonthCostSerializer):
    month = serializers.CharField()
    groups = CostGroupSerializer(many=True, required=False)


class MonthlyCostsSerializer(serializers.Serializer):
    start = serializers.CharField()
    end = serializers.CharField()
    by = serializers.CharField(allow_null=True)
    currency = serializers.CharField()
    months = CostMonthSerializer(many=True)


class MonthlyCostsView(TenantAPIView):
    """Imported costs per month (default: the last twelve), optionally split by service, department or product."""

    allowed_roles = {"GET": roles.READ}

    @extend_schema(
        operation_id="costs_monthly",
        responses=MonthlyCostsSerializer,
        parameters=[TENANT_PARAMETER, MonthlyCostsQuery],
    )
    def get(self, request: TenantApiRequest) -> Response:
        query = MonthlyCostsQuery(data=query_of(request))
        query.is_valid(raise_exception=True)
        wanted = query.validated_data
        today = timezone.localdate(timezone=ZoneInfo(request.tenant.time_zone))
        end = parse_month(wanted["end"]) if "end" in wanted else today.replace(day=1)
        default_start = add_months(end, -11)
        start = parse_month(wanted["start"]) if "start" in wanted else default_start
        if start > end:
            raise exceptions.ValidationError({"start": ["Must not be after end."]})
        months = focus.costs_monthly(start=start, end=end, by=wanted.get("by"))
        data = {
            "start": f"{start:%Y-%m}",
            "end": f"{end:%Y-%m}",
            "by": wanted.get("by"),
            "currency": request.tenant.currency,
            "months": months,
        }
        return Response(data)
