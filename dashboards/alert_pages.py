"""The alerts pages: every alert of the tenant, with acknowledge and resolve buttons for analysts
and up; and the escalation settings, which a tenant admin changes and an auditor reads."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from dashboards import alerts, escalations
from dashboards.alerts_api import ALERT_HANDLERS
from dashboards.models import Alert, AlertRule, AlertStatus, Escalation
from governance import roles
from governance.ledger import Actor
from governance.pages import tenant_page
from governance.requests import TenantRequest

STEPS = {"acknowledge": alerts.alert_acknowledge, "resolve": alerts.alert_resolve}


@tenant_page()
@require_http_methods(["GET", "POST"])
def alerts_page(request: TenantRequest) -> HttpResponse:
    can_handle = bool(request.roles & ALERT_HANDLERS)
    errors: list[str] = []
    if request.method == "POST":
        if not can_handle:
            raise PermissionDenied
        step = STEPS.get(request.POST.get("action", ""))
        alert_id = request.POST.get("alert", "")
        if step is None or not alert_id.isdigit():
            errors.append("Choose an alert and acknowledge or resolve.")
        else:
            try:
                step(alert_id=int(alert_id), actor=Actor.of_user(request.user))
            except Alert.DoesNotExist:
                raise Http404("No such alert.") from None
            except ValidationError as error:
                errors.extend(message for messages in error.message_dict.values() for message in messages)
            else:
                return redirect("alerts", slug=request.tenant.slug)
    status = request.GET.get("status") if request.GET.get("status") in AlertStatus.values else None
    page = Paginator(alerts.alerts_list(status=status), 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": [alerts.alert_as_dict(alert) for alert in page],
        "can_handle": can_handle,
        "can_configure": bool(request.roles & (roles.MANAGE_TENANT | roles.AUDIT)),
        "statuses": AlertStatus.choices,
        "status": status,
        "errors": errors,
    }
    return render(request, "dashboards/alerts.html", context, status=400 if errors else 200)


@tenant_page(allowed_roles=roles.MANAGE_TENANT | roles.AUDIT)
@require_http_methods(["GET", "POST"])
def escalations_page(request: TenantRequest) -> HttpResponse:
    """Each rule's escalation and each escalation's recipients: the service behind `PUT config/escalations`.

    The form sends every rule and every escalation, so what is saved is what the page shows.
    """
    can_edit = bool(request.roles & roles.MANAGE_TENANT)
    errors: dict[str, list[str]] = {}
    posted = None
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        posted = {
            "rules": {rule: request.POST.get(f"rules.{rule}", "") for rule in AlertRule.values},
            "recipients": {
                escalation: {
                    "roles": request.POST.getlist(f"recipients.{escalation}.roles"),
                    "users": request.POST.getlist(f"recipients.{escalation}.users"),
                }
                for escalation in Escalation.values
            },
        }
        try:
            escalations.escalation_settings_update(
                actor=Actor.of_user(request.user),
                rules=posted["rules"],
                recipients=posted["recipients"],
            )
        except ValidationError as error:
            errors = error.message_dict
        else:
            return redirect("alert-escalations", slug=request.tenant.slug)
    context = {
        **escalations.escalation_settings_form(
            escalations.escalation_settings_current(), posted if errors else None, errors
        ),
        "can_edit": can_edit,
        "errors": errors,
    }
    return render(request, "dashboards/alert_escalations.html", context, status=400 if errors else 200)
