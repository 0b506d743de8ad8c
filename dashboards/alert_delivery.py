"""Delivering an alert: e-mail to the escalation's recipients, and a signed chat webhook.

Each channel is claimed and counted in one short transaction, sent with no transaction
open (no row lock held across the network), and marked delivered in another, so a retried
or redelivered task sends nothing twice once the first send is recorded. A crash between
the send and the record can repeat a message; the webhook carries `X-BizValue-Delivery`
so a receiver can drop the repeat.

Webhook signature: `X-BizValue-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>`
with the Unix time in `X-BizValue-Timestamp` (docs/operations.md shows how to check it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from dashboards.alerts import AUDIENCE, alert_as_dict
from dashboards.escalations import escalation_recipients, escalation_settings_current, webhook_secret
from dashboards.models import UNRESOLVED, Alert, Escalation
from governance.models import Tenant
from governance.outbound import OutboundRefused, OutboundUnreachable, post_to_checked_address
from governance.secrets import WEAK_STORED_MESSAGE, secret_strength_problem
from governance.tenancy import tenant_scope

EMAIL, WEBHOOK = "email", "webhook"
CHANNELS = (EMAIL, WEBHOOK)
WEBHOOK_TIMEOUT_SECONDS = 10
SIGNATURE_VERSION = "v1"


class WebhookTransientError(ConnectionError):
    """The receiver failed in a way worth retrying: a 5xx, a 429, a timeout or a network error."""


class WebhookRefused(Exception):
    """The receiver refused the message (another 4xx), or the URL is not allowed: retrying will not help."""


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """`v1=` and the hex HMAC-SHA256 of `<timestamp>.<body>` under the tenant's secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def webhook_body(*, alert: Alert, tenant: Tenant) -> bytes:
    """Slack-compatible JSON: `text` for any receiver, `blocks` for Slack, the alert itself for machines."""
    data = alert_as_dict(alert)
    audience = AUDIENCE[Escalation(alert.escalation)]
    text = f"[{tenant.name}] {alert.get_escalation_display()}: {alert.message}"
    figures = f"*{data['figure']}* against a threshold of *{data['target']}* ({alert.unit})"
    body = {
        "text": text,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": f"{alert.get_rule_display()} · {alert.period}"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": f"{alert.message}\n{figures}"}},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"For the {audience} · {tenant.name} · alert #{alert.pk}"}],
            },
        ],
        "bizvalue": {"tenant": tenant.slug, **data},
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def webhook_post(*, url: str, body: bytes, secret: str, delivery_id: str) -> int:
    """POST a signed body; returns the status, raises WebhookTransientError or WebhookRefused.

    The URL is a tenant admin's: governance.outbound connects only to the public address it
    checked and never follows a redirect (a 3xx is refused like a 4xx).
    """
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "BizValue-Alerts/1",
        "X-BizValue-Timestamp": timestamp,
        "X-BizValue-Signature": webhook_signature(secret=secret, timestamp=timestamp, body=body),
        "X-BizValue-Delivery": delivery_id,
    }
    try:
        status = post_to_checked_address(
            url=url,
            content=body,
            headers=headers,
            timeout_seconds=WEBHOOK_TIMEOUT_SECONDS,
            allow_private=settings.ALERT_WEBHOOK_ALLOW_PRIVATE_HOSTS,
        )
    except OutboundRefused as error:
        raise WebhookRefused(str(error)) from error
    except OutboundUnreachable as error:
        raise WebhookTransientError(f"webhook unreachable: {error}") from error
    if status >= 500 or status == 429:
        raise WebhookTransientError(f"webhook answered {status}")
    if status >= 400:
        raise WebhookRefused(f"webhook answered {status}")
    return status


def alert_email_messages(*, alert: Alert, tenant: Tenant, recipients: list[str]) -> list[EmailMessage]:
    """One message per recipient, so recipients do not see each other's addresses."""
    data = alert_as_dict(alert)
    subject = f"[{tenant.name}] {alert.get_escalation_display()}: {alert.get_rule_display()} ({alert.period})"
    link = reverse("alerts", kwargs={"slug": tenant.slug})
    body = (
        f"{alert.message}\n\nMeasured: {data['figure']} ({alert.unit}); threshold: {data['target']}.\n"
        f"Escalation: {alert.get_escalation_display()}, for the {data['audience']}.\n\n"
        f"Acknowledge or resolve it in BizValue, under Alerts ({link}).\n"
    )
    return [EmailMessage(subject=subject, body=body, to=[address]) for address in recipients]


