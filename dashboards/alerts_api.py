"""Alerts over the API: list, acknowledge, resolve; and the tenant's escalation settings."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from dashboards import alerts, escalations
from dashboards.alert_delivery import delivery_state
from dashboards.models import Alert, AlertStatus, Escalation
from governance import roles
from governance.api import TENANT_PARAMETER, TenantAPIView, actor_of, query_of
from governance.roles import Role
from governance.schema import StrictCharField

# Triage is an analyst's job; auditors and viewers read.
ALERT_HANDLERS = roles.at_least(Role.ANALYST)


class AlertSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    rule = serializers.CharField()
    period = serializers.CharField()
    status = serializers.ChoiceField(choices=AlertStatus.choices)
    escalation = serializers.CharField()
    audience = serializers.CharField()
    unit = serializers.CharField()
    message = serializers.CharField()
    figure = serializers.CharField(help_text="the measured value")
    target = serializers.CharField(help_text="the threshold it was judged against")
    opened_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledged_by = serializers.CharField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolved_by = serializers.CharField(allow_null=True)
    detail = serializers.DictField()
    delivery = serializers.DictField()


def alert_data(alert: Alert) -> dict[str, Any]:
    return {**alerts.alert_as_dict(alert), "delivery": delivery_state(alert)}


class AlertFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=AlertStatus.choices, required=False)


class AlertListView(TenantAPIView):
    """The tenant's alerts, newest first."""

    allowed_roles = {"GET": roles.READ}
    serializer_class = AlertSerializer

    @extend_schema(
        responses=AlertSerializer(many=True),
        parameters=[TENANT_PARAMETER, AlertFilters],
    )
    def get(self, request: Request) -> Response:
        filters = AlertFilters(data=query_of(request))
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(alerts.alerts_list(status=filters.validated_data.get("status")))
        assert page is not None  # DEFAULT_PAGINATION_CLASS always pages
        return self.get_paginated_response([alert_data(alert) for alert in page])


class AlertStepView(TenantAPIView):
    allowed_roles = {"POST": ALERT_HANDLERS}
    step: Any = None

    @extend_schema(request=None, responses=AlertSerializer, parameters=[TENANT_PARAMETER])
    def post(self, request: Request, alert_id: int) -> Response:
        try:
            alert = type(self).step(alert_id=alert_id, actor=actor_of(request))
        except Alert.DoesNotExist:
            raise exceptions.NotFound("No such alert.") from None
        except ValidationError as error:
            raise exceptions.ValidationError(error.message_dict) from None
        return Response(alert_data(alert))


class AlertAcknowledgeView(AlertStepView):
    """Acknowledge an open alert: who and when are recorded (acknowledging again changes nothing)."""

    step = alerts.alert_acknowledge


class AlertResolveView(AlertStepView):
    """Resolve an alert by hand: its rule does not fire again for the same period."""

    step = alerts.alert_resolve


class RecipientsSerializer(serializers.Serializer):
    roles = serializers.ListField(child=serializers.CharField(), required=False)
    users = serializers.ListField(child=serializers.CharField(), required=False, help_text="usernames")


class EscalationSettingsSerializer(serializers.Serializer):
    recipients = serializers.DictField(
        child=RecipientsSerializer(), help_text="notify_cfo, board_review, executive_alert"
    )
    rules = serializers.DictField(
        child=serializers.ChoiceField(choices=Escalation.choices), help_text="each alert rule's escalation"
    )
    webhook_url = serializers.CharField(allow_blank=True)
    webhook_secret_set = serializers.BooleanField()
    updated_at = serializers.DateTimeField(allow_null=True)
    updated_by = serializers.CharField(allow_null=True)


@extend_schema_field(escalations.RECIPIENTS_SCHEMA)
class RecipientsField(serializers.JSONField):
    """Who each escalation notifies, typed for the schema."""


@extend_schema_field(escalations.RULES_SCHEMA)
class RulesField(serializers.JSONField):
    """The escalation each alert rule raises, typed for the schema."""


class EscalationSettingsBodySerializer(serializers.Serializer):
    # The API's parser reads 1.5 as a Decimal; DRF's default encoder would call that "not valid JSON".
    recipients = RecipientsField(
        required=False, encoder=DjangoJSONEncoder, help_text='{"notify_cfo": {"roles": [...], "users": [...]}}'
    )
    rules = RulesField(
        required=False,
        encoder=DjangoJSONEncoder,
        help_text='{"roi_decline": "board_review"}: the escalation each rule named raises',
    )
    webhook_url = StrictCharField(required=False, allow_blank=True, max_length=500)
    webhook_secret = StrictCharField(
        required=False, allow_blank=True, max_length=1000, write_only=True, trim_whitespace=False
    )


class EscalationSettingsView(TenantAPIView):
    """Which escalation each alert rule raises, who receives each, and the signed chat webhook."""

    allowed_roles = {"GET": roles.MANAGE_TENANT | roles.AUDIT, "PUT": roles.MANAGE_TENANT}

    @extend_schema(responses=EscalationSettingsSerializer, parameters=[TENANT_PARAMETER])
    def get(self, request: Request) -> Response:
        return Response(escalations.escalation_settings_as_dict(escalations.escalation_settings_current()))

    @extend_schema(
        request=EscalationSettingsBodySerializer,
        responses=EscalationSettingsSerializer,
        parameters=[TENANT_PARAMETER],
        description="Fields sent replace theirs; recipients replace the escalations named, rules the rules named. "
        "The webhook secret is stored encrypted and never shown; an empty one removes it.",
    )
    def put(self, request: Request) -> Response:
        body = EscalationSettingsBodySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            row = escalations.escalation_settings_update(actor=actor_of(request), **body.validated_data)
        except ValidationError as error:
            raise exceptions.ValidationError(error.message_dict) from None
        return Response(escalations.escalation_settings_as_dict(row))
