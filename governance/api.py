"""The API's tenancy and roles, and the tenant, member and key endpoints.

Every tenant API view inherits `TenantAPIView`: once DRF has authenticated the caller, the
tenant is resolved (from the key, or the session user's membership and `X-Tenant`) and the
rest of the request runs inside `tenant_scope`, one transaction, rolled back on error.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any, ClassVar

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from governance import audit, mfa, periods, roles, secrets, selectors, services
from governance.errors import DATABASE_ERRORS
from governance.idempotency import IdempotentMixin
from governance.ledger import Actor
from governance.models import (
    AccountingStandard,
    ApiKey,
    AuditEvent,
    AuditKind,
    BusinessModel,
    ClosedPeriod,
    CompanySize,
    Industry,
    IntegrationSecret,
    IntegrationTool,
    ReportingFrequency,
    Tenant,
)
from governance.requests import TenantApiRequest
from governance.roles import KeyRole, Role
from governance.schema import CustomerSegmentsField, StrictCharField
from governance.tenancy import tenant_scope

TENANT_HEADER = "X-Tenant"


def resolve_tenant(request: Request) -> tuple[Tenant, frozenset[str]]:
    """The tenant this request acts on, and the caller's roles there.

    A key names its tenant; a session user has their only tenant or the one named by
    `X-Tenant`. A tenant the caller does not belong to is a 404, like one that does not exist.
    """
    named = request.headers.get(TENANT_HEADER, "").strip()
    api_key = request.auth if isinstance(request.auth, ApiKey) else None
    if api_key is not None:
        if named and named != api_key.tenant.slug:
            raise exceptions.NotFound("No such tenant.")
        return api_key.tenant, frozenset({api_key.role})
    if not mfa.mfa_satisfied(request):
        raise exceptions.PermissionDenied(mfa.MFA_REQUIRED_MESSAGE)
    if named:
        tenant = Tenant.objects.filter(slug=named).first()
        held = selectors.roles_for_user(user=request.user, tenant=tenant) if tenant else frozenset()
        if tenant is None or not held:
            raise exceptions.NotFound("No such tenant.")
        return tenant, held
    tenants = list(selectors.tenants_for_user(user=request.user)[:2])
    if not tenants:
        raise exceptions.PermissionDenied("You are not a member of any tenant.")
    if len(tenants) > 1:
        raise exceptions.ValidationError({TENANT_HEADER: ["You belong to several tenants: name one in this header."]})
    return tenants[0], selectors.roles_for_user(user=request.user, tenant=tenants[0])


def actor_of(request: Request) -> Actor:
    """The person or key behind an authenticated request, as the ledger and history name it."""
    if isinstance(request.auth, ApiKey):
        return Actor.of_key(request.auth)
    return Actor.of_user(request.user)


class HasTenantRole(BasePermission):
    """The caller holds one of the roles the view allows for this HTTP method."""

    message = "Your role may not do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not hasattr(view, request.method.lower()):
            return True  # let DRF answer 405 for a method the view does not have
        allowed = view.roles_for(request.method)
        return bool(getattr(request, "roles", frozenset()) & allowed)


class TenantAPIView(IdempotentMixin, GenericAPIView):
    """Base of every tenant API view: tenant scope after authentication, roles per method.

    Unsafe requests may carry an `Idempotency-Key` (governance.idempotency).
    """

    permission_classes = [IsAuthenticated, HasTenantRole]
    # HTTP method -> roles allowed; "*" is the fallback for methods not listed.
    allowed_roles: ClassVar[dict[str, frozenset[str]]] = {"*": roles.READ}

    def roles_for(self, method: str) -> frozenset[str]:
        if method == "HEAD":
            method = "GET"  # HEAD is GET without the body: the same callers may ask
        if method == "OPTIONS":
            # Whoever may call some method here may ask which methods there are.
            return frozenset().union(*(self.roles_for(name) for name in self.allowed_roles if name != "OPTIONS"))
        return self.allowed_roles.get(method, self.allowed_roles.get("*", frozenset()))

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            with ExitStack() as stack:
                self._scope_stack = stack
                response = super().dispatch(request, *args, **kwargs)
                if getattr(response, "exception", False) and getattr(self, "_tenant_scoped", False):
                    transaction.set_rollback(True)
                return response
        except DATABASE_ERRORS as error:
            # The connection died in the scope, so leaving its transaction failed as well:
            # the same 503 as a failure inside the view.
            return self.finalize_response(self.request, self.handle_exception(error))

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)
        if not request.user or not request.user.is_authenticated:
            return  # the permission check answers 401
        tenant, held = resolve_tenant(request)
        request.tenant = tenant  # type: ignore[attr-defined]
        request.roles = held  # type: ignore[attr-defined]
        self._scope_stack.enter_context(tenant_scope(tenant))
        self._tenant_scoped = True


def query_of(request: Request) -> dict[str, str]:
    """The query string as a plain mapping, for a filter serializer to validate.

    DRF reads a QueryDict as form input, where an empty optional field counts as not sent:
    `?date=` would be answered as if no date were given. Here an empty value is a value,
    refused by the field like any other it cannot read.
    """
    return request.query_params.dict()


TENANT_PARAMETER = OpenApiParameter(
    TENANT_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Tenant slug, for session users in several tenants.",
)


# --- Tenant -------------------------------------------------------------------------


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


# --- Members ------------------------------------------------------------------------


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


# --- API keys -----------------------------------------------------------------------


class ApiKeySerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    created_by_key = serializers.SlugRelatedField(
        slug_field="prefix", read_only=True, allow_null=True, help_text="Prefix of the key that made this one."
    )
    root_user = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="The person this key answers to: its maker, or the person behind the key that made it.",
    )
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "role",
            "prefix",
            "created_at",
            "created_by",
            "created_by_key",
            "root_user",
            "expires_at",
            "revoked_at",
            "is_active",
        ]


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    role = serializers.ChoiceField(choices=KeyRole.choices)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class IssuedKeySerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="Shown once; only its hash is stored.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]


class ApiKeyListView(TenantAPIView):
    allowed_roles = {"GET": roles.MANAGE_TENANT | roles.AUDIT, "POST": roles.MANAGE_TENANT}
    idempotency_secret_fields = frozenset({"key"})

    serializer_class = ApiKeySerializer

    @extend_schema(responses=ApiKeySerializer(many=True), parameters=[TENANT_PARAMETER])
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.api_keys_list())
        return self.get_paginated_response(ApiKeySerializer(page, many=True).data)

    @extend_schema(
        request=ApiKeyCreateSerializer,
        responses={201: IssuedKeySerializer},
        parameters=[TENANT_PARAMETER],
        description="The new key answers to the caller's person (`root_user`). A retry with the same "
        "`Idempotency-Key` is a 409 naming the key made: its secret is shown once and never stored.",
    )
    def post(self, request: Request) -> Response:
        body = ApiKeyCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        maker = actor_of(request)
        issued = services.api_key_create(created_by=maker.user, created_by_key=maker.api_key, **body.validated_data)
        data = ApiKeySerializer(issued.api_key).data | {"key": issued.raw_key}
        return Response(data, status=status.HTTP_201_CREATED)


class ApiKeyDetailView(TenantAPIView):
    allowed_roles = {"GET": roles.MANAGE_TENANT | roles.AUDIT, "DELETE": roles.MANAGE_TENANT}

    @extend_schema(responses=ApiKeySerializer, parameters=[TENANT_PARAMETER])
    def get(self, request: Request, key_id: int) -> Response:
        return Response(ApiKeySerializer(get_object_or_404(selectors.api_keys_list(), pk=key_id)).data)

    @extend_schema(responses={200: ApiKeySerializer}, parameters=[TENANT_PARAMETER], description="Revoke the key.")
    def delete(self, request: Request, key_id: int) -> Response:
        api_key = services.api_key_revoke(
            api_key=get_object_or_404(selectors.api_keys_list(), pk=key_id), actor=actor_of(request).label
        )
        return Response(ApiKeySerializer(api_key).data)


# --- Integration secrets ------------------------------------------------------------


class IntegrationSecretBodySerializer(serializers.Serializer):
    secret = StrictCharField(
        write_only=True,
        min_length=secrets.MIN_SECRET_LENGTH,
        max_length=secrets.MAX_SECRET_LENGTH,
        error_messages={"min_length": secrets.TOO_SHORT_MESSAGE},
    )


class IntegrationSecretStatusSerializer(serializers.Serializer):
    tool = serializers.ChoiceField(choices=IntegrationTool.choices)
    set = serializers.BooleanField()
    set_at = serializers.DateTimeField(allow_null=True)
    problem = serializers.CharField(
        allow_null=True, help_text="Why deliveries are refused under the stored secret (e.g. too weak); null if none."
    )


def integration_status_data(tool: str, row: IntegrationSecret | None) -> dict[str, Any]:
    problem = None if row is None else secrets.integration_secret_problem(tool=tool)
    return IntegrationSecretStatusSerializer(
        {"tool": tool, "set": row is not None, "set_at": None if row is None else row.set_at, "problem": problem}
    ).data


TOOL_PARAMETER = OpenApiParameter("tool", str, OpenApiParameter.PATH, enum=IntegrationTool.values)


class IntegrationSecretView(TenantAPIView):
    """A tool's webhook signing secret: write-only; reading tells whether one is set, and since when."""

    allowed_roles = {"GET": roles.MANAGE_TENANT | roles.AUDIT, "PUT": roles.MANAGE_TENANT}

    @staticmethod
    def _known(tool: str) -> str:
        if tool not in IntegrationTool.values:
            raise exceptions.NotFound(f"No such integration; choose one of {', '.join(IntegrationTool.values)}.")
        return tool

    @extend_schema(responses=IntegrationSecretStatusSerializer, parameters=[TENANT_PARAMETER, TOOL_PARAMETER])
    def get(self, request: Request, tool: str) -> Response:
        tool = self._known(tool)
        return Response(integration_status_data(tool, secrets.integration_secret_status(tool=tool)))

    @extend_schema(
        request=IntegrationSecretBodySerializer,
        responses=IntegrationSecretStatusSerializer,
        parameters=[TENANT_PARAMETER, TOOL_PARAMETER],
        description="Store the tool's signing secret, encrypted. It is never shown again.",
    )
    def put(self, request: Request, tool: str) -> Response:
        tool = self._known(tool)
        body = IntegrationSecretBodySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = secrets.integration_secret_set(tool=tool, secret=body.validated_data["secret"], actor=actor_of(request))
        return Response(integration_status_data(tool, row))


# --- Audit log ----------------------------------------------------------------------


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


# --- Period close -------------------------------------------------------------------


@extend_schema_field({"type": "string", "pattern": periods.MONTH_PATTERN})
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
                {"type": "string", "pattern": periods.MONTH_PATTERN},
                OpenApiParameter.PATH,
                description="YYYY-MM",
            ),
        ],
    )
    def post(self, request: Request, month: str) -> Response:
        period = periods.period_close(month=periods.parse_month(month), actor=actor_of(request))
        return Response(ClosedPeriodSerializer(period).data, status=status.HTTP_201_CREATED)
