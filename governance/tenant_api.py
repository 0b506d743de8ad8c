"""API of the tenant itself: its details, its settings and its members' roles."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from governance import roles, selectors, services
from governance.api import TENANT_PARAMETER, TenantAPIView, actor_of
from governance.models import AccountingStandard, BusinessModel, CompanySize, Industry, ReportingFrequency, Tenant
from governance.requests import TenantApiRequest
from governance.roles import Role
from governance.schema import CustomerSegmentsField, StrictCharField


class TenantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tenant
        fields = ["slug", "name", "currency", "fiscal_year_start_month", "time_zone", "created_at"]


class TenantInfoSerializer(serializers.Serializer):
    tenant = TenantSerializer()
    roles = serializers.ListField(child=serializers.CharField())


class TenantView(TenantAPIView):
    """The tenant the caller acts on, and the caller's roles there."""

    @extend_schema(responses=TenantInfoSerializer, parameters=[TENANT_PARAMETER])
    def get(self, request: TenantApiRequest) -> Response:
        return Response(TenantInfoSerializer({"tenant": request.tenant, "roles": sorted(request.roles)}).data)


class TenantSettingsSerializer(serializers.Serializer):
    require_dual_approval = serializers.BooleanField(
        required=False,
        help_text="Model and KPI changes need a second finance admin's approval. "
        "Off only for a tenant with a single member who may approve.",
    )
    changed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    changed_by = serializers.CharField(read_only=True, allow_null=True)
    industry = serializers.ChoiceField(choices=Industry.choices, required=False, help_text="Shown beside benchmarks.")
    company_size = serializers.ChoiceField(choices=CompanySize.choices, required=False)
    business_model = serializers.ChoiceField(choices=BusinessModel.choices, required=False)
    customer_segments = CustomerSegmentsField(
        required=False,
        help_text='Labels for the customers the tenant serves, e.g. ["enterprise", "mid-market"]: distinct '
        "ignoring case, whitespace stripped; an empty list clears them.",
    )
    accounting_standard = serializers.ChoiceField(
        choices=AccountingStandard.choices, required=False, help_text="Named on every report's provenance."
    )
    reporting_frequency = serializers.ChoiceField(
        choices=ReportingFrequency.choices,
        required=False,
        help_text="The shortest period reported automatically: monthly makes monthly, quarterly and annual "
        "reports; quarterly makes quarterly and annual; annual only annual.",
    )
    business_context_changed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    business_context_changed_by = serializers.CharField(read_only=True, allow_null=True)
    production_environments = serializers.ListField(
        child=StrictCharField(max_length=services.MAX_ENVIRONMENT_NAME),
        max_length=services.MAX_PRODUCTION_ENVIRONMENTS,
        required=False,
        help_text="Deployment environment names counted as production (letter case ignored), besides "
        "those GitHub flags production_environment; transient environments never count. "
        "Applies to deliveries from now on.",
    )


def tenant_settings_data(tenant: Tenant) -> dict[str, Any]:
    switched = selectors.dual_approval_last_change(tenant=tenant)
    context_changed = selectors.business_context_last_change(tenant=tenant)
    return TenantSettingsSerializer(
        {
            "require_dual_approval": tenant.require_dual_approval,
            "changed_at": None if switched is None else switched.occurred_at,
            "changed_by": None if switched is None else switched.actor,
            **{name: getattr(tenant, name) for name in services.BUSINESS_CONTEXT_FIELDS},
            "business_context_changed_at": None if context_changed is None else context_changed.occurred_at,
            "business_context_changed_by": None if context_changed is None else context_changed.actor,
            "production_environments": tenant.production_environments,
        }
    ).data


class TenantSettingsView(TenantAPIView):
    """The tenant's controls: whether model and KPI changes need a second approver (and since when),
    its business context (industry, size, business model, customer segments, accounting standard,
    reporting frequency), and which deployment environments are production."""

    allowed_roles = {"GET": roles.READ, "PUT": roles.MANAGE_TENANT}

    @extend_schema(responses=TenantSettingsSerializer, parameters=[TENANT_PARAMETER])
    def get(self, request: TenantApiRequest) -> Response:
        return Response(tenant_settings_data(request.tenant))

    @extend_schema(request=TenantSettingsSerializer, responses=TenantSettingsSerializer, parameters=[TENANT_PARAMETER])
    def put(self, request: TenantApiRequest) -> Response:
        """Change the settings given; those left out stay as they are."""
        body = TenantSettingsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        given = body.validated_data
        actor = actor_of(request).label
        tenant = request.tenant
        with transaction.atomic():
            context = {name: given[name] for name in services.BUSINESS_CONTEXT_FIELDS if name in given}
            if context:
                tenant = services.tenant_business_context_set(tenant=tenant, actor=actor, changes=context)
            if "require_dual_approval" in given:
                tenant = services.tenant_dual_approval_set(
                    tenant=tenant, enabled=given["require_dual_approval"], actor=actor
                )
            if "production_environments" in given:
                tenant = services.tenant_production_environments_set(
                    tenant=tenant, actor=actor, names=given["production_environments"]
                )
        return Response(tenant_settings_data(tenant))


class MemberSerializer(serializers.Serializer):
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices))


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class MemberListView(TenantAPIView):
    allowed_roles = {"GET": roles.MANAGE_TENANT | roles.AUDIT}
    serializer_class = MemberSerializer

    @extend_schema(responses=MemberSerializer(many=True), parameters=[TENANT_PARAMETER])
    def get(self, request: TenantApiRequest) -> Response:
        members = selectors.members_of(tenant=request.tenant)
        page = self.paginate_queryset(
            [{"username": user.get_username(), "roles": sorted(held)} for user, held in members]
        )
        return self.get_paginated_response(MemberSerializer(page, many=True).data)


class MemberDetailView(TenantAPIView):
    """Change a member's role, or remove them from the tenant.

    Only existing members: adding people is a platform admin's job, so a tenant admin
    cannot probe which usernames exist on the platform.
    """

    allowed_roles = {"PUT": roles.MANAGE_TENANT, "DELETE": roles.MANAGE_TENANT}

    def _member(self, request: TenantApiRequest, username: str) -> Any:
        user = selectors.user_by_username(username=username)
        if user is None or not selectors.roles_for_user(user=user, tenant=request.tenant):
            raise exceptions.NotFound("No such member.")
        return user

    @extend_schema(request=MemberRoleSerializer, responses=MemberSerializer, parameters=[TENANT_PARAMETER])
    def put(self, request: TenantApiRequest, username: str) -> Response:
        body = MemberRoleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = self._member(request, username)
        services.membership_set_role(
            tenant=request.tenant, user=user, role=body.validated_data["role"], actor=actor_of(request).label
        )
        held = selectors.roles_for_user(user=user, tenant=request.tenant)
        return Response(MemberSerializer({"username": user.get_username(), "roles": sorted(held)}).data)

    @extend_schema(responses={204: None}, parameters=[TENANT_PARAMETER])
    def delete(self, request: TenantApiRequest, username: str) -> Response:
        services.membership_set_role(
            tenant=request.tenant,
            user=self._member(request, username),
            role=None,
            actor=actor_of(request).label,
            field="username",
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
