"""Webhook receivers: Prometheus Alertmanager, PagerDuty (v3) and GitHub deployments.

These tools cannot all send a bearer key, so the tenant is named in the path and each
sender proves itself its own way: Alertmanager with an API key of that tenant, PagerDuty
and GitHub with an HMAC-SHA256 of the raw body under the tenant's stored secret. Every
delivery is translated into ordinary events and stored by `events_ingest`, the one way
events get in; payloads are read field by field so a malformed one is a 400 naming the
tool's own field, never a 500.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs

from django.core.exceptions import RequestDataTooBig
from django.db import connection, transaction
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.authentication import get_authorization_header
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance import roles
from governance.auth import api_key_find
from governance.ledger import Actor
from governance.models import IntegrationTool, Tenant
from governance.secrets import SecretUndecryptable, integration_secret_reveal
from governance.tenancy import current_tenant, tenant_scope
from roi.event_fields import MAX_TEXT, SEVERITIES
from roi.ingestion import BatchInvalid, events_ingest
from roi.models import EventKind, Incident

logger = logging.getLogger(__name__)

# The same answer whatever was wrong (no key, another tenant's key, no secret set, bad
# signature), so a caller learns nothing beyond "not accepted".
NOT_ACCEPTED = "Missing or invalid credentials for this webhook."

ALERTMANAGER_SEVERITIES = {
    "critical": "sev1",
    "error": "sev2",
    "high": "sev2",
    "warning": "sev3",
    "info": "sev4",
}
# PagerDuty names priorities P1 to P5 until an account renames them; SEV-1 and the like are common.
PAGERDUTY_PRIORITY = re.compile(r"(?:P|SEV)[ _-]?([1-5])", re.IGNORECASE)
PAGERDUTY_URGENCIES = {"high": "sev2", "low": "sev4"}
PAGERDUTY_EVENTS = ("incident.triggered", "incident.resolved")
GITHUB_STATES = {"success": False, "failure": True, "error": True}  # state -> failed
DEFAULT_SEVERITY = "sev3"
# The tools put no limit on these texts; ours are cut to fit our columns rather than refused,
# since a refused delivery is not re-sent and would lose the whole notification.
MAX_TITLE = 300
MAX_SERVICE = MAX_TEXT
MAX_LABEL = 100  # department, product


class PayloadInvalid(Exception):
    """A delivery that cannot be read, with messages keyed by the tool's own field paths."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = errors


@dataclass
class Reader:
    """Reads typed values at dotted paths of a JSON document, collecting errors by path."""

    data: Any
    prefix: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    def path(self, name: str) -> str:
        if not name:
            return self.prefix or "body"
        return f"{self.prefix}.{name}" if self.prefix else name

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(self.path(name), []).append(message)

    def child(self, name: str, data: Any) -> Reader:
        return Reader(data, self.path(name), self.errors)

    def value(self, name: str, kind: type | tuple[type, ...], what: str, *, required: bool = False) -> Any:
        node, walked = self.data, []
        for part in name.split("."):
            if not isinstance(node, Mapping):
                self.fail(".".join(walked), "must be an object")
                return None
            walked.append(part)
            node = node.get(part)
            if node is None:
                if required:
                    self.fail(name, "is required")
                return None
        if isinstance(node, bool) or not isinstance(node, kind):
            self.fail(name, f"must be {what}")
            return None
        return node

    def text(self, name: str, *, required: bool = False) -> str:
        return (self.value(name, str, "a string", required=required) or "").strip()

    def identifier(self, name: str, *, required: bool = False) -> str:
        found = self.value(name, (str, int), "a string or an integer", required=required)
        return "" if found is None else str(found).strip()

    def mapping(self, name: str) -> Mapping[str, Any]:
        return self.value(name, Mapping, "an object") or {}

    def items(self, name: str, *, required: bool = False) -> list[Any]:
        return self.value(name, list, "a list", required=required) or []

    def moment(self, name: str, *, required: bool = False) -> datetime | None:
        raw = self.value(name, str, "an ISO 8601 date-time", required=required)
        if raw is None:
            return None
        try:
            parsed = parse_datetime(raw.strip())
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            self.fail(name, "must be an ISO 8601 date-time with an offset, e.g. 2026-11-02T14:05:00Z")
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
            self.fail(name, "is out of range")
            return None

    def check(self) -> None:
        if self.errors:
            raise PayloadInvalid(self.errors)


def _label(labels: Mapping[str, Any], name: str) -> str:
    value = labels.get(name)
    return value.strip() if isinstance(value, str) else ""


def _optional(**fields: Any) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value not in (None, "", [])}


# --- Reading each tool's payload into events ------------------------------------------------

