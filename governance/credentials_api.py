"""API of a tenant's credentials: its API keys and the secrets of its integrations."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from governance import roles, secrets, selectors, services
from governance.api import TENANT_PARAMETER, TenantAPIView, actor_of
from governance.models import ApiKey, IntegrationSecret, IntegrationTool
from governance.roles import KeyRole
from governance.schema import StrictCharField


class ApiKeySerializer(serializers.ModelSerializer):
    created_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    created_by_key: serializers.SlugRelatedField[ApiKey] = serializers.SlugRelatedField(
        slug_field="prefix", read_only=True, allow_null=True, help_text="Prefix of the key that made this one."
    )
    root_user: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
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
