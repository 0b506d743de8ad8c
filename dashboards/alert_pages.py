"""The alerts page: every alert of the tenant, with acknowledge and resolve buttons for analysts and up."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from dashboards import alerts
from dashboards.alerts_api import ALERT_HANDLERS
from dashboards.models import Alert, AlertStatus
from governance.ledger import Actor
from governance.pages import tenant_page

STEPS = {"acknowledge": alerts.alert_acknowledge, "resolve": alerts.alert_resolve}


@tenant_page()
@require_http_methods(["GET", "POST"])
def alerts_page(request: HttpRequest) -> HttpResponse:
    can_handle = bool(request.roles & ALERT_HANDLERS)  # type: ignore[attr-defined]
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
                step(alert_id=int(alert_id), actor=Actor.of_user(request.user))  # type: ignore[arg-type]
            except Alert.DoesNotExist:
                raise Http404("No such alert.") from None
            except ValidationError as error:
                errors.extend(message for messages in error.message_dict.values() for message in messages)
            else:
                return redirect("alerts", slug=request.tenant.slug)  # type: ignore[attr-defined]
    status = request.GET.get("status") if request.GET.get("status") in AlertStatus.values else None
    page = Paginator(alerts.alerts_list(status=status), 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": [alerts.alert_as_dict(alert) for alert in page],
        "can_handle": can_handle,
        "statuses": AlertStatus.choices,
        "status": status,
        "errors": errors,
    }
    return render(request, "dashboards/alerts.html", context, status=400 if errors else 200)
