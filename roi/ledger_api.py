"""API of the ledger: records, their JSON Lines export and verification runs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from governance import roles
from governance.api import TENANT_PARAMETER, TenantAPIView, actor_of, query_of
from governance.audit import audit_record
from governance.models import AuditKind, LedgerRecord
from roi import selectors
from roi.ledger_export import JSONL_CONTENT_TYPE, export_disposition, ledger_export_response
from roi.ledger_verification import verification_request, verification_run_state
from roi.models import LedgerVerificationRun, VerificationStatus
from roi.query_fields import YearBoundDateField


class LedgerRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = LedgerRecord
        fields = [
            "id",
            "sequence",
            "method",
            "method_version",
            "model_version",
            "kpi_version",
            "inputs",
            "figures",
            "result",
            "currency",
            "actor",
            "created_at",
            "hash",
            "previous_hash",
        ]


class LedgerFilters(serializers.Serializer):
    method = serializers.CharField(required=False)
    actor = serializers.CharField(required=False, help_text="part of the actor label, e.g. a username")
    since = YearBoundDateField(required=False)
    until = YearBoundDateField(required=False)


class LedgerListView(TenantAPIView):
    allowed_roles = {"GET": roles.READ_LEDGER}
    serializer_class = LedgerRecordSerializer

    @extend_schema(
        responses=LedgerRecordSerializer(many=True),
        parameters=[TENANT_PARAMETER, LedgerFilters],
    )
    def get(self, request: Request) -> Response:
        filters = LedgerFilters(data=query_of(request))
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.ledger_records(**filters.validated_data))
        return self.get_paginated_response(LedgerRecordSerializer(page, many=True).data)


class LedgerDetailView(TenantAPIView):
    allowed_roles = {"GET": roles.READ_LEDGER}

    @extend_schema(responses=LedgerRecordSerializer, parameters=[TENANT_PARAMETER])
    def get(self, request: Request, record_id: int) -> Response:
        return Response(LedgerRecordSerializer(get_object_or_404(selectors.ledger_records(), pk=record_id)).data)


class LedgerExportFilters(serializers.Serializer):
    since = YearBoundDateField(required=False, help_text="first day, YYYY-MM-DD (UTC)")
    until = YearBoundDateField(required=False, help_text="last day, YYYY-MM-DD (UTC)")
    rows = serializers.BooleanField(
        required=False,
        default=False,
        help_text="also every stored event, service-month and rollup cell the pages sum (whole ledger only)",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("since") and attrs.get("until") and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": ["The last day comes before the first."]})
        if attrs.get("rows") and (attrs.get("since") or attrs.get("until")):
            # Rollup cells add up every event, so they are checked against the whole ledger only.
            raise serializers.ValidationError(
                {"rows": ["Stored rows come with the whole ledger: leave out since and until."]}
            )
        return attrs


class LedgerExportView(TenantAPIView):
    """The ledger as JSON Lines, every hashed field of each record, for verification outside the app.

    Streamed in chain order; recorded in the audit log as an export. Auditors only.
    """

    allowed_roles = {"GET": roles.AUDIT}

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The answer is JSON Lines whatever the Accept header says; errors stay JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        responses={(200, "application/jsonl"): OpenApiTypes.STR},
        parameters=[
            TENANT_PARAMETER,
            LedgerExportFilters,
        ],
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        days = self._days(request)
        rows = self._rows(request)
        filters = {name: str(day) for name, day in days.items() if day} | ({"rows": "1"} if rows else {})
        audit_record(
            kind=AuditKind.EXPORT,
            actor=actor_of(request).label,
            detail={"export": "ledger_jsonl", "filters": filters},
            request=request,
        )
        return ledger_export_response(tenant=request.tenant, rows=rows, **days)  # type: ignore[attr-defined]

    def head(self, request: Request) -> HttpResponse:
        """The headers a GET would answer with, no body: nothing is read, so nothing is exported."""
        days = self._days(request)
        response = HttpResponse(content_type=JSONL_CONTENT_TYPE)
        response["Content-Disposition"] = export_disposition(tenant=request.tenant, **days)  # type: ignore[attr-defined]
        return response

    def _days(self, request: Request) -> dict[str, date | None]:
        filters = LedgerExportFilters(data=query_of(request))
        filters.is_valid(raise_exception=True)
        return {"since": filters.validated_data.get("since"), "until": filters.validated_data.get("until")}

    def _rows(self, request: Request) -> bool:
        filters = LedgerExportFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return bool(filters.validated_data["rows"])


class LedgerVerifyRequestSerializer(serializers.Serializer):
    full = serializers.BooleanField(
        required=False,
        default=False,
        help_text="recompute every record, not only those after the last verified, anchored head "
        "(every record is rehashed either way)",
    )


class LedgerVerificationProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField(min_value=0)
    total = serializers.IntegerField(min_value=0)


class LedgerVerificationRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=VerificationStatus.choices)
    full = serializers.BooleanField()
    requested_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    progress = LedgerVerificationProgressSerializer(allow_null=True, help_text="while queued or running")
    result = serializers.JSONField(allow_null=True, help_text="the verification, as POST ledger/verify answers it")
    status_url = serializers.CharField(required=False, help_text="where to poll (202 only)")


class LedgerVerifyView(TenantAPIView):
    """Recompute the records and check the chain and the stored rows; lists each failure and why.

    A small verification answers 200 with its result; a large one (more than
    LEDGER_VERIFY_INLINE_WORK items) answers 202 with the run to poll at `status_url`.
    """

    allowed_roles = {"POST": roles.AUDIT}

    @extend_schema(
        request=LedgerVerifyRequestSerializer,
        responses={200: OpenApiTypes.OBJECT, 202: LedgerVerificationRunSerializer},
        parameters=[
            TENANT_PARAMETER,
            OpenApiParameter("full", OpenApiTypes.BOOL, description="verify every record (default: incremental)"),
        ],
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, Mapping):
            raise exceptions.ValidationError({"body": ['Must be a JSON object, e.g. {"full": true}, or empty.']})
        given = request.data or request.query_params
        asked = LedgerVerifyRequestSerializer(data=given)
        asked.is_valid(raise_exception=True)
        answer = verification_request(actor=actor_of(request).label, full=asked.validated_data["full"])
        if answer.run is None:
            return Response(answer.verification.as_dict() if answer.verification else {})
        url = reverse("api:ledger-verification", kwargs={"run_id": answer.run.pk})
        response = Response({**verification_run_state(answer.run), "status_url": url}, status=status.HTTP_202_ACCEPTED)
        response["Location"] = url
        return response


class LedgerVerificationView(TenantAPIView):
    """One queued verification of the tenant's ledger: its progress while it runs, its result when done."""

    allowed_roles = {"GET": roles.READ_LEDGER}

    @extend_schema(responses=LedgerVerificationRunSerializer, parameters=[TENANT_PARAMETER])
    def get(self, request: Request, run_id: int) -> Response:
        return Response(verification_run_state(get_object_or_404(LedgerVerificationRun.objects, pk=run_id)))
