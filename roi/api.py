"""API for the money side: configuration, calculations and the ledger.

Views translate HTTP to a service or selector and back; engine validation errors become
400s naming each field.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from governance import roles
from governance.api import TENANT_PARAMETER, TenantAPIView, actor_of, query_of
from governance.audit import audit_record
from governance.models import AuditKind, LedgerRecord
from governance.requests import TenantApiRequest
from roi import proposals, selectors, services
from roi.engine import METHODS, EngineInputError, FinancialFigures
from roi.engine.inputs import probed_schema
from roi.figures import stored_flat
from roi.ledger_export import JSONL_CONTENT_TYPE, export_disposition, ledger_export_response
from roi.ledger_verification import verification_request, verification_run_state
from roi.models import BusinessKpis, FinancialModel, LedgerVerificationRun, ProposalTarget, VerificationStatus
from roi.proposals_api import ProposalSerializer, proposal_response
from roi.query_fields import MonthOrDayField, YearBoundDateField


@contextmanager
def engine_errors_as_400() -> Iterator[None]:
    try:
        yield
    except EngineInputError as error:
        raise exceptions.ValidationError(error.errors) from None


def json_object(request: Request) -> dict[str, Any]:
    if not isinstance(request.data, Mapping):
        raise exceptions.ValidationError({"body": ["Must be a JSON object."]})
    return dict(request.data)


class WhoChanged(serializers.Serializer):
    version = serializers.IntegerField()
    effective_from = serializers.DateTimeField()
    changed_at = serializers.DateTimeField()
    changed_by = serializers.SerializerMethodField()
    change_reason = serializers.CharField()
    proposal = serializers.IntegerField(source="approved_proposal_id", allow_null=True)
    proposed_by = serializers.SerializerMethodField()

    def get_proposed_by(self, config: Any) -> str | None:
        """Who proposed the version, when it came from an approved proposal (`changed_by` approved it)."""
        proposal = config.approved_proposal
        return None if proposal is None else proposal.proposed_by_label

    def get_changed_by(self, config: Any) -> str | None:
        if config.changed_by_id:
            return config.changed_by.get_username()
        if config.changed_by_key_id:
            return f"api-key:{config.changed_by_key.prefix}"
        return None


# --- Configuration ------------------------------------------------------------------


def financial_model_data(model: FinancialModel, currency: str) -> dict[str, Any]:
    groups = {
        "revenue_model": model.revenue_model,
        "cost_model": model.cost_model,
        "impact_model": model.impact_model,
        "severity_responders": model.severity_responders,
        "revenue_profile": model.revenue_profile,
    }
    figures = FinancialFigures.from_mapping(stored_flat(groups, None, "UTC")).as_dict()
    revenue = {
        **model.revenue_model,
        "monthly_recurring_revenue": figures["monthly_recurring_revenue"],
        "revenue_per_minute": figures["revenue_per_minute"],
    }
    return {**WhoChanged(model).data, "currency": currency, **groups, "revenue_model": revenue}


def business_kpis_data(kpis: BusinessKpis) -> dict[str, Any]:
    return {
        **WhoChanged(kpis).data,
        "kpis": kpis.kpis,
        "alerts": kpis.alerts,
        "attribution_rules": kpis.attribution_rules,
    }


def _effective_from(body: dict[str, Any]) -> Any:
    raw = body.pop("effective_from", None)
    if raw is None:
        return None
    field = serializers.DateTimeField()
    try:
        return field.to_internal_value(raw)
    except serializers.ValidationError as error:
        raise exceptions.ValidationError({"effective_from": error.detail}) from None


def _take(body: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise exceptions.ValidationError({key: ["Unknown field."] for key in unknown})
    return body


def proposed(request: Request, target: str, payload: dict[str, Any], reason: str, effective_from: Any) -> Response:
    """202 with the pending proposal: the change waits for a second finance admin."""
    with engine_errors_as_400():
        try:
            proposal = proposals.change_propose(
                actor=actor_of(request),
                target=target,
                payload=payload,
                change_reason=reason,
                effective_from=effective_from,
            )
        except proposals.ProposalRefused as refused:
            raise exceptions.PermissionDenied(refused.message) from None
    return proposal_response(proposal, status.HTTP_202_ACCEPTED)


def change_body_schema(groups: set[str]) -> dict[str, Any]:
    """A configuration change: its groups (each checked with the rest of the model), the reason, the start."""
    properties: dict[str, Any] = {
        "change_reason": services.CHANGE_REASON_SCHEMA,
        "effective_from": {"type": "string", "format": "date-time", "nullable": True},
    }
    for group in sorted(groups):
        properties[group] = {
            "type": "object",
            "nullable": True,  # the server takes null here (an empty group)
            "description": "Checked together with the rest of the model.",
        }
    return {
        "application/json": {
            "type": "object",
            "properties": properties,
            "required": ["change_reason"],
            "additionalProperties": False,
        }
    }


CHANGE_RESPONSES = {200: OpenApiTypes.OBJECT, 202: ProposalSerializer}
CHANGE_NOTE = (
    " When the tenant requires dual approval, nothing changes yet: the answer is 202 with a pending "
    "proposal that another finance admin approves (POST config/proposals/{id}/approve)."
)


class VersionQuery(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="A past version (1, 2, ...) instead of the one in force: who, when, why, what.",
    )


def _version_param(request: Request) -> int | None:
    """`?version=N`: auditors read every version, not only the one in force."""
    query = VersionQuery(data=query_of(request))
    query.is_valid(raise_exception=True)
    return query.validated_data.get("version")


MODEL_BODY_KEYS = {"revenue_model", "cost_model", "impact_model", "severity_responders", "revenue_profile"}
KPI_BODY_KEYS = {"kpis", "alerts", "attribution_rules"}


class FinancialModelView(TenantAPIView):
    """The financial model in force; PUT makes a new version (groups sent replace those groups)."""

    allowed_roles = {"GET": roles.READ, "PUT": roles.MANAGE_MODEL}

    @extend_schema(responses=OpenApiTypes.OBJECT, parameters=[TENANT_PARAMETER, VersionQuery])
    def get(self, request: TenantApiRequest) -> Response:
        version = _version_param(request)
        if version is not None:
            model = selectors.financial_model_version(version)
            if model is None:
                raise exceptions.NotFound(f"No version {version} of the financial model.")
            return Response(financial_model_data(model, request.tenant.currency))
        model = selectors.financial_model_current()
        if model is None:
            raise exceptions.NotFound("No financial model yet: a finance admin sets one with PUT.")
        return Response(financial_model_data(model, request.tenant.currency))

    @extend_schema(
        request=change_body_schema(MODEL_BODY_KEYS),
        responses=CHANGE_RESPONSES,
        parameters=[TENANT_PARAMETER],
        description="Make a new version." + CHANGE_NOTE,
    )
    def put(self, request: TenantApiRequest) -> Response:
        body = json_object(request)
        reason = body.pop("change_reason", "")
        effective_from = _effective_from(body)
        groups = _take(body, MODEL_BODY_KEYS)
        if proposals.dual_approval_required():
            return proposed(request, ProposalTarget.FINANCIAL_MODEL, groups, reason, effective_from)
        with engine_errors_as_400():
            model = services.financial_model_update(
                actor=actor_of(request), groups=groups, change_reason=reason, effective_from=effective_from
            )
        return Response(financial_model_data(model, request.tenant.currency))


class RevenueModelView(TenantAPIView):
    """The revenue group alone, as `{"revenue_model": {...}}` or its fields at the top level."""

    allowed_roles = {"POST": roles.MANAGE_MODEL}

    @extend_schema(
        request=change_body_schema({"revenue_model"}),
        responses=CHANGE_RESPONSES,
        parameters=[TENANT_PARAMETER],
        description="Make a new version of the financial model with this revenue group (its fields may also "
        "be given at the top level)." + CHANGE_NOTE,
    )
    def post(self, request: TenantApiRequest) -> Response:
        body = json_object(request)
        reason = body.pop("change_reason", "")
        effective_from = _effective_from(body)
        revenue = body.pop("revenue_model") if "revenue_model" in body else body
        if not isinstance(revenue, Mapping):
            raise exceptions.ValidationError({"revenue_model": ["Must be an object."]})
        if revenue is not body:
            _take(body, set())
        if proposals.dual_approval_required():
            payload = {"revenue_model": dict(revenue)}
            return proposed(request, ProposalTarget.REVENUE_MODEL, payload, reason, effective_from)
        with engine_errors_as_400():
            model = services.financial_model_update(
                actor=actor_of(request),
                groups={"revenue_model": dict(revenue)},
                change_reason=reason,
                effective_from=effective_from,
            )
        return Response(financial_model_data(model, request.tenant.currency))


class BusinessKpisView(TenantAPIView):
    """KPI targets, alert thresholds and attribution rules; PUT makes a new version."""

    allowed_roles = {"GET": roles.READ, "PUT": roles.MANAGE_MODEL}

    @extend_schema(responses=OpenApiTypes.OBJECT, parameters=[TENANT_PARAMETER, VersionQuery])
    def get(self, request: Request) -> Response:
        version = _version_param(request)
        if version is not None:
            past = selectors.business_kpis_version(version)
            if past is None:
                raise exceptions.NotFound(f"No version {version} of the KPIs.")
            return Response(business_kpis_data(past))
        kpis = selectors.business_kpis_current()
        if kpis is None:
            # Before the first version the calculations and alerts use the defaults: show those.
            defaults = services.business_kpis_validated(current=None, sections={})
            unversioned = dict.fromkeys(WhoChanged().fields)
            return Response({**unversioned, **defaults})
        return Response(business_kpis_data(kpis))

    @extend_schema(
        request=change_body_schema(KPI_BODY_KEYS),
        responses=CHANGE_RESPONSES,
        parameters=[TENANT_PARAMETER],
        description="Make a new version." + CHANGE_NOTE,
    )
    def put(self, request: Request) -> Response:
        body = json_object(request)
        reason = body.pop("change_reason", "")
        effective_from = _effective_from(body)
        sections = _take(body, KPI_BODY_KEYS)
        if proposals.dual_approval_required():
            return proposed(request, ProposalTarget.BUSINESS_KPIS, sections, reason, effective_from)
        with engine_errors_as_400():
            kpis = services.business_kpis_update(
                actor=actor_of(request), sections=sections, change_reason=reason, effective_from=effective_from
            )
        return Response(business_kpis_data(kpis))


# --- Calculations -------------------------------------------------------------------


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


class CalculationView(TenantAPIView):
    """Run one engine method on the tenant's figures; answers 201 with the ledger record."""

    allowed_roles = {"POST": roles.CALCULATE}
    method_name: str = ""

    def post(self, request: Request) -> Response:
        body = json_object(request)
        with engine_errors_as_400():
            record = services.calculation_run(actor=actor_of(request), method=self.method_name, body=body)
        return Response(LedgerRecordSerializer(record).data, status=status.HTTP_201_CREATED)