@dataclass
class Claimed:
    alert: Alert
    recipients: list[str]
    url: str
    secret: str | None


def _claim(tenant: Tenant, alert_id: int, channel: str) -> Claimed | None:
    """Count an attempt and gather what to send; None when it was sent already or has nowhere to go."""
    with tenant_scope(tenant):
        alert = Alert.objects.select_for_update().get(pk=alert_id)
        if getattr(alert, f"{_prefix(channel)}_at") is not None:
            return None
        if channel == EMAIL:
            claimed = Claimed(alert, escalation_recipients(escalation=alert.escalation), "", None)
            if not claimed.recipients:
                return None
        else:
            row = escalation_settings_current()
            if not row.webhook_url:
                return None
            claimed = Claimed(alert, [], row.webhook_url, webhook_secret(row))
        setattr(alert, f"{channel}_attempts", getattr(alert, f"{channel}_attempts") + 1)
        alert.save()
        return claimed


def _prefix(channel: str) -> str:
    return "emailed" if channel == EMAIL else "webhook_delivered"


def _mark_delivered(tenant: Tenant, alert_id: int, channel: str) -> None:
    with tenant_scope(tenant):
        alert = Alert.objects.select_for_update().get(pk=alert_id)
        setattr(alert, f"{_prefix(channel)}_at", timezone.now())
        alert.save()


def alert_deliver(*, tenant: Tenant, alert_id: int, channel: str) -> str:
    """Send one alert on one channel unless it went already (or has no recipient); returns what happened."""
    claimed = _claim(tenant, alert_id, channel)
    if claimed is None:
        return "nothing to send"
    if channel == EMAIL:
        messages = alert_email_messages(alert=claimed.alert, tenant=tenant, recipients=claimed.recipients)
        outcome = f"e-mailed {get_connection().send_messages(messages) or 0}"
    else:
        body = webhook_body(alert=claimed.alert, tenant=tenant)
        secret = claimed.secret or ""
        weak = secret_strength_problem(secret)
        if weak is not None:  # stored before the minimum: a guessable signature proves nothing
            raise WebhookRefused(WEAK_STORED_MESSAGE.format(problem=weak))
        outcome = f"posted ({webhook_post(url=claimed.url, body=body, secret=secret, delivery_id=f'alert-{alert_id}')})"
    _mark_delivered(tenant, alert_id, channel)
    return outcome


def deliveries_never_queued(*, older_than: timedelta = timedelta(minutes=5)) -> list[tuple[int, str]]:
    """(alert id, channel) of the scope tenant's unresolved alerts that no task ever tried to send.

    An alert opened while the broker was down has no delivery task; zero attempts after a
    few minutes says so (a queued task counts its attempt within seconds). Retries that ran
    out are not picked up again: their attempts show in the API for a person to follow up.
    """
    cutoff = timezone.now() - older_than
    rows = Alert.objects.filter(status__in=UNRESOLVED, opened_at__lte=cutoff).filter(
        Q(emailed_at__isnull=True, email_attempts=0) | Q(webhook_delivered_at__isnull=True, webhook_attempts=0)
    )
    has_webhook = bool(escalation_settings_current().webhook_url)
    has_recipients: dict[str, bool] = {}  # per escalation: with nobody to tell, there is nothing to retry
    pending = []
    for alert_id, escalation, emailed_at, email_attempts, webhook_at, webhook_attempts in rows.values_list(
        "pk", "escalation", "emailed_at", "email_attempts", "webhook_delivered_at", "webhook_attempts"
    ):
        if escalation not in has_recipients:
            has_recipients[escalation] = bool(escalation_recipients(escalation=escalation))
        if emailed_at is None and email_attempts == 0 and has_recipients[escalation]:
            pending.append((alert_id, EMAIL))
        if webhook_at is None and webhook_attempts == 0 and has_webhook:
            pending.append((alert_id, WEBHOOK))
    return pending


def delivery_state(alert: Alert) -> dict[str, Any]:
    """When each channel delivered the alert, and after how many attempts."""
    return {
        "emailed_at": alert.emailed_at.isoformat() if alert.emailed_at else None,
        "email_attempts": alert.email_attempts,
        "webhook_delivered_at": alert.webhook_delivered_at.isoformat() if alert.webhook_delivered_at else None,
        "webhook_attempts": alert.webhook_attempts,
    }
