"""API of the calculations: one endpoint per engine method, each run recorded in the ledger."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from governance import roles
from governance.api import TENANT_PARAMETER, TenantAPIView, actor_of
from roi import services
from roi.api import engine_errors_as_400, json_object
from roi.engine import METHODS, FinancialFigures
from roi.engine.inputs import probed_schema
from roi.ledger_api import LedgerRecordSerializer


class CalculationView(TenantAPIView):
    """Run one engine method on the tenant's figures; answers 201 with the ledger record."""

    allowed_roles = {"POST": roles.CALCULATE}
    method_name: str = ""

    def post(self, request: Request) -> Response:
        body = json_object(request)
        with engine_errors_as_400():
            record = services.calculation_run(actor=actor_of(request), method=self.method_name, body=body)
        return Response(LedgerRecordSerializer(record).data, status=status.HTTP_201_CREATED)


CALCULATION_PATHS = {
    "roi": "investment_roi",
    "incident-prevention": "incident_cost",
    "automation-value": "automation_value",
    "performance-impact": "performance_impact",
    "customer-experience": "customer_experience",
    "competitive-advantage": "competitive_advantage",
    "value-at-risk": "value_at_risk",
    "availability": "availability_economics",
}


def calculation_request_schema(method: str) -> dict[str, Any]:
    """The body `method` accepts, read off its engine parser (and the figures' one, for assumptions)."""
    spec = METHODS[method]
    figures = FinancialFigures(annual_recurring_revenue=Decimal(0))
    schema = probed_schema(lambda inputs: spec.run(inputs, figures), server_filled=spec.prepare({}))
    assumptions = probed_schema(FinancialFigures.from_mapping)
    assumptions.pop("required", None)  # each one replaces the figure in force
    assumptions["description"] = "What-if figures replacing the financial model's or KPIs' for this run."
    assumptions["nullable"] = True
    schema["properties"]["assumptions"] = assumptions
    return schema


def calculation_view(method: str) -> Any:
    """The view class for one method, documented under its own name."""

    def post(self: CalculationView, request: Request) -> Response:
        return CalculationView.post(self, request)

    documented = extend_schema(
        operation_id=f"calculate_{method}",
        request={"application/json": calculation_request_schema(method)},
        responses={201: LedgerRecordSerializer},
        parameters=[TENANT_PARAMETER],
        description=(
            f"Inputs of `{method}` as flat fields (names as in calculations.md), plus optional "
            '`"assumptions": {<financial model or KPI field>: value}` for a what-if.'
        ),
    )(post)
    return type(
        f"Calculate_{method}",
        (CalculationView,),
        {
            "method_name": method,
            "post": documented,
            "__doc__": f"Run `{method}` (see docs/methodology.md) and record it in the ledger.",
        },
    )
