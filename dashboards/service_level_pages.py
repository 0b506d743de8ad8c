"""The service-levels page: availability and response time against their targets (the API's selector)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from dashboards.forms import ServiceLevelsForm
from dashboards.selectors.service_levels import service_levels as service_levels_of
from governance.pages import tenant_page
from governance.requests import TenantRequest


@tenant_page()
def service_levels(request: TenantRequest) -> HttpResponse:
    """Per month and per service, measured against the KPI targets; a bad `months` is a form error."""
    form = ServiceLevelsForm(request.GET)
    valid = form.is_valid()
    # An invalid request still shows the default window, beside the error that explains it.
    query = form.cleaned_data if valid else {}
    context = {"levels": service_levels_of(**query), "form": form}
    return render(request, "dashboards/service_levels.html", context, status=200 if valid else 400)
