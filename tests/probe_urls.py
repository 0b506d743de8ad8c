"""Test-only routes that report what the database lets a request see."""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response

from bizvalue.urls import urlpatterns as project_urlpatterns
from governance.api import TenantAPIView


def visible_tenants() -> dict[str, object]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tenant_id FROM governance_apikey")
        tenant_ids = sorted(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT current_setting('app.tenant_id', true)")
        setting = cursor.fetchone()[0]
    # The setting is "<id>:<proof>" (governance.rls.tenant_token): report the id it names.
    return {"tenant_ids": tenant_ids, "setting": (setting or "").partition(":")[0]}


class ProbeView(TenantAPIView):
    def get(self, request: Request) -> Response:
        seen = visible_tenants()
        if request.query_params.get("boom"):
            raise RuntimeError("failing mid-view, after reading")
        return Response(seen)


def unscoped_probe(request: HttpRequest) -> JsonResponse:
    return JsonResponse(visible_tenants())


urlpatterns = [
    path("api/v1/probe", ProbeView.as_view()),
    path("probe/unscoped", unscoped_probe),
    *project_urlpatterns,
]