CALCULATION_PATHS = {
    "roi": "investment_roi",
    "incident-prevention": "incident_cost",
    "automation-value": "automation_value",
    "performance-impact": "performance_impact",
    "customer-experience": "customer_experience",
    "competitive-advantage": "competitive_advantage",
    "value-at-risk": "value_at_risk",
    "availability": "availability_economics",
}


def calculation_request_schema(method: str) -> dict[str, Any]:
    """The body `method` accepts, read off its engine parser (and the figures' one, for assumptions)."""
    spec = METHODS[method]
    figures = FinancialFigures(annual_recurring_revenue=Decimal(0))
    schema = probed_schema(lambda inputs: spec.run(inputs, figures), server_filled=spec.prepare({}))
    assumptions = probed_schema(FinancialFigures.from_mapping)
    assumptions.pop("required", None)  # each one replaces the figure in force
    assumptions["description"] = "What-if figures replacing the financial model's or KPIs' for this run."
    assumptions["nullable"] = True
    schema["properties"]["assumptions"] = assumptions
    return schema


def calculation_view(method: str) -> Any:
    """The view class for one method, documented under its own name."""

    def post(self: CalculationView, request: Request) -> Response:
        return CalculationView.post(self, request)

    documented = extend_schema(
        operation_id=f"calculate_{method}",
        request={"application/json": calculation_request_schema(method)},
        responses={201: LedgerRecordSerializer},
        parameters=[TENANT_PARAMETER],
        description=(
            f"Inputs of `{method}` as flat fields (names as in calculations.md), plus optional "
            '`"assumptions": {<financial model or KPI field>: value}` for a what-if.'
        ),
    )(post)
    return type(
        f"Calculate_{method}",
        (CalculationView,),
        {
            "method_name": method,
            "post": documented,
            "__doc__": f"Run `{method}` (see docs/methodology.md) and record it in the ledger.",
        },
    )


