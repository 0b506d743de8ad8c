"""Webhook receivers (DRF views): Prometheus Alertmanager, PagerDuty (v3) and GitHub deployments.

Each view finds the tenant in the path, checks the sender on the raw body (`senders`), then
reads the payload and stores it (`storage`).
"""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar
from urllib.parse import parse_qs

from django.core.exceptions import RequestDataTooBig
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.ledger import Actor
from governance.models import Tenant
from governance.tenancy import tenant_scope
from roi.webhooks.payloads import PayloadInvalid
from roi.webhooks.senders import NOT_ACCEPTED, alertmanager_sender, github_sender, pagerduty_sender
from roi.webhooks.storage import Received, alertmanager_receive, github_receive, pagerduty_receive

logger = logging.getLogger(__name__)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."


def raw_body(request: Request) -> bytes:
    try:
        return request.body
    except RequestDataTooBig:
        raise PayloadTooLarge() from None


def json_document(body: bytes | str, *, where: str = "body") -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise exceptions.ValidationError({where: ["Must be a JSON document."]}) from None


FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def media_type(request: Request) -> str:
    return request.META.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()


def form_payload(body: bytes) -> Any:
    """The JSON document of a form-encoded delivery, sent as its `payload` field (GitHub's "form" content type)."""
    try:
        fields = parse_qs(body.decode("ascii"), errors="strict", max_num_fields=10)
    except ValueError:  # not ASCII, bad UTF-8 behind a %-escape, or a flood of fields
        raise exceptions.ValidationError({"body": ["Must be URL-encoded form data with a payload field."]}) from None
    if not fields.get("payload"):
        raise exceptions.ValidationError({"payload": ["is required: the form field holding the JSON document."]})
    return json_document(fields["payload"][0], where="payload")


def webhook_tenant(slug: str) -> Tenant:
    """The tenant the path names; an unknown one is refused like a bad signature, so the
    receivers cannot be used to learn which tenants exist."""
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        logger.warning("webhook for unknown tenant %r refused", slug[:100])
        raise exceptions.AuthenticationFailed(NOT_ACCEPTED)
    return tenant


class WebhookView(APIView):
    """Base of the receivers: the tenant from the path, the sender checked on the raw body, then the payload."""

    # The receivers authenticate the sender themselves, against the tenant in the path.
    authentication_classes = []
    permission_classes = [AllowAny]
    challenge: ClassVar[str] = ""

    def get_authenticate_header(self, request: Request) -> str:
        return self.challenge

    def authenticate_sender(self, request: Request, body: bytes) -> Actor:
        raise NotImplementedError

    def receive(self, request: Request, actor: Actor, payload: Any) -> Received:
        raise NotImplementedError

    def document(self, request: Request, body: bytes) -> Any:
        """The delivery's JSON document; read only once the sender is known."""
        return json_document(body)

    def post(self, request: Request, slug: str) -> Response:
        tenant = webhook_tenant(slug)
        body = raw_body(request)
        try:
            with tenant_scope(tenant):
                actor = self.authenticate_sender(request, body)
                received = self.receive(request, actor, self.document(request, body))
        except PayloadInvalid as invalid:
            raise exceptions.ValidationError(invalid.errors) from None
        return Response(received.data, status=received.status)


ANSWERS = {
    200: OpenApiResponse(OpenApiTypes.OBJECT, description="Stored: every event was already known (updated)."),
    201: OpenApiResponse(OpenApiTypes.OBJECT, description="Stored: at least one new event."),
    202: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="Nothing stored, `detail` says why: an event the receiver does not use, "
        "or (GitHub) a deployment to an environment that is not production.",
    ),
    400: OpenApiResponse(OpenApiTypes.OBJECT, description="Malformed payload; errors name the tool's fields."),
    401: OpenApiResponse(OpenApiTypes.OBJECT, description="Missing or invalid key or signature; nothing stored."),
}


def _header(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, str, OpenApiParameter.HEADER, required=True, description=description)


class AlertmanagerWebhookView(WebhookView):
    challenge = "Bearer"

    def authenticate_sender(self, request: Request, body: bytes) -> Actor:
        return alertmanager_sender(request, body)

    def receive(self, request: Request, actor: Actor, payload: Any) -> Received:
        return alertmanager_receive(actor=actor, payload=payload)

    @extend_schema(
        operation_id="webhooks_alertmanager",
        request=OpenApiTypes.OBJECT,
        responses={**ANSWERS, 403: OpenApiResponse(OpenApiTypes.OBJECT, description="The key may not send events.")},
        # Security requirement objects, as AutoSchema.get_auth returns; extend_schema's hint says str.
        auth=[{"apiKey": []}],  # type: ignore[list-item]
        description="Prometheus Alertmanager webhook (payload version 4): each alert becomes an incident, "
        "upserted by fingerprint and start. Authorization: Bearer <an ingest or analyst key of this tenant>.",
    )
    def post(self, request: Request, slug: str) -> Response:
        return super().post(request, slug)


class PagerDutyWebhookView(WebhookView):
    challenge = 'HMAC-SHA256 header="X-PagerDuty-Signature"'

    def authenticate_sender(self, request: Request, body: bytes) -> Actor:
        return pagerduty_sender(request, body)

    def receive(self, request: Request, actor: Actor, payload: Any) -> Received:
        return pagerduty_receive(actor=actor, payload=payload)

    @extend_schema(
        operation_id="webhooks_pagerduty",
        request=OpenApiTypes.OBJECT,
        responses=ANSWERS,
        auth=[],
        parameters=[_header("X-PagerDuty-Signature", "v1=<hex HMAC-SHA256 of the body>, comma-separated")],
        description="PagerDuty v3 webhook: incident.triggered and incident.resolved become one incident.",
    )
    def post(self, request: Request, slug: str) -> Response:
        return super().post(request, slug)


class GitHubWebhookView(WebhookView):
    challenge = 'HMAC-SHA256 header="X-Hub-Signature-256"'

    def authenticate_sender(self, request: Request, body: bytes) -> Actor:
        return github_sender(request, body)

    def document(self, request: Request, body: bytes) -> Any:
        # GitHub's webhook form offers both content types (and the REST API defaults to form);
        # the signature covers the raw form body, checked before this.
        if media_type(request) == FORM_CONTENT_TYPE:
            return form_payload(body)
        return json_document(body)

    def receive(self, request: Request, actor: Actor, payload: Any) -> Received:
        return github_receive(actor=actor, event_type=request.headers.get("X-GitHub-Event", ""), payload=payload)

    @extend_schema(
        operation_id="webhooks_github",
        request=OpenApiTypes.OBJECT,
        responses=ANSWERS,
        auth=[],
        parameters=[
            _header("X-GitHub-Event", "deployment_status is used; other events are accepted and ignored"),
            _header("X-Hub-Signature-256", "sha256=<hex HMAC-SHA256 of the body>"),
        ],
        description="GitHub deployment_status webhook: a finished deployment to production becomes a "
        "deployment event (production_environment true, or an environment named in the tenant's "
        "production_environments; never a transient one). "
        "Content type application/json, or application/x-www-form-urlencoded with the document in `payload`.",
    )
    def post(self, request: Request, slug: str) -> Response:
        return super().post(request, slug)
