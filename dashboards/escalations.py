"""Which escalation each alert rule raises, who receives each escalation, and the chat webhook.

Recipients are members of the tenant, chosen by role or by name, resolved when an alert
is delivered: a member who left, or lost the role, stops receiving without anyone
editing the settings. The webhook's signing secret is encrypted at rest with the same keys
and cipher as integration secrets (governance.secrets), bound to the tenant.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils import timezone

from dashboards.models import AlertRule, Escalation, EscalationSettings
from governance import selectors as governance_selectors
from governance.audit import audit_record
from governance.ledger import Actor
from governance.models import AuditKind
from governance.roles import Role
from governance.secrets import (
    MAX_SECRET_LENGTH,
    Reencrypted,
    SecretUndecryptable,
    current_key_id,
    decrypt,
    encrypt,
    secret_strength_check,
)
from governance.tenancy import current_tenant

# Without settings: the CFO is the finance admin; a board review goes to finance and
# tenant admins; executive alerts to tenant admins.
DEFAULT_RECIPIENTS: dict[str, dict[str, list[Any]]] = {
    Escalation.NOTIFY_CFO: {"roles": [Role.FINANCE_ADMIN.value], "users": []},
    Escalation.BOARD_REVIEW: {"roles": [Role.FINANCE_ADMIN.value, Role.TENANT_ADMIN.value], "users": []},
    Escalation.EXECUTIVE_ALERT: {"roles": [Role.TENANT_ADMIN.value], "users": []},
}

# The brief's escalation YAML: value below threshold -> CFO, ROI decline -> board review,
# incident surge -> executive alert. Its siblings follow: ROI below target is the board's
# too, incident prevention below target an executive alert.
DEFAULT_RULE_ESCALATIONS: dict[str, str] = {
    AlertRule.VALUE_BELOW_TARGET: Escalation.NOTIFY_CFO,
    AlertRule.ROI_BELOW_TARGET: Escalation.BOARD_REVIEW,
    AlertRule.ROI_DECLINE: Escalation.BOARD_REVIEW,
    AlertRule.PREVENTION_BELOW_TARGET: Escalation.EXECUTIVE_ALERT,
    AlertRule.INCIDENT_SURGE: Escalation.EXECUTIVE_ALERT,
}


def _secret_context(settings_row: EscalationSettings) -> str:
    return f"alert-webhook:{settings_row.tenant_id}"


def escalation_settings_current() -> EscalationSettings:
    """The scope tenant's settings, or unsaved defaults."""
    found = EscalationSettings.objects.first()
    return found or EscalationSettings(tenant=current_tenant(), recipients=DEFAULT_RECIPIENTS)


def rule_escalations(settings_row: EscalationSettings) -> dict[str, str]:
    """Every rule's escalation for the tenant: its own choice, else the brief's default."""
    return {rule: settings_row.rule_escalations.get(rule, DEFAULT_RULE_ESCALATIONS[rule]) for rule in AlertRule.values}


def recipients_for(settings_row: EscalationSettings, escalation: str) -> dict[str, list[Any]]:
    chosen = settings_row.recipients.get(escalation)
    return chosen if chosen is not None else DEFAULT_RECIPIENTS[Escalation(escalation)]


def escalation_recipients(*, escalation: str) -> list[str]:
    """E-mail addresses of the current members who receive `escalation`, each once, sorted."""
    chosen = recipients_for(escalation_settings_current(), escalation)
    roles, user_ids = set(chosen.get("roles", [])), set(chosen.get("users", []))
    return sorted(
        {
            user.email
            for user, held in governance_selectors.members_of(tenant=current_tenant())
            if user.email and (held & roles or user.pk in user_ids)
        }
    )


def webhook_secret(settings_row: EscalationSettings) -> str | None:
    if not settings_row.webhook_secret_ciphertext:
        return None
    return decrypt(
        settings_row.webhook_secret_ciphertext,
        key_id=settings_row.webhook_secret_key_id,
        context=_secret_context(settings_row),
    )


