"""Storing a delivery: every one is translated into ordinary events and stored by `events_ingest`.

`events_ingest` is the one way events get in. Incident deliveries are first serialized per
incident and kept from reopening what is already resolved here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from rest_framework import status

from governance.ledger import Actor
from governance.periods import closed_months, is_closed
from governance.stores import database_store
from governance.tenancy import current_tenant
from roi.ingestion import BatchInvalid, events_ingest
from roi.models import Deployment, EventKind, Incident
from roi.webhooks.payloads import (
    ALERTMANAGER_FIELDS,
    GITHUB_FIELDS,
    PAGERDUTY_FIELDS,
    PayloadInvalid,
    Skipped,
    alertmanager_incidents,
    github_deployment,
    pagerduty_incident,
)


@dataclass(frozen=True)
class Received:
    status: int
    data: dict[str, Any]


def ignored(reason: str) -> Received:
    return Received(status.HTTP_202_ACCEPTED, {"stored": False, "detail": reason})


def deliveries_serialized(names: list[str]) -> None:
    """Hold, to the commit, a lock per name of the scope tenant.

    Between a receiver's read of what is stored and its upsert, a delivery about the same
    thing at the same moment would be overwritten (retries, Alertmanager HA pairs and
    parallel senders do overlap). Transaction-level advisory locks, taken in one order,
    serialize only deliveries about the same things on PostgreSQL; ingestion's own locks are
    untouched, so no lock-order cycle with them. On SQLite the transaction holds the
    database's write lock already (`governance.stores.sqlite`).
    """
    tenant_id = current_tenant().pk
    database_store().lock(f"webhook:{tenant_id}:{name}" for name in names)


def incident_deliveries_serialized(incidents: list[dict[str, Any]]) -> None:
    """Serialize deliveries of the same incident: a resolution must not be lost to a "still open" update."""
    deliveries_serialized([incident["external_id"] for incident in incidents])


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


def _as_event(deployment: Deployment, **changes: Any) -> dict[str, Any]:
    """A stored deployment as the events API takes it, with `changes`: re-sent, it replaces itself."""
    event = {
        "external_id": deployment.external_id,
        "department": deployment.department,
        "product": deployment.product,
        "service": deployment.service,
        "deployed_at": deployment.deployed_at.isoformat(),
        "committed_at": deployment.committed_at and deployment.committed_at.isoformat(),
        "failed": deployment.failed,
        "restored_at": deployment.restored_at and deployment.restored_at.isoformat(),
    }
    event.update(changes)
    return {name: value for name, value in event.items() if value is not None}


def keeping_restoration(deployment: dict[str, Any]) -> dict[str, Any]:
    """A re-sent failure keeps the restoration a later success gave it (the tool does not know it)."""
    if not deployment["failed"]:
        return deployment
    stored = Deployment.objects.filter(
        external_id=deployment["external_id"], failed=True, restored_at__isnull=False
    ).first()
    restored_at = None if stored is None else stored.restored_at
    if restored_at is None or restored_at < datetime.fromisoformat(deployment["deployed_at"]):
        return deployment
    return {**deployment, "restored_at": restored_at.isoformat()}


def restoration(deployment: dict[str, Any]) -> dict[str, Any] | None:
    """The failed deployment a success restores, as an upsert with `restored_at`, or None.

    It is the latest deployment of the same service (`<repository>/<environment>`, letter
    case ignored as GitHub ignores it in both names) before the success, if that one failed
    and is not restored yet: its time to restore ends when the success was deployed. A
    closed month is left as it was closed.
    """
    if deployment["failed"]:
        return None
    succeeded_at = datetime.fromisoformat(deployment["deployed_at"])
    previous = (
        Deployment.objects.filter(service__iexact=deployment["service"], deployed_at__lt=succeeded_at)
        .exclude(external_id=deployment["external_id"])
        .order_by("-deployed_at", "-pk")
        .first()
    )
    if previous is None or not previous.failed or previous.restored_at is not None:
        return None
    if is_closed(previous.deployed_at, closed_months()):
        return None
    return _as_event(previous, restored_at=deployment["deployed_at"])


@transaction.atomic
def github_receive(*, actor: Actor, event_type: str, payload: Any) -> Received:
    """Store a finished production deployment (and the restoration it brings); skip anything else.

    Deployments to other environments are not stored at all, rather than stored and
    flagged: every DORA reading (rollups, dashboards, the events API) then counts exactly
    what is stored, and no future query can forget a filter.
    """
    deployment = github_deployment(event_type, payload, production_names=current_tenant().production_environments)
    if isinstance(deployment, Skipped):
        return ignored(deployment.reason)
    deliveries_serialized([f"deployments:{deployment['service'].casefold()}"])
    deployment = keeping_restoration(deployment)
    restored = restoration(deployment)
    return events_store(
        actor=actor,
        kind=EventKind.DEPLOYMENT,
        events=[deployment] if restored is None else [deployment, restored],
        fields=GITHUB_FIELDS,
        # the restored deployment is built from a stored, valid one: any error is the delivery's
        positions=[0] if restored is None else [0, 0],
    )