# --- Ledger -------------------------------------------------------------------------


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
    def get(self, request: TenantApiRequest) -> StreamingHttpResponse:
        days = self._days(request)
        rows = self._rows(request)
        filters = {name: str(day) for name, day in days.items() if day} | ({"rows": "1"} if rows else {})
        audit_record(
            kind=AuditKind.EXPORT,
            actor=actor_of(request).label,
            detail={"export": "ledger_jsonl", "filters": filters},
            request=request,
        )
        return ledger_export_response(tenant=request.tenant, rows=rows, **days)

    def head(self, request: TenantApiRequest) -> HttpResponse:
        """The headers a GET would answer with, no body: nothing is read, so nothing is exported."""
        days = self._days(request)
        response = HttpResponse(content_type=JSONL_CONTENT_TYPE)
        response["Content-Disposition"] = export_disposition(tenant=request.tenant, **days)
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


# --- Metrics ------------------------------------------------------------------------


class BusinessImpactQuery(serializers.Serializer):
    start = MonthOrDayField(required=False, help_text="first month, YYYY-MM (default: 11 months before end)")
    end = MonthOrDayField(required=False, help_text="last month, YYYY-MM (default: this month)")


def money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


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
        default_start = date(end.year - (1 if end.month < 12 else 0), (end.month % 12) + 1, 1)
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
                "streams": {name: money(value) for name, value in streams.items()},
                "total": money(sum(streams.values(), Decimal(0))),
                "downtime_cost": money(impact["downtime"]),
            }
        )