def escalation_secret_reencrypt() -> Reencrypted:
    """Re-encrypt the scope tenant's webhook secret with the current key (`rotate_encryption_key`)."""
    row = EscalationSettings.objects.exclude(webhook_secret_ciphertext="").first()
    if row is None or row.webhook_secret_key_id == current_key_id():
        return Reencrypted(count=0, failures=[])
    try:
        plaintext = webhook_secret(row) or ""
    except SecretUndecryptable as error:
        return Reencrypted(count=0, failures=[f"alert webhook: {error}"])
    row.webhook_secret_key_id, row.webhook_secret_ciphertext = encrypt(plaintext, context=_secret_context(row))
    row.save(update_fields=["webhook_secret_key_id", "webhook_secret_ciphertext"])
    return Reencrypted(count=1, failures=[])


# The shapes `_validated_recipients` and `_validated_rules` accept, for the API schema
# (which members exist is the one thing they check that a schema cannot say).
_CHOSEN_SCHEMA = {
    "type": "object",
    "properties": {
        "roles": {"type": "array", "items": {"type": "string", "enum": list(Role.values)}},
        "users": {"type": "array", "items": {"type": "string"}, "description": "usernames of members"},
    },
    "additionalProperties": False,
}
RECIPIENTS_SCHEMA = {
    "type": "object",
    "properties": dict.fromkeys(Escalation.values, _CHOSEN_SCHEMA),
    "additionalProperties": False,
}
RULES_SCHEMA = {
    "type": "object",
    "properties": {key: {"type": "string", "enum": list(Escalation.values)} for key in AlertRule.values},
    "additionalProperties": False,
}


def _validated_recipients(recipients: Any, members: dict[str, Any]) -> dict[str, dict[str, list[Any]]]:
    errors: dict[str, list[str]] = {}
    if not isinstance(recipients, dict):
        raise ValidationError({"recipients": ["Must be an object keyed by escalation."]})
    cleaned = {}
    for escalation, chosen in recipients.items():
        where = f"recipients.{escalation}"
        if escalation not in Escalation.values:
            errors[where] = [f"Unknown escalation; choose from {', '.join(Escalation.values)}."]
            continue
        if not isinstance(chosen, dict) or set(chosen) - {"roles", "users"}:
            errors[where] = ['Must be {"roles": [...], "users": [...]}.']
            continue
        roles, users = chosen.get("roles", []), chosen.get("users", [])
        if not isinstance(roles, list) or any(role not in Role.values for role in roles):
            errors[f"{where}.roles"] = [f"Roles are a list of {', '.join(Role.values)}."]
        if not isinstance(users, list) or any(not isinstance(u, str) or u not in members for u in users):
            errors[f"{where}.users"] = ["Users are a list of usernames of this tenant's members."]
        if f"{where}.roles" not in errors and f"{where}.users" not in errors:
            cleaned[escalation] = {"roles": sorted(set(roles)), "users": sorted({members[u].pk for u in users})}
    if errors:
        raise ValidationError(errors)
    return cleaned


def _validated_rules(rules: Any) -> dict[str, str]:
    if not isinstance(rules, dict):
        raise ValidationError({"rules": ["Must be an object keyed by alert rule."]})
    errors: dict[str, list[str]] = {}
    for rule, escalation in rules.items():
        if rule not in AlertRule.values:
            errors[f"rules.{rule}"] = [f"Unknown alert rule; choose from {', '.join(AlertRule.values)}."]
        elif not isinstance(escalation, str) or escalation not in Escalation.values:
            errors[f"rules.{rule}"] = [f"Choose an escalation: {', '.join(Escalation.values)}."]
    if errors:
        raise ValidationError(errors)
    return dict(rules)


def _validated_url(url: Any) -> str:
    if not isinstance(url, str) or len(url) > 500:
        raise ValidationError({"webhook_url": ["Must be a URL of at most 500 characters, or empty."]})
    try:
        parts = urlsplit(url)
        scheme, hostname = parts.scheme, parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        scheme, hostname = "", None
    if url and (scheme not in {"https", "http"} or not hostname):
        raise ValidationError({"webhook_url": ["Must be an http(s) URL, or empty to stop posting."]})
    return url