ALERTMANAGER_FIELDS = {
    "external_id": "fingerprint",
    "title": "annotations.summary",
    "severity": "labels.severity",
    "started_at": "startsAt",
    "resolved_at": "endsAt",
    "affected_services": "labels.service",
    "department": "labels.department",
    "product": "labels.product",
}


def alertmanager_severity(label: str) -> str:
    """Our severity for an alert's `severity` label; rules that already say sev1 to sev4 keep theirs."""
    label = label.lower()
    return label if label in SEVERITIES else ALERTMANAGER_SEVERITIES.get(label, DEFAULT_SEVERITY)


def alertmanager_incidents(payload: Any) -> list[dict[str, Any]]:
    """One incident per alert, keyed by fingerprint and start, so re-sends and resolutions upsert."""
    document = Reader(payload)
    if not isinstance(payload, Mapping):
        document.fail("body", "must be a JSON object")
        document.check()
    version = document.text("version", required=True)
    if version and version != "4":
        document.fail("version", 'must be "4" (the Alertmanager webhook payload version)')
    alerts = document.items("alerts", required=True)
    incidents = []
    for index, alert in enumerate(alerts):
        reader = document.child(f"alerts.{index}", alert)
        if not isinstance(alert, Mapping):
            reader.fail("", "must be an object")
            continue
        state = reader.text("status", required=True)
        if state and state not in ("firing", "resolved"):
            reader.fail("status", "must be firing or resolved")
        fingerprint = reader.text("fingerprint", required=True)
        started_at = reader.moment("startsAt", required=True)
        resolved_at = reader.moment("endsAt", required=True) if state == "resolved" else None
        labels, annotations = reader.mapping("labels"), reader.mapping("annotations")
        title = _label(annotations, "summary") or _label(labels, "alertname") or fingerprint
        service = _label(labels, "service")[:MAX_SERVICE]
        if started_at is None or not fingerprint:
            continue
        incidents.append(
            {
                "external_id": f"alertmanager:{fingerprint}:{started_at.isoformat()}",
                "title": title[:MAX_TITLE],
                "severity": alertmanager_severity(_label(labels, "severity")),
                "started_at": started_at.isoformat(),
                **_optional(
                    resolved_at=resolved_at and resolved_at.isoformat(),
                    affected_services=[service] if service else [],
                    department=_label(labels, "department")[:MAX_LABEL],
                    product=_label(labels, "product")[:MAX_LABEL],
                ),
            }
        )
    document.check()
    return incidents


PAGERDUTY_FIELDS = {
    "external_id": "event.data.id",
    "title": "event.data.title",
    "severity": "event.data.priority",
    "started_at": "event.data.created_at",
    "resolved_at": "event.occurred_at",
    "affected_services": "event.data.service.summary",
    "department": "event.data.teams",
}


def pagerduty_severity(priority: str, urgency: str) -> str:
    """Priority when the account uses priorities (P1 to P5, or SEV1 to SEV5), else urgency."""
    if ranked := PAGERDUTY_PRIORITY.fullmatch(priority.strip()):
        return f"sev{min(int(ranked.group(1)), 4)}"
    return PAGERDUTY_URGENCIES.get(urgency.lower(), DEFAULT_SEVERITY)


def pagerduty_incident(payload: Any) -> dict[str, Any] | None:
    """The incident a v3 event triggers or resolves (keyed by PagerDuty's id), or None to ignore it."""
    reader = Reader(payload)
    event_type = reader.text("event.event_type", required=True)
    reader.check()
    if event_type not in PAGERDUTY_EVENTS:
        return None
    incident_id = reader.identifier("event.data.id", required=True)
    started_at = reader.moment("event.data.created_at", required=True)
    resolved_at = reader.moment("event.occurred_at", required=True) if event_type == "incident.resolved" else None
    teams = reader.items("event.data.teams")
    team = reader.child("event.data.teams.0", teams[0]).text("summary") if teams else ""
    service = reader.text("event.data.service.summary")
    incident = {
        "external_id": f"pagerduty:{incident_id}",
        "title": reader.text("event.data.title")[:MAX_TITLE],
        "severity": pagerduty_severity(reader.text("event.data.priority.summary"), reader.text("event.data.urgency")),
        "started_at": started_at and started_at.isoformat(),
        **_optional(
            resolved_at=resolved_at and resolved_at.isoformat(),
            affected_services=[service[:MAX_SERVICE]] if service else [],
            department=team[:MAX_LABEL],
        ),
    }
    reader.check()
    return incident


GITHUB_FIELDS = {
    "external_id": "deployment.id",
    "service": "repository.name",
    "deployed_at": "deployment_status.created_at",
    "committed_at": "workflow_run.head_commit.timestamp",
    "failed": "deployment_status.state",
}


