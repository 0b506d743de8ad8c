"""Reading each tool's payload (Alertmanager, PagerDuty v3, GitHub) into events.

Payloads are read field by field so a malformed one is a 400 naming the tool's own field,
never a 500.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.utils.dateparse import parse_datetime

from governance.text import unstorable_reason
from roi.event_fields import MAX_TEXT, SEVERITIES

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
GITHUB_UNUSED = "Only deployment_status events in state success, failure or error are used."
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
        node = self.data
        walked: list[str] = []
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
        # bool is an int to Python, never to JSON: only a flag may be true or false
        if isinstance(node, bool) != (kind is bool) or not isinstance(node, kind):
            self.fail(name, f"must be {what}")
            return None
        # No database column holds a NUL or a lone surrogate (PostgreSQL: a 500 at the write).
        unstorable = unstorable_reason(node) if isinstance(node, str) else None
        if unstorable:
            self.fail(name, unstorable)
            return None
        return node

    def flag(self, name: str) -> bool | None:
        return self.value(name, bool, "true or false")

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


@dataclass(frozen=True)
class Skipped:
    """A delivery read and deliberately not stored, with the reason the sender is told."""

    reason: str


@dataclass(frozen=True)
class DeploymentTarget:
    """Where a GitHub deployment went: the environment's name and GitHub's flags about it.

    `production` is None when the payload does not carry the flag (older GitHub Enterprise
    Server releases).
    """

    environment: str
    production: bool | None
    transient: bool


def not_production_reason(target: DeploymentTarget, production_names: list[str]) -> str | None:
    """Why a deployment to `target` does not count toward the DORA keys, or None when it does.

    DORA measures what reaches users: a transient environment (a pull request's preview)
    never counts; GitHub's `production_environment: true` does; otherwise the tenant's list
    of production names decides, letter case ignored as GitHub ignores it. The list is
    consulted even when the flag is false, since GitHub sets it true by default only for an
    environment named exactly "production": "prod" or "live" arrive flagged false.
    """
    name = target.environment or "(none)"
    if target.transient:
        return (
            f'Not counted: environment "{name}" is transient (deployment.transient_environment is true); '
            "only production deployments count toward the DORA metrics."
        )
    if target.production:
        return None
    if target.environment.casefold() in {known.casefold() for known in production_names}:
        return None
    flag = "is false" if target.production is False else "is not sent"
    listed = ", ".join(production_names) or "none"
    return (
        f'Not counted: environment "{name}" is not production (deployment.production_environment {flag}, '
        f"and the name is not one of this tenant's production environments: {listed}); "
        "only production deployments count toward the DORA metrics."
    )


def github_deployment(event_type: str, payload: Any, *, production_names: list[str]) -> dict[str, Any] | Skipped:
    """The production deployment a finished `deployment_status` reports (keyed by deployment id),
    or why the delivery is skipped."""
    if event_type != "deployment_status":
        return Skipped(GITHUB_UNUSED)
    reader = Reader(payload)
    state = reader.text("deployment_status.state", required=True)
    reader.check()
    if state not in GITHUB_STATES:
        # pending, queued, in_progress, inactive: not a finished deployment
        return Skipped(GITHUB_UNUSED)
    deployment_id = reader.identifier("deployment.id", required=True)
    repository = reader.text("repository.name", required=True)
    target = DeploymentTarget(
        environment=reader.text("deployment.environment") or reader.text("deployment_status.environment"),
        production=reader.flag("deployment.production_environment"),
        transient=bool(reader.flag("deployment.transient_environment")),
    )
    deployed_at = reader.moment("deployment_status.created_at", required=True)
    # Present when GitHub Actions made the deployment; other deployers do not send it.
    committed_at = reader.moment("workflow_run.head_commit.timestamp")
    reader.check()
    assert deployed_at is not None
    if reason := not_production_reason(target, production_names):
        return Skipped(reason)
    if committed_at is not None and committed_at > deployed_at:
        committed_at = None  # clock skew between the committer's machine and GitHub
    environment = target.environment
    return {
        "external_id": f"github:{deployment_id}",
        "service": (f"{repository}/{environment}" if environment else repository)[:MAX_SERVICE],
        "deployed_at": deployed_at.isoformat(),
        "failed": GITHUB_STATES[state],
        **_optional(committed_at=committed_at and committed_at.isoformat()),
    }
