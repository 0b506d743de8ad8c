"""API of the money side's configuration (financial model, revenue model, KPIs), and the
helpers every `roi/*_api.py` module shares.

Calculations are in `calculations_api`, the ledger in `ledger_api`, the business-impact
metrics in `metrics_api`.

Views translate HTTP to a service or selector and back; engine validation errors become
400s naming each field.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from governance import roles
from governance.api import TENANT_PARAMETER, TenantAPIView, actor_of, query_of
from governance.requests import TenantApiRequest
from roi import proposals, selectors, services
from roi.engine import EngineInputError, FinancialFigures
from roi.figures import stored_flat
from roi.models import BusinessKpis, FinancialModel, ProposalTarget
from roi.proposals_api import ProposalSerializer, proposal_response


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