def github_deployment(event_type: str, payload: Any) -> dict[str, Any] | None:
    """The deployment a finished `deployment_status` reports (keyed by deployment id), or None to ignore it."""
    if event_type != "deployment_status":
        return None
    reader = Reader(payload)
    state = reader.text("deployment_status.state", required=True)
    reader.check()
    if state not in GITHUB_STATES:
        return None  # pending, queued, in_progress, inactive: not a finished deployment
    deployment_id = reader.identifier("deployment.id", required=True)
    repository = reader.text("repository.name", required=True)
    environment = reader.text("deployment.environment") or reader.text("deployment_status.environment")
    deployed_at = reader.moment("deployment_status.created_at", required=True)
    # Present when GitHub Actions made the deployment; other deployers do not send it.
    committed_at = reader.moment("workflow_run.head_commit.timestamp")
    reader.check()
    assert deployed_at is not None
    if committed_at is not None and committed_at > deployed_at:
        committed_at = None  # clock skew between the committer's machine and GitHub
    return {
        "external_id": f"github:{deployment_id}",
        "service": (f"{repository}/{environment}" if environment else repository)[:MAX_SERVICE],
        "deployed_at": deployed_at.isoformat(),
        "failed": GITHUB_STATES[state],
        **_optional(committed_at=committed_at and committed_at.isoformat()),
    }


# --- Storing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    status: int
    data: dict[str, Any]


def ignored(reason: str) -> Received:
    return Received(status.HTTP_202_ACCEPTED, {"stored": False, "detail": reason})