def escalation_settings_update(
    *,
    actor: Actor,
    recipients: Any = None,
    rules: Any = None,
    webhook_url: Any = None,
    webhook_secret: Any = None,
) -> EscalationSettings:
    """Change which escalation each rule raises, who receives it, and where alerts are posted.

    A None argument keeps the value. The recipients sent replace those escalations'
    choices, the rules sent those rules' escalations; others keep theirs. A changed rule
    applies to alerts opened from then on: an open alert keeps the escalation it was raised
    with. A webhook needs a signing secret; the secret is stored encrypted and never shown.
    """
    row = EscalationSettings.objects.select_for_update().first() or EscalationSettings(
        tenant=current_tenant(), recipients=dict(DEFAULT_RECIPIENTS)
    )
    errors: dict[str, list[str]] = {}
    if recipients is not None:
        members = {user.get_username(): user for user, _ in governance_selectors.members_of(tenant=current_tenant())}
        try:
            row.recipients = {**row.recipients, **_validated_recipients(recipients, members)}
        except ValidationError as error:
            errors.update(error.message_dict)
    if rules is not None:
        try:
            row.rule_escalations = {**row.rule_escalations, **_validated_rules(rules)}
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:  # every field's errors at once, so a form shows each beside its field
        raise ValidationError(errors)
    if webhook_url is not None:
        row.webhook_url = _validated_url(webhook_url)
    secret_changed = webhook_secret is not None
    if secret_changed:
        if not isinstance(webhook_secret, str) or len(webhook_secret) > MAX_SECRET_LENGTH:
            raise ValidationError({"webhook_secret": [f"Must be text of at most {MAX_SECRET_LENGTH} characters."]})
        if webhook_secret.strip():
            secret_strength_check(secret=webhook_secret, field="webhook_secret")
            row.webhook_secret_key_id, row.webhook_secret_ciphertext = encrypt(
                webhook_secret, context=_secret_context(row)
            )
        else:
            row.webhook_secret_key_id, row.webhook_secret_ciphertext = "", ""
    if row.webhook_url and not row.webhook_secret_ciphertext:
        raise ValidationError({"webhook_secret": ["A webhook needs a signing secret."]})
    row.updated_at = timezone.now()
    row.updated_by_actor = actor.label
    row.save()
    if secret_changed:
        audit_record(kind=AuditKind.SECRET_CHANGED, actor=actor.label, detail={"tool": "alert-webhook"})
    return row


def escalation_settings_as_dict(row: EscalationSettings) -> dict[str, Any]:
    """The settings as the API shows them: usernames, and whether a secret is set (never the secret)."""
    members = governance_selectors.members_of(tenant=current_tenant())
    names = {user.pk: user.get_username() for user, _ in members}
    recipients = {}
    for escalation in Escalation.values:
        chosen = recipients_for(row, escalation)
        recipients[escalation] = {
            "roles": list(chosen.get("roles", [])),
            "users": sorted(names[pk] for pk in chosen.get("users", []) if pk in names),
        }
    return {
        "recipients": recipients,
        "rules": rule_escalations(row),
        "webhook_url": row.webhook_url,
        "webhook_secret_set": bool(row.webhook_secret_ciphertext),
        "updated_at": row.updated_at.isoformat() if row.pk else None,
        "updated_by": row.updated_by_actor or None,
    }


def escalation_settings_form(
    row: EscalationSettings,
    posted: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """What the escalations page shows: each rule's escalation and each escalation's recipients.

    The same figures as `GET config/escalations`, with every member to choose from. When a
    form comes back with errors, `posted` (the settings as it sent them) replaces the stored
    ones and each row carries the errors of its own paths, to show beside its fields.
    """
    shown = escalation_settings_as_dict(row)
    if posted is not None:
        shown = {**shown, "recipients": posted["recipients"], "rules": posted["rules"]}
    errors = errors or {}
    rule_labels = dict(AlertRule.choices)
    return {
        "rules": [
            {"rule": rule, "label": rule_labels[rule], "escalation": escalation, "errors": errors.get(f"rules.{rule}")}
            for rule, escalation in shown["rules"].items()
        ],
        "escalations": [
            {
                "escalation": value,
                "label": label,
                **shown["recipients"][value],
                "errors": errors.get(f"recipients.{value}"),
                "role_errors": errors.get(f"recipients.{value}.roles"),
                "user_errors": errors.get(f"recipients.{value}.users"),
            }
            for value, label in Escalation.choices
        ],
        "escalation_choices": Escalation.choices,
        "role_choices": Role.choices,
        "members": [user.get_username() for user, _ in governance_selectors.members_of(tenant=current_tenant())],
        "webhook_url": shown["webhook_url"],
        "webhook_secret_set": shown["webhook_secret_set"],
        "updated_at": shown["updated_at"],
        "updated_by": shown["updated_by"],
    }