def incident_deliveries_serialized(incidents: list[dict[str, Any]]) -> None:
    """Hold, to the commit, a lock per incident id of the scope tenant (PostgreSQL).

    Between `without_reopening`'s read and the upsert, a resolution delivered at the same
    moment would be overwritten by the "still open" update and its downtime lost (retries,
    Alertmanager HA pairs and parallel senders do overlap). Transaction-level advisory
    locks, taken in one order, serialize only deliveries of the same incidents; ingestion's
    own locks are untouched, so no lock-order cycle with them.
    """
    if connection.vendor != "postgresql":
        return  # embedded mode (SQLite) has no such lock; the race is left open there
    tenant_id = current_tenant().pk
    keys = sorted(
        {
            int.from_bytes(
                hashlib.sha256(f"webhook:{tenant_id}:{incident['external_id']}".encode()).digest()[:8],
                "big",
                signed=True,
            )
            for incident in incidents
        }
    )
    with connection.cursor() as cursor:
        for key in keys:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def without_reopening(incidents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop "still open" updates of incidents already resolved here.

    Tools deliver out of order and re-send; a late "triggered" must not wipe the
    resolution (and with it the downtime) that arrived before it.
    """
    open_ids = [incident["external_id"] for incident in incidents if not incident.get("resolved_at")]
    if not open_ids:
        return incidents
    resolved = set(
        Incident.objects.filter(external_id__in=open_ids, resolved_at__isnull=False).values_list(
            "external_id", flat=True
        )
    )
    return [incident for incident in incidents if incident["external_id"] not in resolved]


def _source_errors(
    errors: dict[str, list[str]], fields: dict[str, str], prefix: str | None, positions: list[int]
) -> dict[str, list[str]]:
    """Ingestion's "<index>.<field>" errors, renamed to the field (and position) the tool sent."""
    renamed: dict[str, list[str]] = {}
    for key, messages in errors.items():
        index, _, name = key.partition(".")
        if not name or not index.isdigit():
            renamed.setdefault("body", []).extend(messages)
            continue
        source = fields.get(name, name)
        renamed.setdefault(f"{prefix}.{positions[int(index)]}.{source}" if prefix else source, []).extend(messages)
    return renamed


def events_store(
    *,
    actor: Actor,
    kind: str,
    events: list[dict[str, Any]],
    fields: dict[str, str],
    prefix: str | None = None,
    positions: list[int] | None = None,
) -> Received:
    """Ingest translated events for the scope tenant; 201 when any is new, else 200.

    `positions` says where each event stood in the tool's list, so errors name the right item.
    """
    try:
        outcome = events_ingest(actor=actor, kind=kind, payload=events)
    except BatchInvalid as invalid:
        where = positions if positions is not None else list(range(len(events)))
        raise PayloadInvalid(_source_errors(invalid.errors, fields, prefix, where)) from None
    return Received(status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK, outcome.as_dict())


@transaction.atomic
def alertmanager_receive(*, actor: Actor, payload: Any) -> Received:
    incidents = alertmanager_incidents(payload)
    incident_deliveries_serialized(incidents)
    kept = without_reopening(incidents)
    if not kept:
        return ignored("No alert to store (none sent, or all already resolved).")
    return events_store(
        actor=actor,
        kind=EventKind.INCIDENT,
        events=kept,
        fields=ALERTMANAGER_FIELDS,
        prefix="alerts",
        positions=[index for index, incident in enumerate(incidents) if any(incident is k for k in kept)],
    )


@transaction.atomic
def pagerduty_receive(*, actor: Actor, payload: Any) -> Received:
    incident = pagerduty_incident(payload)
    if incident is None:
        return ignored("Only incident.triggered and incident.resolved events are used.")
    incident_deliveries_serialized([incident])
    if not without_reopening([incident]):
        return ignored("The incident is already resolved.")
    return events_store(actor=actor, kind=EventKind.INCIDENT, events=[incident], fields=PAGERDUTY_FIELDS)


def github_receive(*, actor: Actor, event_type: str, payload: Any) -> Received:
    deployment = github_deployment(event_type, payload)
    if deployment is None:
        return ignored("Only deployment_status events in state success, failure or error are used.")
    return events_store(actor=actor, kind=EventKind.DEPLOYMENT, events=[deployment], fields=GITHUB_FIELDS)


# --- Who is sending -----------------------------------------------------------------------


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(*, tool: str, body: bytes, candidates: list[str]) -> bool:
    """Whether any candidate is the HMAC-SHA256 of the raw body under the scope tenant's secret for `tool`."""
    try:
        secret = integration_secret_reveal(tool=tool)
    except SecretUndecryptable:
        logger.exception("The %s webhook secret of %s does not decrypt", tool, current_tenant().slug)
        secret = None
    if secret is None:
        logger.warning("%s webhook for %s refused: no secret is set", tool, current_tenant().slug)
    # Compared against a throwaway secret when none is set, so timing does not tell either.
    expected = hmac_sha256_hex(secret or os.urandom(32).hex(), body).encode()
    matches = [hmac.compare_digest(expected, candidate.strip().encode()) for candidate in candidates]
    return secret is not None and any(matches)


def pagerduty_sender(request: Request, body: bytes) -> Actor:
    """PagerDuty signs with `v1=<hex>`, several comma-separated while a secret is being changed."""
    header = request.headers.get("X-PagerDuty-Signature", "")
    candidates = [part.strip()[3:] for part in header.split(",") if part.strip().startswith("v1=")]
    if not signature_matches(tool=IntegrationTool.PAGERDUTY, body=body, candidates=candidates):
        raise exceptions.AuthenticationFailed(NOT_ACCEPTED)
    return Actor.system("webhook:pagerduty")


def github_sender(request: Request, body: bytes) -> Actor:
    scheme, _, digest = request.headers.get("X-Hub-Signature-256", "").partition("=")
    candidates = [digest] if scheme == "sha256" else []
    if not signature_matches(tool=IntegrationTool.GITHUB, body=body, candidates=candidates):
        raise exceptions.AuthenticationFailed(NOT_ACCEPTED)
    return Actor.system("webhook:github")


def alertmanager_sender(request: Request, body: bytes) -> Actor:
    """An active API key of the tenant in the path, with a role that may send events."""
    scheme, _, raw_key = get_authorization_header(request).decode("latin-1").partition(" ")
    raw_key = raw_key.strip()
    api_key = api_key_find(raw_key) if scheme.lower() == "bearer" and raw_key else None
    if api_key is None or api_key.tenant_id != current_tenant().pk:
        raise exceptions.AuthenticationFailed(NOT_ACCEPTED)
    if api_key.role not in roles.RECORD_EVENTS:
        raise exceptions.PermissionDenied("Your role may not do this.")
    return Actor.of_key(api_key)


# --- Views --------------------------------------------------------------------------------


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
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise exceptions.NotFound()
    return tenant


class WebhookView(APIView):
    """Base of the receivers: the tenant from the path, the sender checked on the raw body, then the payload."""

    # The receivers authenticate the sender themselves, against the tenant in the path.
    authentication_classes: ClassVar[list[type]] = []
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
    202: OpenApiResponse(OpenApiTypes.OBJECT, description="An event type the receiver does not use: nothing stored."),
    400: OpenApiResponse(OpenApiTypes.OBJECT, description="Malformed payload; errors name the tool's fields."),
    401: OpenApiResponse(OpenApiTypes.OBJECT, description="Missing or invalid key or signature; nothing stored."),
    404: OpenApiResponse(OpenApiTypes.OBJECT, description="No such tenant."),
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
        auth=[{"apiKey": []}],
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
        description="GitHub deployment_status webhook: a finished deployment becomes a deployment event. "
        "Content type application/json, or application/x-www-form-urlencoded with the document in `payload`.",
    )
    def post(self, request: Request, slug: str) -> Response:
        return super().post(request, slug)
